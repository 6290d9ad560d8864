package io.tollgate.tools.plugin;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import io.tollgate.engine.onnx.testing.ExternalDataModels;
import io.tollgate.tools.ExitCodes;
import io.tollgate.tools.ToolRun;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.List;
import java.util.jar.JarFile;
import io.tollgate.guard.PluginCodeRule;
import org.junit.Rule;
import org.junit.Test;
import org.junit.rules.TemporaryFolder;

/** {@code plugin pack|inspect} with the real Fashion-MNIST model and ONNX Runtime. */
public class PluginCommandsTest {
    /** The example plugin's model, trained by plugins/fashion-mnist/train.py. */
    static final Path MODEL = Paths.get("../plugins/fashion-mnist/src/main/model/model.onnx");

    @Rule
    public TemporaryFolder tmp = new TemporaryFolder();

    @Test
    public void packReadsTheModelsSignatureAndInspectShowsIt() throws Exception {
        Path jar = tmp.getRoot().toPath().resolve("out/garments.jar");
        ToolRun packed = ToolRun.of("plugin", "pack", "--model", MODEL.toString(), "--name", "garments", "--version",
                "1.2.0", "--output", jar.toString());
        assertEquals(packed.toString(), 0, packed.code());
        assertTrue(packed.out(), packed.out().startsWith("packed garments 1.2.0 -> " + jar + " ("));
        assertTrue(packed.out(), packed.out().contains("  inputs   image:FP32[-1, 1, 28, 28]\n"));
        assertTrue(packed.out(), packed.out().contains("  batch    up to 256\n"));
        assertTrue(packed.out(), packed.out().contains("  labels   10\n"));
        ToolRun inspected = ToolRun.of("plugin", "inspect", jar.toString());
        assertEquals(inspected.toString(), 0, inspected.code());
        assertTrue(inspected.out(), inspected.out().contains("Bundle-SymbolicName: tollgate.plugin.garments\n"));
        assertTrue(inspected.out(), inspected.out().contains("\"max_batch_size\": 256"));
        assertTrue(inspected.out(), inspected.out().contains("\ndata only: the appliance accepts it (docs/plugins.md)\n"));
        try (JarFile written = new JarFile(jar.toFile())) {
            assertTrue("plugin pack makes plugins the appliance accepts", PluginCodeRule.check(written).passes());
        }
    }

    @Test
    public void inspectShowsACapabilityPluginsPipelineAndWhatItsCodeNeeds() throws Exception {
        Path jar = tmp.getRoot().toPath().resolve("out/capability.jar");
        new PluginJar("capability", "1.0.0").model("models/classify.onnx", Files.readAllBytes(MODEL))
                .descriptorText("{\"name\":\"capability\",\"version\":\"1.0.0\",\"platform\":\"onnx\","
                        + "\"pipeline\":{\"class\":\"io.acme.cap.Classify\",\"stages\":{\"classify\":"
                        + "\"models/classify.onnx\",\"post\":\"models/post.onnx\"}},"
                        + "\"inputs\":[{\"name\":\"image\",\"datatype\":\"BYTES\",\"shape\":[-1]}],"
                        + "\"outputs\":[{\"name\":\"label\",\"datatype\":\"BYTES\",\"shape\":[-1]}]}")
                .header("Import-Package", "io.tollgate.pipeline")
                .entry("io/acme/cap/Classify.class", new byte[] {(byte) 0xca, (byte) 0xfe})
                .writeTo(jar);
        ToolRun inspected = ToolRun.of("plugin", "inspect", jar.toString());
        assertEquals(inspected.toString(), 0, inspected.code());
        assertTrue(inspected.out(), inspected.out().contains("\ncarries code (a capability plugin): the appliance"
                + " accepts it only when a trusted vendor signed it and a license with allow_code covers it"
                + " (docs/licensing.md); the code: Import-Package io.tollgate.pipeline, class io/acme/cap/Classify.class\n"));
        assertTrue(inspected.out(), inspected.out().contains("pipeline: class io.acme.cap.Classify (in the plugin)\n"
                + "  stage classify: TOLLGATE-INF/models/classify.onnx\n"
                + "  stage post: TOLLGATE-INF/models/post.onnx (missing)\n"));
    }

