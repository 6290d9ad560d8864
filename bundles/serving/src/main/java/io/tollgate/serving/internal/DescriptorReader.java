package io.tollgate.serving.internal;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.tollgate.model.DataType;
import io.tollgate.model.ModelDescriptor;
import io.tollgate.model.ModelNames;
import io.tollgate.model.PluginPaths;
import io.tollgate.model.TensorSpec;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.osgi.framework.Version;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reads a plugin's descriptor ({@code TOLLGATE-INF/model.json} unless its {@code Tollgate-Model}
 * header names another) into a {@link ModelDescriptor}, and the files it names. Paths in the
 * descriptor are relative to the descriptor's folder. Every refusal is a {@link PluginException}
 * naming the plugin, the file, the field, the value found and what was expected.
 */
final class DescriptorReader {
    private static final Logger LOG = LoggerFactory.getLogger(DescriptorReader.class);

    private static final ObjectMapper JSON = new ObjectMapper().enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION);
    private static final Set<String> FIELDS = Set.of("name", "version", "platform", "engine", "file",
            "max_batch_size", "inputs", "outputs", "labels", "labels_file", "meter", "license_feature",
            "parameters", "dynamic_batching", "instance_group", "version_policy", "default_model_version",
            "encryption", "precision", "engines", "pipeline", "model_warmup");
    private static final Set<String> PIPELINE_FIELDS = Set.of("class", "stages");
    private static final Set<String> ENGINE_FIELDS = Set.of("profile", "file", "precision", "tensorrt");
    private static final Set<String> TENSOR_FIELDS = Set.of("name", "datatype", "shape");

    private DescriptorReader() {
    }

    /**
     * A descriptor with its model configuration layer ({@link ModelConfigs#descriptorLayer}: {@code max_batch_size},
     * {@code dynamic_batching}, {@code instance_group}, {@code version_policy}, {@code default_model_version}).
     */
    record Described(ModelDescriptor descriptor, JsonNode configLayer) {
    }

    /** Reads and checks the descriptor of {@code source}, including its labels file. */
    static ModelDescriptor read(PluginSource source) throws PluginException {
        return describe(source).descriptor();
    }

    /** Reads and checks the descriptor of {@code source} and its model configuration fields. */
    static Described describe(PluginSource source) throws PluginException {
        String path = source.descriptorPath();
        byte[] bytes = readEntry(source, path, path + " is missing; a model plugin must contain it"
                + " (or name another path in its Tollgate-Model header)");
        JsonNode root;
        try {
            root = JSON.readTree(bytes);
        } catch (JsonProcessingException e) {
            JsonLocation at = e.getLocation();
            String where = at == null ? "" : " at line " + at.getLineNr() + ", column " + at.getColumnNr();
            throw new PluginException(source.label() + ": " + path + " is not valid JSON" + where + ": "
                    + e.getOriginalMessage(), e);
        } catch (IOException e) {
            throw new PluginException(source.label() + ": " + path + " cannot be parsed: " + e.getMessage(), e);
        }
        ModelDescriptor descriptor = new Fields(source, path).descriptor(root);
        JsonNode layer = ModelConfigs.descriptorLayer(root);
        try {
            ModelConfigs.checkDescriptorLayer(layer);
        } catch (ModelConfigs.Fault e) {
            throw new PluginException(source.label() + ": " + path + ": " + e.getMessage(), e);
        }
        return new Described(descriptor, layer);
    }

    /**
     * The descriptor's {@code encryption} object (docs/plugins.md, "Encrypted models"): {@code {"scheme":
     * "AES-256-GCM", "key_id": "..."}}, or empty when the model file is in clear. The scheme is not checked here
     * ({@link ModelDecryption} refuses one it does not know, with its refusal's words).
     */
    static java.util.Optional<Encryption> encryption(PluginSource source) throws PluginException {
        String path = source.descriptorPath();
        byte[] bytes = readEntry(source, path, path + " is missing");
        JsonNode e;
        try {
            e = JSON.readTree(bytes).get("encryption");
        } catch (IOException ex) {
            throw new PluginException(source.label() + ": " + path + " cannot be parsed: " + ex.getMessage(), ex);
        }
        if (e == null || e.isNull()) {
            return java.util.Optional.empty();
        }
        if (!e.isObject() || !e.path("scheme").isTextual() || !e.path("key_id").isTextual()
                || e.path("key_id").asText().isEmpty() || e.size() != 2) {
            throw new PluginException(source.label() + ": " + path + ": field 'encryption' must be"
                    + " {\"scheme\": \"AES-256-GCM\", \"key_id\": \"<the key id>\"} but is " + describe(e));
        }
        return java.util.Optional.of(new Encryption(e.path("scheme").asText(), e.path("key_id").asText()));
    }

    /** The descriptor's {@code encryption}: the scheme and the key id of the model file. */
    record Encryption(String scheme, String keyId) {
    }

    /** Reads the model file the descriptor names. */
    static byte[] readModelFile(PluginSource source, ModelDescriptor descriptor) throws PluginException {
        return readModelFile(source, descriptor, ServingSettings.MAX_MODEL_BYTES_LIMIT);
    }

    /**
     * Reads the model file the descriptor names, refusing one that inflates to more than {@code maxBytes}
     * ({@code max.model.bytes}).
     */
    static byte[] readModelFile(PluginSource source, ModelDescriptor descriptor, long maxBytes) throws PluginException {
        String path = entryPath(source.descriptorPath(), descriptor.file());
        byte[] bytes;
        try {
            bytes = source.read(path, maxBytes);
        } catch (PluginSource.TooLargeException e) {
            throw new PluginException(source.label() + ": model file " + path + " inflates to more than "
                    + e.limit() + " bytes, the limit max.model.bytes of io.tollgate.serving (a zip bomb, or a model"
                    + " larger than the appliance accepts: raise max.model.bytes in conf/io.tollgate.serving.cfg"
                    + " if it is genuine)", e);
        } catch (IOException | RuntimeException e) {
            throw new PluginException(source.label() + ": " + path + " cannot be read: " + e, e);
        }
        if (bytes == null) {
            throw new PluginException(source.label() + ": model file " + path + " (field 'file' of "
                    + source.descriptorPath() + ") is missing from the plugin");
        }
        return bytes;
    }

    /** The entry path of {@code relative}, a path given inside the descriptor at {@code descriptorPath}. */
    static String entryPath(String descriptorPath, String relative) {
        int slash = descriptorPath.lastIndexOf('/');
        return slash < 0 ? relative : descriptorPath.substring(0, slash + 1) + relative;
    }

    /**
     * The most bytes the descriptor or the labels file may inflate to: 4 MiB is room for a million short labels,
     * and a plugin whose small entry inflates to gigabytes (a zip bomb in {@code labels.txt}) is refused as it
     * inflates instead of taking the heap (and with it any thread that allocates next).
     */
    static final long MAX_SMALL_ENTRY_BYTES = 4L * 1024 * 1024;

    private static byte[] readEntry(PluginSource source, String path, String missing) throws PluginException {
        byte[] bytes;
        try {
            bytes = source.read(path, MAX_SMALL_ENTRY_BYTES);
        } catch (PluginSource.TooLargeException e) {
            throw new PluginException(source.label() + ": " + path + " inflates to more than " + e.limit()
                    + " bytes; a descriptor or labels file is never that large (a zip bomb?)", e);
        } catch (IOException | RuntimeException e) {
            throw new PluginException(source.label() + ": " + path + " cannot be read: " + e, e);
        }
        if (bytes == null) {
            throw new PluginException(source.label() + ": " + missing);
        }
        return bytes;
    }

    /** The checks on the fields of one descriptor, with the context every message needs. */
    private static final class Fields {
        private final PluginSource source;
        private final String path;

        Fields(PluginSource source, String path) {
            this.source = source;
            this.path = path;
        }

        ModelDescriptor descriptor(JsonNode root) throws PluginException {
            if (root == null || root.isMissingNode() || !root.isObject()) {
                throw new PluginException(source.label() + ": " + path + " must hold a JSON object such as"
                        + " {\"name\":\"fashion-mnist\",\"version\":\"1.0.0\",\"platform\":\"onnx\",\"file\":\"model.onnx\"}"
                        + " but holds " + describe(root));
            }
            warnUnknown(root, FIELDS, "");
            String name = requiredString(root, "name");
            java.util.Optional<String> badName = ModelNames.problem(name);
            if (badName.isPresent()) {
                throw fault("name", root.get("name"), ModelNames.RULE + " (the name " + badName.get() + ")");
            }
            String version = version(root);
            String platform = requiredString(root, "platform");
            String engine = optionalString(root, "engine", platform);
            io.tollgate.model.PipelineSpec pipeline = pipeline(root);
            String file = pipeline != null && !root.hasNonNull("file")
                    ? pipeline.stages().values().iterator().next() : relativePath(root, "file", true);
            int maxBatchSize = maxBatchSize(root);
            List<TensorSpec> inputs = tensors(root, "inputs");
            List<TensorSpec> outputs = tensors(root, "outputs");
            if (pipeline != null) {
                checkPipelineInterface(root, maxBatchSize, inputs, outputs);
            }
            List<String> labels = labels(root);
            String meter = optionalString(root, "meter", "inference");
            String licenseFeature = optionalString(root, "license_feature", "");
            Map<String, String> parameters = parameters(root);
            String precision = precision(root, "precision", "precision", "fp32");
            List<io.tollgate.model.PrebuiltEngine> engines = prebuiltEngines(root);
            checkCapability(name, version);
            return new ModelDescriptor(name, version, platform, engine, file, inputs, outputs, maxBatchSize,
                    labels, meter, licenseFeature, parameters, precision, engines, pipeline);
        }

        /**
         * {@code pipeline}: {@code {"class": "io.acme.ocr.OcrPipeline", "stages": {"det": "models/det.onnx"}}}, or
         * null when absent. Each stage path follows the rule of {@code file} and must exist in the plugin.
         */
        private io.tollgate.model.PipelineSpec pipeline(JsonNode root) throws PluginException {
            JsonNode n = root.get("pipeline");
            if (n == null || n.isNull()) {
                return null;
            }
            String example = "an object {\"class\": \"io.acme.ocr.OcrPipeline\", \"stages\": {\"det\":"
                    + " \"models/det.onnx\"}}";
            if (!n.isObject()) {
                throw fault("pipeline", n, example);
            }
            warnUnknown(n, PIPELINE_FIELDS, "pipeline.");
            String className = requiredString(n, "class", "pipeline.class");
            if (!className.matches("([\\p{L}_$][\\p{L}\\p{N}_$]*\\.)*[\\p{L}_$][\\p{L}\\p{N}_$]*")) {
                throw fault("pipeline.class", n.get("class"), "a fully qualified Java class name, e.g."
                        + " \"io.acme.ocr.OcrPipeline\"");
            }
            JsonNode stages = n.get("stages");
            String stagesExpected = "an object of stage name to model file, e.g. {\"det\": \"models/det.onnx\"}"
                    + " (at least one stage)";
            if (stages == null || stages.isNull()) {
                throw missing("pipeline.stages", stagesExpected);
            }
            if (!stages.isObject() || stages.isEmpty()) {
                throw fault("pipeline.stages", stages, stagesExpected);
            }
            Map<String, String> files = new LinkedHashMap<>();
            for (Map.Entry<String, JsonNode> e : stages.properties()) {
                String at = "pipeline.stages." + printable(e.getKey());
                if (!e.getKey().matches("[A-Za-z0-9_.-]{1,64}")) {
                    throw new PluginException(source.label() + ": " + path + ": field 'pipeline.stages' has a stage"
                            + " named '" + printable(e.getKey()) + "'; expected 1-64 characters of A-Z a-z 0-9 _ . -");
                }
                JsonNode v = e.getValue();
                if (v == null || !v.isTextual() || !PluginPaths.isInside(v.textValue())) {
                    throw fault(at, v, PluginPaths.expected(entryPath(path, "")));
                }
                String entry = entryPath(path, v.textValue());
                if (!exists(entry)) {
                    throw new PluginException(source.label() + ": model file " + entry + " (field '" + at + "' of "
                            + path + ") is missing from the plugin");
                }
                files.put(e.getKey(), v.textValue());
            }
            return new io.tollgate.model.PipelineSpec(className, files);
        }

        /** A pipeline states its interface and batches its own stages. */
        private void checkPipelineInterface(JsonNode root, int maxBatchSize, List<TensorSpec> inputs,
                                            List<TensorSpec> outputs) throws PluginException {
            if (maxBatchSize > 0) {
                throw fault("max_batch_size", root.get("max_batch_size"), "0 for a pipeline (a pipeline batches its"
                        + " own stages; serving does not merge its requests)");
            }
            JsonNode batching = root.get("dynamic_batching");
            if (batching != null && !batching.isNull()) {
                throw fault("dynamic_batching", batching, "no 'dynamic_batching' for a pipeline (a pipeline batches"
                        + " its own stages; serving does not merge its requests)");
            }
            if (root.hasNonNull("encryption")) {
                throw fault("encryption", root.get("encryption"), "no 'encryption' for a pipeline (encrypted stage"
                        + " models are not supported yet)");
            }
            if (inputs.isEmpty()) {
                throw missing("inputs", "the pipeline's inputs as clients send them, e.g. [{\"name\": \"image\","
                        + " \"datatype\": \"BYTES\", \"shape\": [-1]}] (a pipeline cannot take them from a model)");
            }
            if (outputs.isEmpty()) {
                throw missing("outputs", "the pipeline's outputs as clients get them, e.g. [{\"name\": \"text\","
                        + " \"datatype\": \"BYTES\", \"shape\": [-1]}] (a pipeline cannot take them from a model)");
            }
        }

        private boolean exists(String entry) throws PluginException {
            try {
                // only whether it is there: a stage model is read (bounded) when it loads
                return source.exists(entry);
            } catch (IOException | RuntimeException e) {
                throw new PluginException(source.label() + ": " + entry + " cannot be read: " + e, e);
            }
        }

        private String version(JsonNode root) throws PluginException {
            String text = requiredString(root, "version");
            try {
                return Version.parseVersion(text).toString();
            } catch (IllegalArgumentException e) {
                throw fault("version", root.get("version"), "major.minor.micro with an optional .qualifier,"
                        + " e.g. \"1.0.0\"");
            }
        }

        private void checkCapability(String name, String version) throws PluginException {
            String capName = source.declaredModel();
            String capVersion = source.declaredModelVersion();
            boolean nameDiffers = capName != null && !capName.equals(name);
            boolean versionDiffers = capVersion != null && !sameVersion(capVersion, version);
            if (nameDiffers || versionDiffers) {
                throw new PluginException(source.label() + ": " + path + " describes model '" + name + "' " + version
                        + " but the bundle's tollgate.model capability declares '" + printable(String.valueOf(capName)) + "' " + printable(String.valueOf(capVersion))
                        + "; make the Provide-Capability header and the descriptor agree");
            }
        }

        private static boolean sameVersion(String a, String b) {
            try {
                return Version.parseVersion(a).equals(Version.parseVersion(b));
            } catch (IllegalArgumentException e) {
                return a.equals(b);
            }
        }

        private int maxBatchSize(JsonNode root) throws PluginException {
            JsonNode n = root.get("max_batch_size");
            if (n == null || n.isNull()) {
                return 0;
            }
            if (!n.isIntegralNumber() || !n.canConvertToInt() || n.intValue() < 0) {
                throw fault("max_batch_size", n, "a whole number >= 0 (0 = the model has no batch dimension)");
            }
            return n.intValue();
        }

        private List<TensorSpec> tensors(JsonNode root, String field) throws PluginException {
            JsonNode n = root.get(field);
            if (n == null || n.isNull()) {
                return List.of();
            }
            if (!n.isArray()) {
                throw fault(field, n, "an array of {\"name\":..., \"datatype\":..., \"shape\":[...]}");
            }
            List<TensorSpec> specs = new ArrayList<>(n.size());
            Set<String> names = new LinkedHashSet<>();
            for (int i = 0; i < n.size(); i++) {
                String at = field + "[" + i + "]";
                JsonNode t = n.get(i);
                if (!t.isObject()) {
                    throw fault(at, t, "an object {\"name\":..., \"datatype\":..., \"shape\":[...]}");
                }
                warnUnknown(t, TENSOR_FIELDS, at + ".");
                String name = requiredString(t, "name", at + ".name");
                if (!names.add(name)) {
                    throw fault(at + ".name", t.get("name"), "a name not used by another entry of '" + field + "'");
                }
                DataType type = datatype(t, at + ".datatype");
                long[] shape = shape(t.get("shape"), at + ".shape");
                specs.add(new TensorSpec(name, type, shape));
            }
            return specs;
        }

        private DataType datatype(JsonNode tensor, String field) throws PluginException {
            JsonNode n = tensor.get("datatype");
            String expected = "one of " + Arrays.toString(DataType.values());
            if (n == null || n.isNull()) {
                throw missing(field, expected);
            }
            if (!n.isTextual()) {
                throw fault(field, n, expected);
            }
            try {
                return DataType.parse(n.textValue());
            } catch (IllegalArgumentException e) {
                throw fault(field, n, expected);
            }
        }

        private long[] shape(JsonNode n, String field) throws PluginException {
            String expected = "an array of dimensions, each a size >= 0 or -1 for a dynamic one,"
                    + " e.g. [-1,1,28,28]";
            if (n == null || n.isNull()) {
                throw missing(field, expected);
            }
            if (!n.isArray()) {
                throw fault(field, n, expected);
            }
            long[] shape = new long[n.size()];
            for (int i = 0; i < shape.length; i++) {
                JsonNode d = n.get(i);
                if (!d.isIntegralNumber() || !d.canConvertToLong() || d.longValue() < -1) {
                    throw fault(field + "[" + i + "]", d, "a size >= 0 or -1 for a dynamic dimension");
                }
                shape[i] = d.longValue();
            }
            return shape;
        }

        private List<String> labels(JsonNode root) throws PluginException {
            JsonNode inline = root.get("labels");
            JsonNode file = root.get("labels_file");
            boolean hasInline = inline != null && !inline.isNull();
            boolean hasFile = file != null && !file.isNull();
            if (hasInline && hasFile) {
                throw new PluginException(source.label() + ": " + path + ": fields 'labels' and 'labels_file' are"
                        + " both given; give one of them");
            }
            if (hasInline) {
                if (!inline.isArray()) {
                    throw fault("labels", inline, "an array of strings");
                }
                List<String> labels = new ArrayList<>(inline.size());
                for (int i = 0; i < inline.size(); i++) {
                    JsonNode l = inline.get(i);
                    if (!l.isTextual()) {
                        throw fault("labels[" + i + "]", l, "a string");
                    }
                    labels.add(l.textValue());
                }
                return labels;
            }
            if (hasFile) {
                String relative = relativePath(root, "labels_file", false);
                String entry = entryPath(path, relative);
                byte[] bytes = readEntry(source, entry, "labels file " + entry + " (field 'labels_file' of " + path
                        + ") is missing from the plugin");
                return parseLabels(bytes);
            }
            return List.of();
        }

        private Map<String, String> parameters(JsonNode root) throws PluginException {
            JsonNode n = root.get("parameters");
            if (n == null || n.isNull()) {
                return Map.of();
            }
            if (!n.isObject()) {
                throw fault("parameters", n, "an object of string values, e.g. {\"intra_op_threads\":\"1\"}");
            }
            Map<String, String> parameters = new LinkedHashMap<>();
            for (Map.Entry<String, JsonNode> e : n.properties()) {
                JsonNode v = e.getValue();
                if (!v.isValueNode() || v.isNull()) {
                    throw fault("parameters." + e.getKey(), v, "a string, number or boolean");
                }
                parameters.put(e.getKey(), v.asText());
            }
            return parameters;
        }

        private String precision(JsonNode node, String key, String field, String fallback) throws PluginException {
            JsonNode n = node.get(key);
            if (n != null && !n.isNull() && !n.isTextual()) {
                throw fault(field, n, "one of \"fp32\", \"fp16\", \"int8\"");
            }
            String value = optionalString(node, key, fallback).toLowerCase(java.util.Locale.ROOT);
            if (!io.tollgate.model.PrebuiltEngine.PRECISIONS.contains(value)) {
                throw fault(field, node.get(key), "one of \"fp32\", \"fp16\", \"int8\"");
            }
            return value;
        }

        /** {@code engines}: serialized engines per firmware profile (issue 12), each with all four fields. */
        private List<io.tollgate.model.PrebuiltEngine> prebuiltEngines(JsonNode root) throws PluginException {
            JsonNode n = root.get("engines");
            if (n == null || n.isNull()) {
                return List.of();
            }
            String example = "an array of {\"profile\": \"jetson-orin-nano-jp6\", \"file\": \"engines/nano.plan\","
                    + " \"precision\": \"fp16\", \"tensorrt\": \"10.3\"}";
            if (!n.isArray()) {
                throw fault("engines", n, example);
            }
            List<io.tollgate.model.PrebuiltEngine> engines = new ArrayList<>();
            for (int i = 0; i < n.size(); i++) {
                JsonNode e = n.get(i);
                String at = "engines[" + i + "]";
                if (!e.isObject()) {
                    throw fault(at, e, example);
                }
                warnUnknown(e, ENGINE_FIELDS, at + ".");
                String profile = requiredString(e, "profile", at + ".profile");
                String file = requiredString(e, "file", at + ".file");
                if (!PluginPaths.isInside(file)) {
                    throw fault(at + ".file", e.get("file"), PluginPaths.expected(entryPath(path, "")));
                }
                if (!e.hasNonNull("precision")) {
                    throw missing(at + ".precision", "one of \"fp32\", \"fp16\", \"int8\"");
                }
                String precision = precision(e, "precision", at + ".precision", "fp32");
                String tensorrt = requiredString(e, "tensorrt", at + ".tensorrt");
                if (!tensorrt.matches("\\d+\\.(\\d+|x)(\\.\\d+)?")) {
                    throw fault(at + ".tensorrt", e.get("tensorrt"), "the TensorRT release that built it, e.g. \"10.3\""
                            + " or \"10.x\"");
                }
                for (io.tollgate.model.PrebuiltEngine other : engines) {
                    if (other.profile().equals(profile) && other.precision().equals(precision)) {
                        throw fault(at, e, "one engine per profile and precision; " + profile + " " + precision
                                + " is listed twice");
                    }
                }
                engines.add(new io.tollgate.model.PrebuiltEngine(profile, file, precision, tensorrt));
            }
            return engines;
        }

        private String relativePath(JsonNode root, String field, boolean required) throws PluginException {
            String value = required ? requiredString(root, field) : optionalString(root, field, "");
            String folder = entryPath(path, "");
            if (!PluginPaths.isInside(value)) {
                throw fault(field, root.get(field), PluginPaths.expected(folder));
            }
            return value;
        }

        private String requiredString(JsonNode node, String field) throws PluginException {
            return requiredString(node, field, field);
        }

        private String requiredString(JsonNode node, String key, String field) throws PluginException {
            JsonNode n = node.get(key);
            if (n == null || n.isNull()) {
                throw missing(field, "a string");
            }
            if (!n.isTextual() || n.textValue().isBlank()) {
                throw fault(field, n, "a non-empty string");
            }
            return n.textValue().trim();
        }

        private String optionalString(JsonNode node, String field, String fallback) throws PluginException {
            JsonNode n = node.get(field);
            if (n == null || n.isNull()) {
                return fallback;
            }
            if (!n.isTextual()) {
                throw fault(field, n, "a string");
            }
            return n.textValue().isBlank() ? fallback : n.textValue().trim();
        }

        private void warnUnknown(JsonNode node, Set<String> known, String prefix) {
            for (Map.Entry<String, JsonNode> e : node.properties()) {
                String f = e.getKey();
                if (!known.contains(f)) {
                    LOG.warn("{}: {}: field '{}{}' is not a descriptor field and is ignored; known fields: {}",
                            source.label(), path, prefix, f, new TreeSet<>(known));
                }
            }
        }

        private PluginException missing(String field, String expected) {
            return new PluginException(source.label() + ": " + path + ": field '" + field + "' is missing; expected "
                    + expected);
        }

        private PluginException fault(String field, JsonNode value, String expected) {
            return new PluginException(source.label() + ": " + path + ": field '" + field + "' is " + describe(value)
                    + "; expected " + expected);
        }
    }

    /** Labels file: one label per line, UTF-8, a leading BOM and trailing blank lines ignored. */
    static List<String> parseLabels(byte[] bytes) {
        String text = new String(bytes, StandardCharsets.UTF_8);
        if (text.startsWith("\uFEFF")) {
            text = text.substring(1);
        }
        List<String> labels = new ArrayList<>(Arrays.asList(text.split("\r?\n", -1)));
        labels.replaceAll(String::strip);
        while (!labels.isEmpty() && labels.get(labels.size() - 1).isEmpty()) {
            labels.remove(labels.size() - 1);
        }
        return labels;
    }

    /** A value as a message quotes it: a string in quotes, other JSON as written (both cut and made printable). */
    static String describe(JsonNode value) {
        if (value == null || value.isMissingNode()) {
            return "empty";
        }
        if (value.isTextual()) {
            return "'" + printable(value.textValue()) + "'";
        }
        String json = value.toString();
        return printable(json.length() > 80 ? json.substring(0, 77) + "..." : json);
    }

    /**
     * {@code text} as it may appear in a message that is logged: at most 200 characters, every character that is
     * not printable (controls such as CR, LF and ESC, format characters such as bidirectional overrides, line and
     * paragraph separators, lone surrogates) and the backslash written as a backslash, u and four hex digits, so that a value taken from
     * a plugin can neither forge a log line nor hide itself.
     */
    static String printable(String text) {
        String cut = text.length() > 200 ? text.substring(0, 200) + "..." : text;
        StringBuilder out = new StringBuilder(cut.length());
        for (int i = 0; i < cut.length(); i++) {
            char c = cut.charAt(i);
            boolean pair = Character.isHighSurrogate(c) && i + 1 < cut.length()
                    && Character.isLowSurrogate(cut.charAt(i + 1));
            if (pair) {
                out.append(c).append(cut.charAt(++i));
            } else if (c == '\\' || Character.isISOControl(c) || Character.isSurrogate(c)
                    || Character.getType(c) == Character.FORMAT || c == '\u2028' || c == '\u2029') {
                out.append(String.format("\\u%04x", (int) c));
            } else {
                out.append(c);
            }
        }
        return out.toString();
    }
}
