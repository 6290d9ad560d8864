package io.tollgate.runtime;

import io.tollgate.engine.onnx.internal.OnnxSignatureReader;
import io.tollgate.model.TensorSpec;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.jar.JarFile;
import java.util.stream.Collectors;

/** {@code tollgate plugin pack|inspect}: make and look into model plugin bundles. */
final class PluginCommands {
    private PluginCommands() {
    }

    static int run(List<String> args, PrintStream out, PrintStream err) throws Exception {
        if (args.isEmpty()) {
            throw new UsageException("plugin needs a subcommand: pack or inspect");
        }
        switch (args.get(0)) {
            case "pack":
                return pack(Arguments.parse(args.subList(1, args.size()),
                        Set.of("--model", "--name", "--version", "--labels", "--output", "--max-batch", "--meter",
                                "--license-feature"), Set.of()), out);
            case "inspect":
                return inspect(Arguments.parse(args.subList(1, args.size()), Set.of(), Set.of()), out);
            default:
                throw new UsageException("unknown plugin subcommand '" + args.get(0) + "'; expected pack or inspect");
        }
    }

    private static int pack(Arguments a, PrintStream out) throws Exception {
        Path model = Paths.get(a.require("--model"));
        String name = a.require("--name");
        String version = a.require("--version");
        Path output = Paths.get(a.require("--output"));
        PluginJar jar;
        try {
            jar = new PluginJar(name, version);
        } catch (IllegalArgumentException e) {
            throw new UsageException(e.getMessage());
        }
        byte[] bytes = read(model, "--model");
        OnnxSignatureReader.Signature sig;
        try {
            sig = OnnxSignatureReader.read(bytes);
        } catch (Exception e) {
            throw new CommandException(model + " is not a model ONNX Runtime can load: " + e.getMessage(), e);
        }
        List<String> labels = List.of();
        if (a.get("--labels") != null) {
            labels = new String(read(Paths.get(a.get("--labels")), "--labels"), StandardCharsets.UTF_8).lines()
                    .map(String::trim).filter(l -> !l.isEmpty()).collect(Collectors.toList());
        } else if (sig.metadata().containsKey("labels")) {
            labels = Arrays.stream(sig.metadata().get("labels").split(",")).map(String::trim).collect(Collectors.toList());
        }
        int maxBatch = defaultMaxBatch(sig.inputs());
        if (a.get("--max-batch") != null) {
            try {
                maxBatch = Integer.parseInt(a.get("--max-batch"));
            } catch (NumberFormatException e) {
                throw new UsageException("--max-batch must be a whole number, not '" + a.get("--max-batch") + "'");
            }
            if (maxBatch < 0) {
                throw new UsageException("--max-batch must be 0 (no batch dimension) or more");
            }
            if (maxBatch > 0 && !batchable(sig.inputs())) {
                throw new UsageException("--max-batch " + maxBatch + " needs every input's first dimension to be dynamic, "
                        + "but the model declares " + sig.inputs());
            }
        }
        jar.model("model.onnx", bytes).inputs(sig.inputs()).outputs(sig.outputs()).labels(labels)
                .maxBatchSize(maxBatch).meter(a.get("--meter", "inference"))
                .licenseFeature(a.get("--license-feature", ""));
        jar.writeTo(output);
        out.printf("packed %s %s -> %s (%d bytes)%n", name, version, output, Files.size(output));
        out.printf("  bundle   %s %s%n", jar.symbolicName(), version);
        out.printf("  inputs   %s%n", describe(sig.inputs()));
        out.printf("  outputs  %s%n", describe(sig.outputs()));
        out.printf("  batch    %s%n", maxBatch == 0 ? "none (requests pass tensors as the model declares them)" : "up to " + maxBatch);
        out.printf("  labels   %d%n", labels.size());
        out.println("install: copy it into the appliance's plugins/ folder");
        return 0;
    }

    /** A model whose inputs all start with a dynamic dimension batches; 256 items per request by default. */
    static int defaultMaxBatch(List<TensorSpec> inputs) {
        return batchable(inputs) ? 256 : 0;
    }

    private static boolean batchable(List<TensorSpec> inputs) {
        return !inputs.isEmpty() && inputs.stream().allMatch(s -> s.shape().length > 0 && s.shape()[0] == -1);
    }

    private static String describe(List<TensorSpec> specs) {
        return specs.stream().map(TensorSpec::toString).collect(Collectors.joining(", "));
    }

    private static byte[] read(Path file, String option) throws CommandException, IOException {
        try {
            return Files.readAllBytes(file);
        } catch (NoSuchFileException e) {
            throw new CommandException(option + " " + file + ": no such file");
        }
    }

    private static int inspect(Arguments a, PrintStream out) throws Exception {
        if (a.positional().size() != 1) {
            throw new UsageException("plugin inspect takes one jar file");
        }
        Path file = Paths.get(a.positional().get(0));
        try (JarFile jar = new JarFile(file.toFile())) {
            if (jar.getManifest() == null) {
                throw new CommandException(file + " has no META-INF/MANIFEST.MF; it is not a plugin bundle");
            }
            for (Map.Entry<Object, Object> e : jar.getManifest().getMainAttributes().entrySet()) {
                String key = e.getKey().toString();
                if (key.startsWith("Bundle-") || key.endsWith("-Capability") || key.startsWith("Tollgate-")) {
                    out.println(key + ": " + e.getValue());
                }
            }
            String descriptor = jar.getManifest().getMainAttributes().getValue("Tollgate-Model");
            var entry = jar.getEntry(descriptor == null ? "TOLLGATE-INF/model.json" : descriptor);
            if (entry == null) {
                throw new CommandException(file + " has no descriptor (TOLLGATE-INF/model.json)");
            }
            try (InputStream in = jar.getInputStream(entry)) {
                out.println();
                out.print(new String(in.readAllBytes(), StandardCharsets.UTF_8));
            }
        }
        return 0;
    }
}