    @Test
    public void packWritesTheSchedulingFieldsAndInspectShowsThem() throws Exception {
        Path jar = tmp.getRoot().toPath().resolve("out/batched.jar");
        ToolRun packed = ToolRun.of("plugin", "pack", "--model", MODEL.toString(), "--name", "batched", "--version",
                "1.0.0", "--output", jar.toString(), "--dynamic-batching", "--preferred-batch", "16,8",
                "--max-queue-delay-us", "250", "--instances", "2");
        assertEquals(packed.toString(), 0, packed.code());
        assertTrue(packed.out(), packed.out().contains("  schedule dynamic batching (preferred [8, 16], max queue delay"
                + " 250 us), 2 instance(s)\n"));
        ToolRun inspected = ToolRun.of("plugin", "inspect", jar.toString());
        assertEquals(inspected.toString(), 0, inspected.code());
        assertTrue(inspected.out(), inspected.out().contains("\"dynamic_batching\": {\"preferred_batch_size\": [8, 16],"
                + " \"max_queue_delay_microseconds\": 250},\n"));
        assertTrue(inspected.out(), inspected.out().contains("\"instance_group\": [{\"count\": 2, \"kind\":"
                + " \"KIND_CPU\"}],\n"));
        // the descriptor stays one JSON object the appliance reads
        try (JarFile written = new JarFile(jar.toFile())) {
            byte[] json = written.getInputStream(written.getEntry("TOLLGATE-INF/model.json")).readAllBytes();
            com.fasterxml.jackson.databind.JsonNode d = new com.fasterxml.jackson.databind.ObjectMapper().readTree(json);
            assertEquals(250, d.get("dynamic_batching").get("max_queue_delay_microseconds").intValue());
            assertEquals(2, d.get("instance_group").get(0).get("count").intValue());
        }
    }

    @Test
    public void packRefusesSchedulingOptionsThatCannotWork() throws Exception {
        Path jar = tmp.getRoot().toPath().resolve("out/bad.jar");
        String[][] cases = {
            {"--preferred-batch", "8"},
            {"--dynamic-batching", "--max-batch", "0"},
            {"--dynamic-batching", "--preferred-batch", "512"},
            {"--dynamic-batching", "--max-queue-delay-us", "-1"},
            {"--instances", "0"},
        };
        String[] why = {"go with --dynamic-batching", "needs a batch dimension", "must be 1..256", "0 or more",
            "must be 1..64"};
        for (int i = 0; i < cases.length; i++) {
            java.util.List<String> args = new java.util.ArrayList<>(java.util.List.of("plugin", "pack", "--model",
                    MODEL.toString(), "--name", "bad", "--version", "1.0.0", "--output", jar.toString()));
            args.addAll(java.util.List.of(cases[i]));
            ToolRun r = ToolRun.of(args.toArray(new String[0]));
            assertEquals(r.toString(), ExitCodes.USAGE, r.code());
            assertTrue(r.err(), r.err().contains(why[i]));
        }
    }

