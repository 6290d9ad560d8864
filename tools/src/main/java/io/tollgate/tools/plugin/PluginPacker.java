package io.tollgate.tools.plugin;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import io.tollgate.engine.onnx.OnnxModelInspector;
import io.tollgate.engine.spi.EngineException;
import io.tollgate.engine.spi.ModelSignature;
import io.tollgate.guard.PluginCodeRule;
import io.tollgate.guard.PluginVerdict;
import io.tollgate.model.PluginPaths;
import io.tollgate.model.TensorSpec;
import io.tollgate.tools.ExitCodes;
import io.tollgate.tools.PathValues;
import io.tollgate.tools.ToolException;
import io.tollgate.tools.plugin.PluginCommand.PackSpec;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.jar.JarFile;
import java.util.zip.ZipException;
import java.util.stream.Collectors;

/**
 * Writes and reads plugin jars for {@code tollgate plugin pack|inspect}. Reads the model's signature through the
 * ONNX engine's exported {@link OnnxModelInspector} (the engine SPI's {@code ModelSignatureInspector}).
 */
final class PluginPacker {
    private PluginPacker() {
    }

    static void pack(PackSpec spec, PrintStream out) throws ToolException, IOException {
        pack(spec, null, out);
    }

    /** As above; with {@code key} not null the model file is encrypted with it (issue 10, "Model encryption"). */
    static void pack(PackSpec spec, io.tollgate.licensing.vendor.ModelKeyFile key, PrintStream out)
            throws ToolException, IOException {
        PluginJar jar;
        try {
            jar = new PluginJar(spec.name(), spec.version());
        } catch (IllegalArgumentException e) {
            throw new ToolException(ExitCodes.USAGE, e.getMessage());
        }
        try {
            PluginJar.checkMeter(spec.meter());
        } catch (IllegalArgumentException e) {
            throw new ToolException(ExitCodes.USAGE, "--" + e.getMessage());
        }
        if (Files.isDirectory(spec.output())) {
            throw new ToolException(ExitCodes.USAGE, "--output " + spec.output() + " is a directory; name the jar to "
                    + "write, e.g. " + spec.output().resolve(spec.name() + "-" + spec.version() + ".jar"));
        }
        Path folder = spec.output().toAbsolutePath().getParent();
        if (folder != null && Files.exists(folder) && !Files.isDirectory(folder)) {
            throw new ToolException(ExitCodes.IO_ERROR, "cannot write --output " + spec.output() + ": " + folder
                    + " is a file, not a directory");
        }
        String engine = spec.engine().engine().strip().toLowerCase(java.util.Locale.ROOT);
        String precision = spec.engine().precision().strip().toLowerCase(java.util.Locale.ROOT);
        if (!PluginCommand.EngineChoice.ENGINES.contains(engine)) {
            throw new ToolException(ExitCodes.USAGE, "--engine '" + spec.engine().engine() + "' is not one of "
                    + PluginCommand.EngineChoice.ENGINES);
        }
        if (!io.tollgate.model.PrebuiltEngine.PRECISIONS.contains(precision)) {
            throw new ToolException(ExitCodes.USAGE, "--precision '" + spec.engine().precision() + "' is not one of"
                    + " fp32, fp16, int8");
        }
        if (!precision.equals("fp32") && engine.equals("onnx")) {
            throw new ToolException(ExitCodes.USAGE, "--precision " + precision + " needs --engine tensorrt (the onnx"
                    + " engine runs the model in its own types)");
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
        String scheduling = scheduling(spec.scheduling(), maxBatch, jar);
        jar.model("model.onnx", bytes).inputs(sig.inputs()).outputs(sig.outputs()).labels(labels)
                .maxBatchSize(maxBatch).meter(spec.meter()).licenseFeature(spec.licenseFeature())
                .engine(engine).precision(precision);
        if (key != null) {
            jar.encryptWith(key);
        }
        try {
            jar.writeTo(spec.output());
        } catch (IOException e) {
            throw new ToolException(ExitCodes.IO_ERROR, "cannot write --output " + spec.output() + ": "
                    + PathValues.reason(e), e);
        }
        out.printf("packed %s %s -> %s (%d bytes)%n", spec.name(), spec.version(), spec.output(),
                Files.size(spec.output()));
        out.printf("  bundle   %s %s%n", jar.symbolicName(), spec.version());
        out.printf("  inputs   %s%n", describe(sig.inputs()));
        out.printf("  outputs  %s%n", describe(sig.outputs()));
        out.printf("  batch    %s%n", maxBatch == 0 ? "none (requests pass tensors as the model declares them)"
                : "up to " + maxBatch);
        if (!scheduling.isEmpty()) {
            out.printf("  schedule %s%n", scheduling);
        }
        if (!engine.equals("onnx")) {
            out.printf("  engine   %s, %s (on a box without it: onnx on the CPU)%n", engine, precision);
        }
        out.printf("  labels   %d%n", labels.size());
        if (key != null) {
            out.printf("  encrypted AES-256-GCM, key id %s (the license must carry the key: tollgate-vendor issue"
                    + " --model-key KEY --device-wrap-key wrap-public.pem)%n", key.keyId());
        }
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

    /**
     * Writes the scheduling options into the descriptor (Triton's {@code dynamic_batching} and {@code instance_group})
     * after checking them as the appliance would; returns what to print ("" when none was given).
     */
    static String scheduling(PluginCommand.Scheduling s, int maxBatch, PluginJar jar) throws ToolException {
        List<String> said = new java.util.ArrayList<>();
        if (!s.dynamicBatching() && (!s.preferredBatch().isEmpty() || s.maxQueueDelayUs() != null)) {
            throw new ToolException(ExitCodes.USAGE, "--preferred-batch and --max-queue-delay-us go with"
                    + " --dynamic-batching");
        }
        if (s.dynamicBatching()) {
            if (maxBatch == 0) {
                throw new ToolException(ExitCodes.USAGE, "--dynamic-batching needs a batch dimension, but the plugin"
                        + " has max_batch_size 0 (give --max-batch N, with every input's first dimension dynamic)");
            }
            List<Integer> sizes = new java.util.ArrayList<>(new java.util.TreeSet<>(s.preferredBatch()));
            for (int size : sizes) {
                if (size < 1 || size > maxBatch) {
                    throw new ToolException(ExitCodes.USAGE, "--preferred-batch " + size + " must be 1.." + maxBatch
                            + " (the plugin's max batch)");
                }
            }
            long delay = s.maxQueueDelayUs() == null ? 0 : s.maxQueueDelayUs();
            if (delay < 0) {
                throw new ToolException(ExitCodes.USAGE, "--max-queue-delay-us must be 0 or more microseconds");
            }
            jar.configField("dynamic_batching", "{\"preferred_batch_size\": " + sizes.toString()
                    + ", \"max_queue_delay_microseconds\": " + delay + "}");
            said.add("dynamic batching (preferred " + (sizes.isEmpty() ? "up to " + maxBatch : sizes) + ", max queue"
                    + " delay " + delay + " us)");
        }
        if (s.instances() != null) {
            if (s.instances() < 1 || s.instances() > 64) {
                throw new ToolException(ExitCodes.USAGE, "--instances must be 1..64, not " + s.instances());
            }
            jar.configField("instance_group", "[{\"count\": " + s.instances() + ", \"kind\": \"KIND_CPU\"}]");
            said.add(s.instances() + " instance(s)");
        }
        return String.join(", ", said);
    }

    /** A model whose inputs all start with a dynamic dimension batches. */
    private static boolean batchable(List<TensorSpec> inputs) {
        return !inputs.isEmpty() && inputs.stream().allMatch(s -> s.shape().length > 0 && s.shape()[0] == -1);
    }

    private static String describe(List<TensorSpec> specs) {
        return specs.stream().map(TensorSpec::toString).collect(Collectors.joining(", "));
    }

    /** The file's bytes; a file that is missing or unreadable is {@link ExitCodes#IO_ERROR}, naming option and file. */
    private static byte[] read(Path file, String option) throws ToolException {
        try {
            return Files.readAllBytes(file);
        } catch (IOException e) {
            throw new ToolException(ExitCodes.IO_ERROR, "cannot read " + option + " " + file + ": "
                    + PathValues.reason(e), e);
        }
    }

    /**
     * Prints the manifest's bundle, capability and Tollgate headers, whether the appliance would accept the jar
     * (the plugin guard's rule: model plugins are data only), then the descriptor. A jar that is missing or cannot
     * be read as a jar is {@link ExitCodes#IO_ERROR}, with nothing printed; one that reads but is no plugin (no
     * manifest, no descriptor, a descriptor that is not a JSON object) is {@link ExitCodes#FAILED}, with nothing
     * printed; one the appliance would refuse is printed, then {@link ExitCodes#FAILED} with the reason.
     */
    static void inspect(Path file, PrintStream out) throws ToolException {
        StringBuilder report = new StringBuilder();
        PluginVerdict verdict;
        Optional<String> modelRefusal = Optional.empty();
        try (JarFile jar = new JarFile(file.toFile())) {
            if (jar.getManifest() == null) {
                throw new ToolException(file + " has no META-INF/MANIFEST.MF; it is not a plugin bundle");
            }
            for (Map.Entry<Object, Object> e : jar.getManifest().getMainAttributes().entrySet()) {
                String key = e.getKey().toString();
                if (key.startsWith("Bundle-") || key.endsWith("-Capability") || key.startsWith("Tollgate-")) {
                    report.append(key).append(": ").append(e.getValue()).append('\n');
                }
            }
            verdict = PluginCodeRule.check(jar);
            String descriptor = jar.getManifest().getMainAttributes().getValue("Tollgate-Model");
            String path = descriptor == null ? "TOLLGATE-INF/model.json" : descriptor;
            var entry = jar.getEntry(path);
            Optional<String> pipeline = Optional.empty();
            if (entry != null) {
                try (InputStream in = jar.getInputStream(entry)) {
                    pipeline = pipeline(jar, path, in.readAllBytes());
                }
            }
            if (pipeline.isPresent() && !verdict.code().isEmpty()) {
                // a capability plugin carries code by design (issue 13): the license decides, not the rule
                report.append('\n').append("carries code (a capability plugin): the appliance accepts it only when a"
                        + " trusted vendor signed it and a license with allow_code covers it (docs/licensing.md);"
                        + " the code: ").append(String.join(", ", verdict.code())).append('\n');
                verdict = new PluginVerdict(verdict.modelPlugin(), List.of(), verdict.declarations());
                if (!verdict.passes()) {
                    report.append("refused: ").append(verdict.reason()).append('\n');
                }
            } else {
                report.append('\n').append(verdict.passes()
                        ? "data only: the appliance accepts it (" + PluginCodeRule.DOCS + ")"
                        : "refused: " + verdict.reason()).append('\n');
            }
            pipeline.ifPresent(text -> report.append(text));
            if (entry == null && verdict.passes()) {
                throw new ToolException(file + " has no descriptor (" + path + ")");
            }
            if (entry != null) {
                byte[] json;
                try (InputStream in = jar.getInputStream(entry)) {
                    json = in.readAllBytes();
                }
                if (verdict.passes()) {
                    checkDescriptor(file, path, json);
                    modelRefusal = pathRefusal(path, json);
                    if (modelRefusal.isEmpty()) {
                        modelRefusal = onnxModelRefusal(jar, path, json);
                    }
                }
                report.append('\n').append(new String(json, StandardCharsets.UTF_8));
            }
            modelRefusal.ifPresent(why -> report.append("\nrefused: ").append(why).append('\n'));
        } catch (ZipException e) {
            throw new ToolException(ExitCodes.IO_ERROR, file + " is not a jar (" + e.getMessage() + ")", e);
        } catch (IOException e) {
            throw new ToolException(ExitCodes.IO_ERROR, "cannot read " + file + ": " + PathValues.reason(e), e);
        }
        out.print(report);
        if (!verdict.passes()) {
            throw new ToolException(ExitCodes.FAILED, file + " would be refused: " + verdict.reason());
        }
        if (modelRefusal.isPresent()) {
            throw new ToolException(ExitCodes.FAILED, file + " would be refused: " + modelRefusal.get());
        }
    }

    /**
     * Why the ONNX engine would refuse the model an {@code onnx} descriptor names (it keeps tensor data in other
     * files: docs/plugins.md, "A model is data too"), or empty: the same check as the engine's, without ONNX
     * Runtime. A missing model file is left to the appliance's own message.
     */
    private static Optional<String> onnxModelRefusal(JarFile jar, String descriptorPath, byte[] json) throws IOException {
        Map<String, String> fields = topLevelStrings(json);
        String engine = fields.getOrDefault("engine", fields.get("platform"));
        String model = fields.get("file");
        if (!OnnxModelInspector.ENGINE.equals(engine) || model == null || hasTopLevelField(json, "encryption")) {
            // an encrypted model is ciphertext here: the appliance checks the model once its license opened it
            return Optional.empty();
        }
        int slash = descriptorPath.lastIndexOf('/');
        String entryPath = slash < 0 ? model : descriptorPath.substring(0, slash + 1) + model;
        var entry = jar.getEntry(entryPath);
        if (entry == null) {
            return Optional.empty();
        }
        try (InputStream in = jar.getInputStream(entry)) {
            return OnnxModelInspector.refusal(in.readAllBytes()).map(why -> "model " + entryPath + " " + why);
        }
    }

    /**
     * Why the appliance would refuse a path the descriptor names (field {@code file} or {@code labels_file}) that
     * leaves the plugin, in the appliance's words (its rule, {@link PluginPaths}), or empty. A blank or missing field
     * is left to the appliance's own message.
     */
    private static Optional<String> pathRefusal(String descriptorPath, byte[] json) throws IOException {
        Map<String, String> fields = topLevelStrings(json);
        int slash = descriptorPath.lastIndexOf('/');
        String folder = slash < 0 ? "" : descriptorPath.substring(0, slash + 1);
        for (String field : List.of("file", "labels_file")) {
            String value = fields.getOrDefault(field, "").trim();
            if (!value.isEmpty() && !PluginPaths.isInside(value)) {
                return Optional.of(descriptorPath + ": field '" + field + "' is '" + value + "'; expected "
                        + PluginPaths.expected(folder));
            }
        }
        return Optional.empty();
    }

    /** Whether the descriptor has this top-level field. */
    private static boolean hasTopLevelField(byte[] json, String field) throws IOException {
        try (JsonParser p = new JsonFactory().createParser(json)) {
            p.nextToken();
            while (p.nextToken() == JsonToken.FIELD_NAME) {
                if (p.currentName().equals(field)) {
                    return true;
                }
                p.nextToken();
                p.skipChildren();
            }
        }
        return false;
    }

    /** The descriptor's top-level fields that are strings (the descriptor is known to be one JSON object). */
    private static Map<String, String> topLevelStrings(byte[] json) throws IOException {
        Map<String, String> fields = new java.util.HashMap<>();
        try (JsonParser p = new JsonFactory().createParser(json)) {
            p.nextToken();
            while (p.nextToken() == JsonToken.FIELD_NAME) {
                String name = p.currentName();
                if (p.nextToken() == JsonToken.VALUE_STRING) {
                    fields.put(name, p.getText());
                } else {
                    p.skipChildren();
                }
            }
        }
        return fields;
    }

    /** The descriptor must be one JSON object (what it holds, the appliance checks when it loads the plugin). */
    /**
     * The descriptor's {@code pipeline} (issue 13) as the report shows it: the class and each stage with its entry and
     * whether the plugin holds it and the class; empty for a plain model (or a descriptor that does not parse: the
     * checks below say why).
     */
    private static Optional<String> pipeline(JarFile jar, String descriptorPath, byte[] json) {
        com.fasterxml.jackson.databind.JsonNode p;
        try {
            p = new com.fasterxml.jackson.databind.ObjectMapper().readTree(json).get("pipeline");
        } catch (IOException | RuntimeException e) {
            return Optional.empty();
        }
        if (p == null || !p.isObject()) {
            return Optional.empty();
        }
        int slash = descriptorPath.lastIndexOf('/');
        String folder = slash < 0 ? "" : descriptorPath.substring(0, slash + 1);
        String className = p.path("class").asText("");
        StringBuilder b = new StringBuilder("pipeline: class ").append(className);
        b.append(jar.getEntry(className.replace('.', '/') + ".class") != null ? " (in the plugin)"
                : " (NOT in the plugin: the appliance would fail it)").append('\n');
        for (Map.Entry<String, com.fasterxml.jackson.databind.JsonNode> s : p.path("stages").properties()) {
            String file = s.getValue().asText("");
            boolean present = PluginPaths.isInside(file) && jar.getEntry(folder + file) != null;
            b.append("  stage ").append(s.getKey()).append(": ").append(folder).append(file)
                    .append(present ? "" : " (missing)").append('\n');
        }
        return Optional.of(b.toString());
    }

    private static void checkDescriptor(Path file, String path, byte[] json) throws ToolException {
        try (JsonParser p = new JsonFactory().createParser(json)) {
            if (p.nextToken() != JsonToken.START_OBJECT) {
                throw new ToolException(file + ": its descriptor " + path + " is malformed: not a JSON object");
            }
            p.skipChildren();
            if (p.nextToken() != null) {
                throw new ToolException(file + ": its descriptor " + path + " is malformed: content after the object"
                        + " at line " + p.currentLocation().getLineNr());
            }
        } catch (JsonProcessingException e) {
            throw new ToolException(file + ": its descriptor " + path + " is malformed: " + e.getOriginalMessage()
                    + " at line " + e.getLocation().getLineNr() + ", column " + e.getLocation().getColumnNr());
        } catch (IOException e) {
            throw new ToolException(file + ": its descriptor " + path + " cannot be read: " + e.getMessage());
        }
    }
}
