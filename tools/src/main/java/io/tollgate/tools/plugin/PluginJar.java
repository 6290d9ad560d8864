package io.tollgate.tools.plugin;

import io.tollgate.model.TensorSpec;
import io.tollgate.tools.ToolException;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.jar.Attributes;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import java.util.jar.Manifest;
import java.util.regex.Pattern;

/**
 * Writes a model plugin bundle: an OSGi manifest declaring the {@code tollgate.model} capability
 * and its engine requirement, {@code TOLLGATE-INF/model.json}, the model file and labels.
 * The format is documented in docs/plugins.md.
 */
public final class PluginJar {
    public static final Pattern VERSION = Pattern.compile("\\d+\\.\\d+\\.\\d+(\\.[A-Za-z0-9_-]+)?");
    /** A meter name: 1-64 characters of a-z, 0-9, '.', '_', '-' (it lands in usage records, prices and CSV exports). */
    public static final Pattern METER = Pattern.compile("[a-z0-9][a-z0-9._-]{0,63}");
    /** A model name that is also an OSGi symbolic-name tail as it is: {@code token('.'token)*}, ASCII only. */
    private static final Pattern SYMBOLIC = Pattern.compile("[A-Za-z0-9_-]+(\\.[A-Za-z0-9_-]+)*");

    private static final SecureRandom RANDOM = new SecureRandom();

    private final String name;
    private final String version;
    private String engine = "onnx";
    private String precision = "fp32";
    private String modelFile = "model.onnx";
    private byte[] modelBytes = new byte[0];
    private List<TensorSpec> inputs = List.of();
    private List<TensorSpec> outputs = List.of();
    private List<String> labels = List.of();
    private int maxBatchSize;
    private final java.util.Map<String, String> configFields = new java.util.LinkedHashMap<>();
    private String meter = "inference";
    private String licenseFeature = "";
    private final Map<String, byte[]> extraEntries = new LinkedHashMap<>();
    private final Map<String, String> extraHeaders = new LinkedHashMap<>();
    private String descriptorOverride;
    private io.tollgate.licensing.vendor.ModelKeyFile encryptionKey;

    public PluginJar(String name, String version) {
        java.util.Optional<String> bad = io.tollgate.model.ModelNames.problem(name);
        if (bad.isPresent()) {
            throw new IllegalArgumentException("model name '" + name + "' " + bad.get() + "; a model name is "
                    + io.tollgate.model.ModelNames.RULE);
        }
        if (!VERSION.matcher(version).matches()) {
            throw new IllegalArgumentException("version '" + version + "' must look like 1.2.3 (or 1.2.3.qualifier)");
        }
        this.name = name;
        this.version = version;
    }

    public PluginJar engine(String value) { this.engine = value; return this; }
    /** Precision an accelerator engine builds in ({@code fp32}, {@code fp16}, {@code int8}); written when not fp32. */
    public PluginJar precision(String value) { this.precision = value; return this; }
    public PluginJar model(String file, byte[] bytes) { this.modelFile = file; this.modelBytes = bytes.clone(); return this; }
    public PluginJar inputs(List<TensorSpec> value) { this.inputs = List.copyOf(value); return this; }
    public PluginJar outputs(List<TensorSpec> value) { this.outputs = List.copyOf(value); return this; }
    public PluginJar labels(List<String> value) { this.labels = List.copyOf(value); return this; }
    public PluginJar maxBatchSize(int value) { this.maxBatchSize = value; return this; }
    public PluginJar meter(String value) { this.meter = value; return this; }
    public PluginJar licenseFeature(String value) { this.licenseFeature = value; return this; }

    /**
     * The descriptor's model configuration fields (docs/plugins.md), in Triton's JSON shape: e.g.
     * {@code "dynamic_batching": {"preferred_batch_size": [8, 16], "max_queue_delay_microseconds": 100}}; each value is
     * JSON text written as given, in insertion order.
     */
    public PluginJar configField(String field, String json) { this.configFields.put(field, json); return this; }

    /** Adds or replaces a raw entry (tests use it to build broken plugins). */
    public PluginJar entry(String path, byte[] bytes) { extraEntries.put(path, bytes.clone()); return this; }

    /** Leaves an entry out (tests use it to build a plugin whose model file is missing). */
    public PluginJar omit(String path) { extraEntries.put(path, null); return this; }