    @Test
    public void packSignsWithAVendorKeyAndTheSignedPluginStaysDataOnly() throws Exception {
        java.security.KeyPair vendor = io.tollgate.licensing.vendor.VendorKeys.generate(tmp.newFolder("keys").toPath());
        Path key = tmp.getRoot().toPath().resolve("keys/vendor-private.pem");
        Path jar = tmp.getRoot().toPath().resolve("out/own.jar");
        ToolRun packed = ToolRun.of("plugin", "pack", "--model", MODEL.toString(), "--name", "own", "--version",
                "1.0.0", "--output", jar.toString(), "--sign", key.toString(), "--vendor", "Owner");
        assertEquals(packed.toString(), 0, packed.code());
        String fingerprint = io.tollgate.licensing.Pem.fingerprint(vendor.getPublic());
        assertTrue(packed.out(), packed.out().contains("  signed   vendor key " + fingerprint + "\n"));
        assertEquals(fingerprint, io.tollgate.licensing.PluginSignatures.verify(jar));
        try (JarFile written = new JarFile(jar.toFile())) {
            assertTrue("a signed plugin is still data only", PluginCodeRule.check(written).passes());
        }
        ToolRun inspected = ToolRun.of("plugin", "inspect", jar.toString());
        assertEquals(inspected.toString(), 0, inspected.code());

        // a bad or missing key: one line, and no jar written
        Path other = tmp.getRoot().toPath().resolve("out/other.jar");
        ToolRun missing = ToolRun.of("plugin", "pack", "--model", MODEL.toString(), "--name", "own", "--version",
                "1.0.0", "--output", other.toString(), "--sign", tmp.getRoot() + "/none.pem");
        assertEquals(missing.toString(), ExitCodes.IO_ERROR, missing.code());
        ToolRun notKey = ToolRun.of("plugin", "pack", "--model", MODEL.toString(), "--name", "own", "--version",
                "1.0.0", "--output", other.toString(), "--sign", tmp.getRoot() + "/keys/vendor-public.pem");
        assertEquals(notKey.toString(), ExitCodes.FAILED, notKey.code());
        assertTrue(notKey.err(), notKey.err().contains("--sign: ") && notKey.err().lines().count() == 1);
        assertTrue("no jar left behind", !Files.exists(other));
        ToolRun vendorAlone = ToolRun.of("plugin", "pack", "--model", MODEL.toString(), "--name", "own", "--version",
                "1.0.0", "--output", other.toString(), "--vendor", "x");
        assertEquals(vendorAlone.toString(), ExitCodes.USAGE, vendorAlone.code());
    }

