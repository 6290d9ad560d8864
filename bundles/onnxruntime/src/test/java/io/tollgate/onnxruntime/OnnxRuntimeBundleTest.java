package io.tollgate.onnxruntime;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.jar.Attributes;
import java.util.jar.Manifest;
import org.junit.Test;

/** The manifest bnd wrote and the content it embedded (checked in target/classes, before packaging). */
public class OnnxRuntimeBundleTest {
    private static final Path CLASSES = Path.of(System.getProperty("basedir", ".")).resolve("target/classes");

    @Test
    public void manifestExportsOrtApiAtItsOwnVersion() throws IOException {
        Attributes main;
        try (InputStream in = Files.newInputStream(CLASSES.resolve("META-INF/MANIFEST.MF"))) {
            main = new Manifest(in).getMainAttributes();
        }
        assertEquals("com.microsoft.onnxruntime", main.getValue("Bundle-SymbolicName"));
        assertEquals("1.29.0", main.getValue("Bundle-Version"));
        String exports = main.getValue("Export-Package");
        for (String p : new String[] {"ai.onnxruntime;", "ai.onnxruntime.platform;", "ai.onnxruntime.providers;"}) {
            assertTrue(exports, exports.contains(p + "version=\"1.29.0\""));
        }
        String imports = main.getValue("Import-Package");
        assertTrue("-noimportjava: no java.* imports in " + imports, imports == null || !imports.contains("java."));
    }

    @Test
    public void classesAndNativesAreEmbedded() {
        assertTrue(Files.isRegularFile(CLASSES.resolve("ai/onnxruntime/OrtEnvironment.class")));
        assertTrue(Files.isRegularFile(CLASSES.resolve("ai/onnxruntime/native/linux-x64/libonnxruntime.so")));
        assertTrue(Files.isRegularFile(CLASSES.resolve("ai/onnxruntime/native/linux-aarch64/libonnxruntime.so")));
        assertTrue(Files.isRegularFile(CLASSES.resolve("ai/onnxruntime/native/linux-x64/libonnxruntime4j_jni.so")));
    }
}