    /**
     * Adds or replaces a main manifest header; {@code null} leaves it out. Tests use it to build plugins the
     * appliance must refuse (a {@code Bundle-Activator}, an {@code Import-Package}: docs/plugins.md).
     */
    public PluginJar header(String name, String value) { extraHeaders.put(name, value); return this; }

    /**
     * Encrypts the model file with this key (AES-256-GCM, docs/licensing.md "Encrypted models"); the descriptor says
     * so: {@code "encryption": {"scheme": "AES-256-GCM", "key_id": ...}}.
     */
    public PluginJar encryptWith(io.tollgate.licensing.vendor.ModelKeyFile key) { this.encryptionKey = key; return this; }

    /** Uses this text as TOLLGATE-INF/model.json instead of the generated descriptor. */
    public PluginJar descriptorText(String json) { this.descriptorOverride = json; return this; }

    /**
     * The plugin's {@code Bundle-SymbolicName}: {@code tollgate.plugin.<name>} when the model name is a valid
     * symbolic-name tail as it is ({@code ResNet50}, {@code yolov8n-Seg}, {@code bert.base}), so plugins packed
     * before any name rule change keep their identity across upgrades; otherwise (spaces, other scripts, other
     * punctuation) {@code tollgate.plugin.n<first 20 hex digits of SHA-256 of the UTF-8 name>}, which is valid,
     * stable for the name and unique in practice. The model name itself is in the capability and the descriptor.
     */
    public String symbolicName() {
        return symbolicName(name);
    }

    /** The symbolic name {@code plugin pack} gives the plugin of model {@code name} (see {@link #symbolicName()}). */
    public static String symbolicName(String name) {
        if (SYMBOLIC.matcher(name).matches()) {
            return "tollgate.plugin." + name;
        }
        try {
            byte[] digest = java.security.MessageDigest.getInstance("SHA-256")
                    .digest(name.getBytes(java.nio.charset.StandardCharsets.UTF_8));
            return "tollgate.plugin.n" + java.util.HexFormat.of().formatHex(digest, 0, 10);
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is missing from this JVM", e);
        }
    }

    public Manifest manifest() {
        Manifest m = new Manifest();
        Attributes a = m.getMainAttributes();
        a.put(Attributes.Name.MANIFEST_VERSION, "1.0");
        a.putValue("Bundle-ManifestVersion", "2");
        a.putValue("Bundle-SymbolicName", symbolicName());
        a.putValue("Bundle-Version", version);
        a.putValue("Bundle-Name", "Tollgate model plugin " + name);
        a.putValue("Provide-Capability", "tollgate.model;tollgate.model=\"" + name + "\";version:Version=\"" + version + "\"");
        a.putValue("Require-Capability", "osgi.extender;filter:=\"(&(osgi.extender=tollgate.model)(version>=1.0)(!(version>=2.0)))\","
                + "tollgate.engine;filter:=\"" + engineFilter() + "\"");
        a.putValue("Tollgate-Model", "TOLLGATE-INF/model.json");
        extraHeaders.forEach((name, value) -> {
            if (value == null) {
                a.remove(new Attributes.Name(name));
            } else {
                a.putValue(name, value);
            }
        });
        return m;
    }

    /**
     * The engine requirement: an ONNX model for an accelerator engine also resolves where only the onnx engine is
     * installed, since serving falls back to it (issue 12).
     */
    private String engineFilter() {
        boolean onnxModel = modelFile.endsWith(".onnx");
        return onnxModel && !engine.equals("onnx") ? "(|(tollgate.engine=" + engine + ")(tollgate.engine=onnx))"
                : "(tollgate.engine=" + engine + ")";
    }

    /** The descriptor as JSON. */
    public String descriptor() {
        if (descriptorOverride != null) {
            return descriptorOverride;
        }
        StringBuilder j = new StringBuilder("{\n");
        field(j, "name", name).append(",\n");
        field(j, "version", version).append(",\n");
        // platform is the model file's format (Triton's names): an ONNX model stays "onnx" whatever engine runs it
        field(j, "platform", modelFile.endsWith(".plan") ? "tensorrt_plan" : "onnx").append(",\n");
        field(j, "engine", engine).append(",\n");
        if (!precision.equals("fp32")) {
            field(j, "precision", precision).append(",\n");
        }
        field(j, "file", modelFile).append(",\n");
        j.append("  \"max_batch_size\": ").append(maxBatchSize).append(",\n");
        for (java.util.Map.Entry<String, String> f : configFields.entrySet()) {
            j.append("  \"").append(f.getKey()).append("\": ").append(f.getValue()).append(",\n");
        }
        specs(j, "inputs", inputs).append(",\n");
        specs(j, "outputs", outputs).append(",\n");
        if (!labels.isEmpty()) {
            field(j, "labels_file", "labels.txt").append(",\n");
        }
        field(j, "meter", meter).append(",\n");
        if (encryptionKey != null) {
            j.append("  \"encryption\": {\"scheme\": ").append(quote(io.tollgate.licensing.ModelCipher.SCHEME))
                    .append(", \"key_id\": ").append(quote(encryptionKey.keyId())).append("},\n");
        }
        field(j, "license_feature", licenseFeature).append("\n}\n");
        return j.toString();
    }

