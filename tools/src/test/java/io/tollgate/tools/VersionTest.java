package io.tollgate.tools;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertNotNull;

import io.tollgate.metering.files.JournalFiles;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.jar.JarFile;
import java.util.jar.Manifest;
import org.junit.Test;

/**
 * One version string: what {@code tollgate version} prints is the Maven project version, and the same string the
 * bundles carry in {@code Tollgate-Version} (which {@code GET /v2} reports; the endpoint's own test checks that).
 */
public class VersionTest {
    private static final String PROJECT_VERSION = System.getProperty("tollgate.project.version");

    @Test
    public void theToolsReportTheMavenProjectVersion() {
        assertNotNull("surefire passes tollgate.project.version", PROJECT_VERSION);
        assertEquals(PROJECT_VERSION, ProductVersion.current());
        assertEquals("tollgate " + PROJECT_VERSION + "\n", ToolRun.of("version").out());
    }

    @Test
    public void theBundlesCarryTheSameStringInTollgateVersion() throws Exception {
        Path metering = Paths.get(JournalFiles.class.getProtectionDomain().getCodeSource().getLocation().toURI());
        assertEquals(metering.toString(), PROJECT_VERSION,
                manifest(metering).getMainAttributes().getValue("Tollgate-Version"));
    }

    /** The manifest of a jar, or of a build's classes folder (where bnd writes it before packaging). */
    static Manifest manifest(Path jarOrFolder) throws Exception {
        if (Files.isDirectory(jarOrFolder)) {
            try (InputStream in = Files.newInputStream(jarOrFolder.resolve("META-INF/MANIFEST.MF"))) {
                return new Manifest(in);
            }
        }
        try (JarFile jar = new JarFile(jarOrFolder.toFile())) {
            return jar.getManifest();
        }
    }
}
