package io.tollgate.tools.plugin;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertNotNull;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

import io.tollgate.model.DataType;
import io.tollgate.model.TensorSpec;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.jar.Attributes;
import java.util.jar.JarFile;
import org.junit.Rule;
import org.junit.Test;
import org.junit.rules.TemporaryFolder;

public class PluginJarTest {
    @Rule
    public TemporaryFolder tmp = new TemporaryFolder();

    @Test
    public void writesAnOsgiBundleWithCapabilitiesDescriptorModelAndLabels() throws Exception {
        Path out = tmp.getRoot().toPath().resolve("p/demo.jar");
        new PluginJar("demo", "2.1.0").model("model.onnx", new byte[] {1, 2, 3})
                .inputs(List.of(new TensorSpec("x", DataType.FP32, new long[] {-1, 4})))
                .outputs(List.of(new TensorSpec("y", DataType.INT64, new long[] {-1})))
                .labels(List.of("a", "b \"quoted\"")).maxBatchSize(8).writeTo(out);
        try (JarFile jar = new JarFile(out.toFile())) {
            Attributes m = jar.getManifest().getMainAttributes();
            assertEquals("2", m.getValue("Bundle-ManifestVersion"));
            assertEquals("tollgate.plugin.demo", m.getValue("Bundle-SymbolicName"));
            assertEquals("2.1.0", m.getValue("Bundle-Version"));
            assertEquals("tollgate.model;tollgate.model=\"demo\";version:Version=\"2.1.0\"", m.getValue("Provide-Capability"));
            assertTrue(m.getValue("Require-Capability").contains("(tollgate.engine=onnx)"));
            String descriptor = new String(jar.getInputStream(jar.getEntry("TOLLGATE-INF/model.json")).readAllBytes(),
                    StandardCharsets.UTF_8);
            assertTrue(descriptor, descriptor.contains("{\"name\": \"x\", \"datatype\": \"FP32\", \"shape\": [-1,4]}"));
            assertTrue(descriptor, descriptor.contains("\"max_batch_size\": 8"));
            assertTrue(descriptor, descriptor.contains("\"labels_file\": \"labels.txt\""));
            assertEquals(3, jar.getEntry("TOLLGATE-INF/model.onnx").getSize());
            assertNotNull(jar.getEntry("TOLLGATE-INF/labels.txt"));
        }
    }

    @Test
    public void extraHeadersReplaceOrRemoveGeneratedOnes() throws Exception {
        Path out = tmp.getRoot().toPath().resolve("h.jar");
        new PluginJar("h", "1.0.0").header("Bundle-SymbolicName", "x.y").header("Provide-Capability", null)
                .header("Bundle-Activator", "a.B").writeTo(out);
        try (JarFile jar = new JarFile(out.toFile())) {
            Attributes m = jar.getManifest().getMainAttributes();
            assertEquals("x.y", m.getValue("Bundle-SymbolicName"));
            assertEquals(null, m.getValue("Provide-Capability"));
            assertEquals("a.B", m.getValue("Bundle-Activator"));
        }
    }

    @Test
    public void refusesBadNamesAndVersions() {
        for (String[] bad : new String[][] {{"Bad/Name", "1.0.0"}, {" padded", "1.0.0"}, {"ok", "1.0"}, {"", "1.0.0"}, {"ok", "v1.0.0"}}) {
            try {
                new PluginJar(bad[0], bad[1]);
                fail("accepted " + bad[0] + " " + bad[1]);
            } catch (IllegalArgumentException expected) {
                assertTrue(expected.getMessage().length() > 10);
            }
        }
    }

    @Test
    public void theJarIsReadableByAllAsANewFileIsNotOnlyByItsOwner() throws Exception {
        Path dir = tmp.newFolder("perm").toPath();
        Path reference = dir.resolve("reference");
        Files.newOutputStream(reference).close();   // 0666 less this process's umask
        Path jar = dir.resolve("demo.jar");
        new PluginJar("demo", "1.0.0").writeTo(jar);
        assertEquals(Files.getPosixFilePermissions(reference), Files.getPosixFilePermissions(jar));
    }

    @Test
    public void aFailedWriteLeavesNoTemporaryFile() throws Exception {
        Path dir = tmp.newFolder("fail").toPath();
        Path occupied = dir.resolve("occupied.jar");   // a non-empty folder where the jar should go: the move fails
        Files.createDirectories(occupied.resolve("inside"));
        try {
            new PluginJar("demo", "1.0.0").writeTo(occupied);
            fail("wrote over a folder");
        } catch (IOException expected) {
            // the reason is the caller's to report
        }
        try (var files = Files.list(dir)) {
            assertEquals(List.of(occupied), files.toList());
        }
    }

    @Test
    public void quotesJsonStrings() {
        assertEquals("\"a\\\"b\\\\c\\n\\u0001\"", PluginJar.quote("a\"b\\c\n\u0001"));
    }
}