    public byte[] toBytes() throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream(modelBytes.length + 4096);
        writeTo(bytes);
        return bytes.toByteArray();
    }

    /** Checks a meter name ({@link #METER}); the message says the rule. */
    public static String checkMeter(String meter) {
        if (meter == null || !METER.matcher(meter).matches()) {
            throw new IllegalArgumentException("meter " + quote(String.valueOf(meter)) + " must be 1-64 characters of a-z, 0-9, '.', '_' or "
                    + "'-', starting with a letter or digit");
        }
        return meter;
    }

    /**
     * Writes the jar to {@code file} through a temporary file beside it, moved into place at once (a watcher such as
     * the appliance's plugins/ folder never sees half a jar). The jar gets the usual permissions of a new file
     * (0666 less the umask: a plugin is not a secret); the temporary file is removed on any failure.
     */
    public void writeTo(Path file) throws IOException {
        Path parent = file.toAbsolutePath().getParent();
        Files.createDirectories(parent);
        Path tmp = parent.resolve("." + file.getFileName() + "." + Long.toHexString(RANDOM.nextLong()) + ".tmp");
        try {
            try (OutputStream out = Files.newOutputStream(tmp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
                writeTo(out);
            }
            Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException | RuntimeException e) {
            try {
                Files.deleteIfExists(tmp);
            } catch (IOException suppressed) {
                e.addSuppressed(suppressed);
            }
            throw e;
        }
    }

    private void writeTo(OutputStream out) throws IOException {
        Map<String, byte[]> entries = new LinkedHashMap<>();
        entries.put("TOLLGATE-INF/model.json", descriptor().getBytes(StandardCharsets.UTF_8));
        entries.put("TOLLGATE-INF/" + modelFile, encryptionKey == null ? modelBytes
                : encryptionKey.encrypt(modelBytes, new java.security.SecureRandom()));
        if (!labels.isEmpty()) {
            entries.put("TOLLGATE-INF/labels.txt", (String.join("\n", labels) + "\n").getBytes(StandardCharsets.UTF_8));
        }
        entries.putAll(extraEntries);
        try (JarOutputStream jar = new JarOutputStream(out, manifest())) {
            List<String> dirs = new ArrayList<>();
            for (Map.Entry<String, byte[]> e : entries.entrySet()) {
                String path = e.getKey();
                int slash = path.lastIndexOf('/');
                if (slash > 0 && !dirs.contains(path.substring(0, slash + 1))) {
                    dirs.add(path.substring(0, slash + 1));
                    jar.putNextEntry(new JarEntry(path.substring(0, slash + 1)));
                    jar.closeEntry();
                }
                if (e.getValue() == null) {
                    continue;   // an entry deliberately left out
                }
                jar.putNextEntry(new JarEntry(path));
                jar.write(e.getValue());
                jar.closeEntry();
            }
        }
    }

    private static StringBuilder field(StringBuilder j, String key, String value) {
        return j.append("  \"").append(key).append("\": ").append(quote(value));
    }

    private static StringBuilder specs(StringBuilder j, String key, List<TensorSpec> specs) {
        j.append("  \"").append(key).append("\": [");
        for (int i = 0; i < specs.size(); i++) {
            TensorSpec s = specs.get(i);
            j.append(i == 0 ? "\n" : ",\n").append("    {\"name\": ").append(quote(s.name()))
                    .append(", \"datatype\": \"").append(s.type().name()).append("\", \"shape\": ")
                    .append(Arrays.toString(s.shape()).replace(" ", "")).append('}');
        }
        return j.append(specs.isEmpty() ? "]" : "\n  ]");
    }

    /** A JSON string literal (the descriptor is JSON). */
    static String quote(String s) {
        return ToolException.quote(s);
    }
}