    @Test
    public void packEncryptsTheModelWithAKeyItMakesOnceAndSignsInTheSameCommand() throws Exception {
        io.tollgate.licensing.vendor.VendorKeys.generate(tmp.newFolder("keys").toPath());
        Path vendorKey = tmp.getRoot().toPath().resolve("keys/vendor-private.pem");
        Path modelKey = tmp.getRoot().toPath().resolve("keys/secret.key");
        Path jar = tmp.getRoot().toPath().resolve("out/secret.jar");
        ToolRun packed = ToolRun.of("plugin", "pack", "--model", MODEL.toString(), "--name", "secret", "--version",
                "1.0.0", "--output", jar.toString(), "--encrypt-key", modelKey.toString(), "--sign",
                vendorKey.toString());
        assertEquals(packed.toString(), 0, packed.code());
        assertEquals("rw-------", java.nio.file.attribute.PosixFilePermissions.toString(
                Files.getPosixFilePermissions(modelKey)));
        io.tollgate.licensing.vendor.ModelKeyFile key = io.tollgate.licensing.vendor.ModelKeyFile.read(modelKey);
        assertTrue(packed.out(), packed.out().contains("key id " + key.keyId()));
        byte[] clear = Files.readAllBytes(MODEL);
        try (JarFile written = new JarFile(jar.toFile())) {
            byte[] entry = written.getInputStream(written.getEntry("TOLLGATE-INF/model.onnx")).readAllBytes();
            assertEquals(key.keyId(), io.tollgate.licensing.ModelCipher.keyId(entry));
            org.junit.Assert.assertArrayEquals(clear, io.tollgate.licensing.ModelCipher.decrypt(entry, key.key(),
                    key.keyId()));
            String descriptor = new String(written.getInputStream(written.getEntry("TOLLGATE-INF/model.json"))
                    .readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
            assertTrue(descriptor, descriptor.contains("\"encryption\": {\"scheme\": \"AES-256-GCM\", \"key_id\": \""
                    + key.keyId() + "\"}"));
        }
        assertTrue(io.tollgate.licensing.PluginSignatures.verify(jar).matches("[0-9a-f]{64}"));
        ToolRun inspected = ToolRun.of("plugin", "inspect", jar.toString());
        assertEquals(inspected.toString(), 0, inspected.code());

        // the next version reuses the key file: same key id
        Path next = tmp.getRoot().toPath().resolve("out/secret-1.1.jar");
        ToolRun again = ToolRun.of("plugin", "pack", "--model", MODEL.toString(), "--name", "secret", "--version",
                "1.1.0", "--output", next.toString(), "--encrypt-key", modelKey.toString());
        assertEquals(again.toString(), 0, again.code());
        try (JarFile written = new JarFile(next.toFile())) {
            assertEquals(key.keyId(), io.tollgate.licensing.ModelCipher.keyId(written.getInputStream(
                    written.getEntry("TOLLGATE-INF/model.onnx")).readAllBytes()));
        }
        // a file that is not a model key
        ToolRun bad = ToolRun.of("plugin", "pack", "--model", MODEL.toString(), "--name", "secret", "--version",
                "1.0.0", "--output", next.toString(), "--encrypt-key", vendorKey.toString());
        assertEquals(bad.toString(), ExitCodes.FAILED, bad.code());
        assertTrue(bad.err(), bad.err().contains("--encrypt-key: ") && bad.err().contains("not a model key file"));
    }

    @Test
    public void inspectSaysWhyTheApplianceWouldRefuseAPluginThatCarriesCode() throws Exception {
        Path jar = tmp.getRoot().toPath().resolve("evil.jar");
        new PluginJar("evil", "1.0.0").model("model.onnx", new byte[] {1})
                .header("Bundle-Activator", "com.evil.Activator")
                .entry("com/evil/Activator.class", new byte[] {(byte) 0xca, (byte) 0xfe})
                .writeTo(jar);
        String reason = "plugin carries code: Bundle-Activator com.evil.Activator, class com/evil/Activator.class;"
                + " model plugins are data only (docs/plugins.md)";
        ToolRun inspected = ToolRun.of("plugin", "inspect", jar.toString());
        assertEquals(inspected.toString(), ExitCodes.FAILED, inspected.code());
        assertTrue(inspected.out(), inspected.out().contains("\nrefused: " + reason + "\n"));
        assertTrue(inspected.out(), inspected.out().contains("\"name\": \"evil\""));
        assertEquals("tollgate plugin inspect: " + jar + " would be refused: " + reason + "\n", inspected.err());
    }

    @Test
    public void inspectSaysWhyTheApplianceWouldRefuseAModelThatReadsAFile() throws Exception {
        Path jar = tmp.getRoot().toPath().resolve("leak.jar");
        new PluginJar("leak", "1.0.0")
                .model("model.onnx", ExternalDataModels.identityOfInitializer("../../data/device/device.key.pem", 64))
                .writeTo(jar);
        String reason = "model TOLLGATE-INF/model.onnx refers to tensor data outside the model file (tensor 'secret'"
                + " -> '../../data/device/device.key.pem'); Tollgate never lets a model read files";
        ToolRun inspected = ToolRun.of("plugin", "inspect", jar.toString());
        assertEquals(inspected.toString(), ExitCodes.FAILED, inspected.code());
        assertTrue(inspected.out(), inspected.out().contains("\nrefused: " + reason));
        assertTrue(inspected.err(), inspected.err().startsWith("tollgate plugin inspect: " + jar + " would be refused: "
                + reason));
    }

    @Test
    public void inspectRefusesADescriptorPathThatLeavesThePluginAsTheApplianceDoes() throws Exception {
        Path jar = tmp.getRoot().toPath().resolve("escape.jar");
        String expected = "; expected a path inside the plugin relative to TOLLGATE-INF/ (no '..', no leading '/')";
        List<List<String>> cases = List.of(List.of("file", "../model.onnx"), List.of("file", "/etc/passwd"),
                List.of("file", "a/../../b.onnx"), List.of("labels_file", "../../data/labels.txt"));
        for (List<String> c : cases) {
            String extra = c.get(0).equals("file") ? "" : "\"file\": \"model.onnx\", ";
            new PluginJar("escape", "1.0.0").descriptorText("{\"name\": \"escape\", \"version\": \"1.0.0\", "
                    + "\"engine\": \"onnx\", " + extra + "\"" + c.get(0) + "\": \"" + c.get(1) + "\"}").writeTo(jar);
            String reason = "TOLLGATE-INF/model.json: field '" + c.get(0) + "' is '" + c.get(1) + "'" + expected;
            ToolRun r = ToolRun.of("plugin", "inspect", jar.toString());
            assertEquals(r.toString(), ExitCodes.FAILED, r.code());
            assertTrue(r.out(), r.out().contains("\nrefused: " + reason + "\n"));
            assertEquals("tollgate plugin inspect: " + jar + " would be refused: " + reason + "\n", r.err());
        }
    }

    @Test
    public void optionsOverrideWhatTheModelSays() throws Exception {
        Path labels = tmp.newFile("labels.txt").toPath();
        Files.writeString(labels, "a\nb\n\n");
        ToolRun packed = ToolRun.of("plugin", "pack", "--model", MODEL.toString(), "--name", "g", "--version", "1.0.0",
                "--output", tmp.getRoot().toPath().resolve("g.jar").toString(), "--labels", labels.toString(),
                "--max-batch", "8", "--meter", "image", "--license-feature", "vision");
        assertEquals(packed.toString(), 0, packed.code());
        assertTrue(packed.out(), packed.out().contains("  batch    up to 8\n") && packed.out().contains("  labels   2\n"));
        String descriptor = ToolRun.of("plugin", "inspect", tmp.getRoot().toPath().resolve("g.jar").toString()).out();
        assertTrue(descriptor, descriptor.contains("\"meter\": \"image\"") && descriptor.contains("\"license_feature\": \"vision\""));
    }

    @Test
    public void packTakesTheNamesTritonTakesAndZeroSizeDimensions() throws Exception {
        // upper case keeps the readable symbolic name; a name that is no symbolic-name tail gets a stable hashed one
        String[][] cases = {{"ResNet50", "tollgate.plugin.ResNet50"}, {"yolov8n-Seg", "tollgate.plugin.yolov8n-Seg"},
                {"Line 3 camera", "tollgate.plugin.n"}};
        for (String[] c : cases) {
            Path jar = tmp.getRoot().toPath().resolve(c[0] + ".jar");
            ToolRun packed = ToolRun.of("plugin", "pack", "--model", MODEL.toString(), "--name", c[0], "--version",
                    "1.0.0", "--output", jar.toString());
            assertEquals(packed.toString(), 0, packed.code());
            ToolRun inspected = ToolRun.of("plugin", "inspect", jar.toString());
            assertEquals(inspected.toString(), 0, inspected.code());
            assertTrue(inspected.out(), inspected.out().contains("Bundle-SymbolicName: " + c[1]));
            assertTrue(inspected.out(), inspected.out().contains("\"name\": \"" + c[0] + "\""));
            assertTrue(inspected.out(), inspected.out().contains("tollgate.model=\"" + c[0] + "\""));
            try (JarFile written = new JarFile(jar.toFile())) {
                assertTrue(PluginCodeRule.check(written).passes());
                String bsn = written.getManifest().getMainAttributes().getValue("Bundle-SymbolicName");
                assertEquals(PluginJar.symbolicName(c[0]), bsn);
                assertTrue(bsn, bsn.matches("[A-Za-z0-9_-]+(\\.[A-Za-z0-9_-]+)*"));
            }
        }
        assertEquals("tollgate.plugin.n".length() + 20, PluginJar.symbolicName("Line 3 camera").length());
        assertTrue("names are case-sensitive, so are their plugins",
                !PluginJar.symbolicName("Line 3 camera").equals(PluginJar.symbolicName("Line 3 Camera")));
        // a model whose output has a zero-size dimension packs, and the descriptor keeps the 0 (the appliance loads it)
        Path zero = tmp.newFile("zero.onnx").toPath();
        Files.write(zero, ExternalDataModels.identityOfEmbedded(new byte[0]));
        Path jar = tmp.getRoot().toPath().resolve("zero.jar");
        ToolRun packed = ToolRun.of("plugin", "pack", "--model", zero.toString(), "--name", "Zero", "--version", "1.0.0",
                "--output", jar.toString());
        assertEquals(packed.toString(), 0, packed.code());
        assertTrue(packed.out(), packed.out().contains("out:UINT8[0]"));
    }

    @Test
    public void failuresSayWhatWasWrong() throws Exception {
        String out = tmp.getRoot().toPath().resolve("x.jar").toString();
        ToolRun missing = ToolRun.of("plugin", "pack", "--model", "missing.onnx", "--name", "x", "--version", "1.0.0",
                "--output", out);
        assertEquals(new ToolRun(ExitCodes.IO_ERROR, "", "tollgate plugin pack: cannot read --model missing.onnx: no "
                + "such file or directory\n"), missing);
        Path garbage = tmp.newFile("garbage.onnx").toPath();
        Files.write(garbage, new byte[] {8, 1, 18, 3, 'b', 'a', 'd', 0x7f});
        ToolRun corrupt = ToolRun.of("plugin", "pack", "--model", garbage.toString(), "--name", "x", "--version",
                "1.0.0", "--output", out);
        assertEquals(ExitCodes.FAILED, corrupt.code());
        assertTrue(corrupt.err(), corrupt.err().startsWith("tollgate plugin pack: " + garbage
                + " is not a model ONNX Runtime can load: "));
        ToolRun badName = ToolRun.of("plugin", "pack", "--model", MODEL.toString(), "--name", "Bad/Name", "--version",
                "1.0.0", "--output", out);
        assertEquals(badName.toString(), ExitCodes.USAGE, badName.code());
        assertTrue(badName.err(), badName.err().startsWith("tollgate plugin pack: model name 'Bad/Name' contains '/';"
                + " a model name is 1 to 128 printable characters"));
        assertTrue(badName.err(), badName.err().endsWith("(try 'tollgate plugin pack --help')\n"));
        ToolRun badBatch = ToolRun.of("plugin", "pack", "--model", MODEL.toString(), "--name", "x", "--version",
                "1.0.0", "--output", out, "--max-batch", "-1");
        assertEquals(badBatch.toString(), ExitCodes.USAGE, badBatch.code());
        ToolRun notAJar = ToolRun.of("plugin", "inspect", garbage.toString());
        assertEquals(notAJar.toString(), ExitCodes.IO_ERROR, notAJar.code());
        assertEquals(new ToolRun(ExitCodes.IO_ERROR, "", "tollgate plugin inspect: cannot read nope.jar: no such file "
                + "or directory\n"), ToolRun.of("plugin", "inspect", "nope.jar"));
    }

    @Test
    public void fileProblemsNameTheFileAndTheReasonAndExitThree() throws Exception {
        Path dir = tmp.newFolder("dir").toPath();
        ToolRun model = ToolRun.of("plugin", "pack", "--model", dir.toString(), "--name", "x", "--version", "1.0.0",
                "--output", dir.resolve("x.jar").toString());
        assertEquals(new ToolRun(ExitCodes.IO_ERROR, "", "tollgate plugin pack: cannot read --model " + dir
                + ": is a directory\n"), model);
        ToolRun inspectDir = ToolRun.of("plugin", "inspect", dir.toString());
        assertEquals(inspectDir.toString(), ExitCodes.IO_ERROR, inspectDir.code());
        assertEquals("tollgate plugin inspect: cannot read " + dir + ": is a directory\n", inspectDir.err());
        Path garbage = tmp.newFile("garbage.jar").toPath();
        Files.writeString(garbage, "hi\n");
        ToolRun notAJar = ToolRun.of("plugin", "inspect", garbage.toString());
        assertEquals(notAJar.toString(), ExitCodes.IO_ERROR, notAJar.code());
        assertTrue(notAJar.err(), notAJar.err().startsWith("tollgate plugin inspect: " + garbage + " is not a jar ("));
        ToolRun empty = ToolRun.of("plugin", "inspect", "");
        assertEquals(new ToolRun(ExitCodes.USAGE, "", "tollgate plugin inspect: FILE.jar must not be empty (try "
                + "'tollgate plugin inspect --help')\n"), empty);
    }

    @Test
    public void inspectSaysAMalformedDescriptorIsMalformed() throws Exception {
        Path jar = tmp.getRoot().toPath().resolve("broken.jar");
        new PluginJar("broken", "1.0.0").descriptorText("{not json").writeTo(jar);
        ToolRun r = ToolRun.of("plugin", "inspect", jar.toString());
        assertEquals(r.toString(), ExitCodes.FAILED, r.code());
        assertEquals("nothing printed as if it were fine", "", r.out());
        assertTrue(r.err(), r.err().startsWith("tollgate plugin inspect: " + jar + ": its descriptor "
                + "TOLLGATE-INF/model.json is malformed: "));
        assertEquals(1, r.err().lines().count());
        new PluginJar("broken", "1.0.0").descriptorText("[1]").writeTo(jar);
        assertEquals(ExitCodes.FAILED, ToolRun.of("plugin", "inspect", jar.toString()).code());
    }

    @Test
    public void packRefusesBadOutputsAndMetersWithOneLineAndLeavesNothingBehind() throws Exception {
        Path dir = tmp.newFolder("out").toPath();
        ToolRun toDir = pack(dir.toString(), "inference");
        assertEquals(toDir.toString(), ExitCodes.USAGE, toDir.code());
        assertEquals("tollgate plugin pack: --output " + dir + " is a directory; name the jar to write, e.g. "
                + dir.resolve("x-1.0.0.jar") + " (try 'tollgate plugin pack --help')\n", toDir.err());
        ToolRun empty = pack("", "inference");
        assertEquals(toDir.toString(), ExitCodes.USAGE, empty.code());
        assertEquals("tollgate plugin pack: --output must not be empty (try 'tollgate plugin pack --help')\n",
                empty.err());
        Path file = tmp.newFile("afile").toPath();
        ToolRun underAFile = pack(file.resolve("x.jar").toString(), "inference");
        assertEquals(underAFile.toString(), ExitCodes.IO_ERROR, underAFile.code());
        assertEquals("tollgate plugin pack: cannot write --output " + file.resolve("x.jar") + ": " + file
                + " is a file, not a directory\n", underAFile.err());
        for (String meter : new String[] {"a\"b", "", "Upper", "a b", "-x", "m\n"}) {
            ToolRun bad = pack(dir.resolve("m.jar").toString(), meter);
            assertEquals(meter + ": " + bad, ExitCodes.USAGE, bad.code());
            assertTrue(bad.err(), bad.err().startsWith("tollgate plugin pack: --meter " + PluginJar.quote(meter) + " must be 1-64 characters"));
            assertEquals(bad.toString(), 1, bad.err().lines().count());
        }
        assertEquals(0, pack(dir.resolve("ok.jar").toString(), "image.tiles_v2").code());
        try (var files = Files.list(dir)) {
            assertEquals("only the jar that was packed", List.of(dir.resolve("ok.jar")), files.toList());
        }
        try (var files = Files.list(tmp.getRoot().toPath())) {
            assertTrue("no temporary file anywhere", files.noneMatch(f -> f.getFileName().toString().endsWith(".tmp")));
        }
    }

    private ToolRun pack(String output, String meter) {
        return ToolRun.of("plugin", "pack", "--model", MODEL.toString(), "--name", "x", "--version", "1.0.0",
                "--output", output, "--meter", meter);
    }
}
