package io.tollgate.tools.plugin;

import io.tollgate.engine.onnx.OnnxModelInspector;
import io.tollgate.engine.spi.EngineException;
import io.tollgate.engine.spi.ModelSignature;
import io.tollgate.guard.PluginCodeRule;
import io.tollgate.guard.PluginVerdict;
import io.tollgate.model.TensorSpec;
import io.tollgate.tools.ExitCodes;
import io.tollgate.tools.ToolException;
import io.tollgate.tools.plugin.PluginCommand.PackSpec;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.jar.JarFile;
import java.util.stream.Collectors;

/**
 * Writes and reads plugin jars for {@code tollgate plugin pack|inspect}. Reads the model's signature through the
 * ONNX engine's exported {@link OnnxModelInspector} (the engine SPI's {@code ModelSignatureInspector}).
 */
final class PluginPacker {
    private PluginPacker() {
    }

    static void pack(PackSpec spec, PrintStream out) throws ToolException, IOException {
        PluginJar jar;
        try {
            jar = new PluginJar(spec.name(), spec.version());
        } catch (IllegalArgumentException e) {
            throw new ToolException(ExitCodes.USAGE, e.getMessage());
        }
        byte[] bytes = read(spec.model(), "--model");
        ModelSignature sig;
        try {
            sig = new OnnxModelInspector().inspect(bytes, spec.model().toString());
        } catch (EngineException e) {
            throw new ToolException(ExitCodes.FAILED, spec.model() + " is not a model ONNX Runtime can load: "
                    + e.getMessage(), e);
        }
        List<String> labels = List.of();
        if (spec.labels() != null) {
            labels = new String(read(spec.labels(), "--labels"), StandardCharsets.UTF_8).lines()
                    .map(String::trim).filter(l -> !l.isEmpty()).collect(Collectors.toList());
        } else if (sig.metadata().containsKey("labels")) {
            labels = Arrays.stream(sig.metadata().get("labels").split(",")).map(String::trim).collect(Collectors.toList());
        }
        int maxBatch = maxBatch(spec.maxBatch(), sig.inputs());
        jar.model("model.onnx", bytes).inputs(sig.inputs()).outputs(sig.outputs()).labels(labels)
                .maxBatchSize(maxBatch).meter(spec.meter()).licenseFeature(spec.licenseFeature());
        jar.writeTo(spec.output());
        out.printf("packed %s %s -> %s (%d bytes)%n", spec.name(), spec.version(), spec.output(),
                Files.size(spec.output()));
        out.printf("  bundle   %s %s%n", jar.symbolicName(), spec.version());
        out.printf("  inputs   %s%n", describe(sig.inputs()));
        out.printf("  outputs  %s%n", describe(sig.outputs()));
        out.printf("  batch    %s%n", maxBatch == 0 ? "none (requests pass tensors as the model declares them)"
                : "up to " + maxBatch);
        out.printf("  labels   %d%n", labels.size());
        out.println("install: copy it into the appliance's plugins/ folder");
    }

    /** {@code --max-batch} checked against the model, or the default: 256 when the model batches, else 0. */
    static int maxBatch(Integer requested, List<TensorSpec> inputs) throws ToolException {
        if (requested == null) {
            return batchable(inputs) ? 256 : 0;
        }
        if (requested < 0) {
            throw new ToolException(ExitCodes.USAGE, "--max-batch must be 0 (no batch dimension) or more");
        }
        if (requested > 0 && !batchable(inputs)) {
            throw new ToolException(ExitCodes.USAGE, "--max-batch " + requested + " needs every input's first "
                    + "dimension to be dynamic, but the model declares " + inputs);
        }
        return requested;
    }

    /** A model whose inputs all start with a dynamic dimension batches. */
    private static boolean batchable(List<TensorSpec> inputs) {
        return !inputs.isEmpty() && inputs.stream().allMatch(s -> s.shape().length > 0 && s.shape()[0] == -1);
    }

    private static String describe(List<TensorSpec> specs) {
        return specs.stream().map(TensorSpec::toString).collect(Collectors.joining(", "));
    }

    private static byte[] read(Path file, String option) throws ToolException, IOException {
        try {
            return Files.readAllBytes(file);
        } catch (NoSuchFileException e) {
            throw new ToolException(ExitCodes.FAILED, option + " " + file + ": no such file");
        }
    }

    /**
     * Prints the manifest's bundle, capability and Tollgate headers, whether the appliance would accept the jar
     * (the plugin guard's rule: model plugins are data only), then the descriptor. A jar the appliance would
     * refuse is a failure (exit 1) with the reason.
     */
    static void inspect(Path file, PrintStream out) throws ToolException, IOException {
        PluginVerdict verdict;
        try (JarFile jar = new JarFile(file.toFile())) {
            if (jar.getManifest() == null) {
                throw new ToolException(file + " has no META-INF/MANIFEST.MF; it is not a plugin bundle");
            }
            for (Map.Entry<Object, Object> e : jar.getManifest().getMainAttributes().entrySet()) {
                String key = e.getKey().toString();
                if (key.startsWith("Bundle-") || key.endsWith("-Capability") || key.startsWith("Tollgate-")) {
                    out.println(key + ": " + e.getValue());
                }
            }
            verdict = PluginCodeRule.check(jar);
            out.println();
            out.println(verdict.passes() ? "data only: the appliance accepts it (" + PluginCodeRule.DOCS + ")"
                    : "refused: " + verdict.reason());
            String descriptor = jar.getManifest().getMainAttributes().getValue("Tollgate-Model");
            var entry = jar.getEntry(descriptor == null ? "TOLLGATE-INF/model.json" : descriptor);
            if (entry == null && verdict.passes()) {
                throw new ToolException(file + " has no descriptor (TOLLGATE-INF/model.json)");
            }
            if (entry != null) {
                try (InputStream in = jar.getInputStream(entry)) {
                    out.println();
                    out.print(new String(in.readAllBytes(), StandardCharsets.UTF_8));
                }
            }
        } catch (NoSuchFileException e) {
            throw new ToolException(ExitCodes.FAILED, file + ": no such file");
        }
        if (!verdict.passes()) {
            throw new ToolException(ExitCodes.FAILED, file + " would be refused: " + verdict.reason());
        }
    }
}
