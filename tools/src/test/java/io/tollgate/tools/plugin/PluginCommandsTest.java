package io.tollgate.tools.plugin;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import io.tollgate.tools.ExitCodes;
import io.tollgate.tools.ToolRun;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
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
    public void failuresSayWhatWasWrong() throws Exception {
        String out = tmp.getRoot().toPath().resolve("x.jar").toString();
        ToolRun missing = ToolRun.of("plugin", "pack", "--model", "missing.onnx", "--name", "x", "--version", "1.0.0",
                "--output", out);
        assertEquals(new ToolRun(ExitCodes.FAILED, "", "tollgate plugin pack: --model missing.onnx: no such file\n"),
                missing);
        Path garbage = tmp.newFile("garbage.onnx").toPath();
        Files.write(garbage, new byte[] {8, 1, 18, 3, 'b', 'a', 'd', 0x7f});
        ToolRun corrupt = ToolRun.of("plugin", "pack", "--model", garbage.toString(), "--name", "x", "--version",
                "1.0.0", "--output", out);
        assertEquals(ExitCodes.FAILED, corrupt.code());
        assertTrue(corrupt.err(), corrupt.err().startsWith("tollgate plugin pack: " + garbage
                + " is not a model ONNX Runtime can load: "));
        ToolRun badName = ToolRun.of("plugin", "pack", "--model", MODEL.toString(), "--name", "Bad Name", "--version",
                "1.0.0", "--output", out);
        assertEquals(badName.toString(), ExitCodes.USAGE, badName.code());
        assertTrue(badName.err(), badName.err().startsWith("tollgate plugin pack: plugin name 'Bad Name' must be"));
        assertTrue(badName.err(), badName.err().endsWith("(try 'tollgate plugin pack --help')\n"));
        ToolRun badBatch = ToolRun.of("plugin", "pack", "--model", MODEL.toString(), "--name", "x", "--version",
                "1.0.0", "--output", out, "--max-batch", "-1");
        assertEquals(badBatch.toString(), ExitCodes.USAGE, badBatch.code());
        ToolRun notAJar = ToolRun.of("plugin", "inspect", garbage.toString());
        assertEquals(notAJar.toString(), ExitCodes.IO_ERROR, notAJar.code());
        assertEquals(new ToolRun(ExitCodes.FAILED, "", "tollgate plugin inspect: nope.jar: no such file\n"),
                ToolRun.of("plugin", "inspect", "nope.jar"));
    }
}
