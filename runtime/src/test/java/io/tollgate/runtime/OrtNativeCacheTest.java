package io.tollgate.runtime;

import static org.junit.Assert.assertArrayEquals;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertTrue;

import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;
import org.junit.After;
import org.junit.Before;
import org.junit.Rule;
import org.junit.Test;
import org.junit.rules.TemporaryFolder;

/**
 * ONNX Runtime's natives kept in the data folder (issue 11, start to ready), with the real ORT 1.29 bundle jar: the
 * first start extracts them, later starts check them against the jar and load them from there, and ORT itself
 * (in a JVM of its own) then copies nothing into its temporary folder.
 */
public class OrtNativeCacheTest {
    @Rule
    public TemporaryFolder tmp = new TemporaryFolder();

    private Path jar;
    private Path data;
    private String platform;

    @Before
    public void ortJar() throws Exception {
        jar = Path.of(ai.onnxruntime.OrtEnvironment.class.getProtectionDomain().getCodeSource().getLocation().toURI());
        data = tmp.newFolder("data").toPath();
        platform = OrtNativeCache.platform().orElseThrow();
        System.clearProperty(OrtNativeCache.PROPERTY);
    }

    @After
    public void clearProperty() {
        System.clearProperty(OrtNativeCache.PROPERTY);
    }

    private Path library(Path folder, String name) {
        return folder.resolve(OrtNativeCache.libraryFileName(name));
    }

    private byte[] entryBytes(String name) throws Exception {
        try (ZipFile zip = new ZipFile(jar.toFile());
             InputStream in = zip.getInputStream(zip.getEntry("ai/onnxruntime/native/" + platform + "/"
                     + OrtNativeCache.libraryFileName(name)))) {
            return in.readAllBytes();
        }
    }

    @Test
    public void theFirstStartExtractsBothLibrariesIntoAnOwnerOnlyFolderAndSetsOrtsProperty() throws Exception {
        Optional<Path> folder = OrtNativeCache.prepare(List.of(jar), data);

        assertTrue(folder.isPresent());
        assertEquals(data.resolve("native"), folder.get().getParent());
        assertTrue(folder.get().getFileName().toString(), folder.get().getFileName().toString().startsWith("onnxruntime-"));
        assertEquals(folder.get().toString(), System.getProperty(OrtNativeCache.PROPERTY));
        assertArrayEquals(entryBytes("onnxruntime"), Files.readAllBytes(library(folder.get(), "onnxruntime")));
        assertArrayEquals(entryBytes("onnxruntime4j_jni"), Files.readAllBytes(library(folder.get(), "onnxruntime4j_jni")));
        assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(folder.get())));
        assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(data.resolve("native"))));
        try (Stream<Path> s = Files.list(folder.get())) {
            assertEquals("no temporary file is left", 2, s.count());
        }
    }

    @Test
    public void aLaterStartKeepsTheFilesThatMatchTheJar() throws Exception {
        Path folder = OrtNativeCache.prepare(List.of(jar), data).orElseThrow();
        Path lib = library(folder, "onnxruntime");
        Object before = Files.readAttributes(lib, BasicFileAttributes.class).fileKey();
        System.clearProperty(OrtNativeCache.PROPERTY);

        assertEquals(Optional.of(folder), OrtNativeCache.prepare(List.of(jar), data));
        assertEquals("the same file (not written again)", before,
                Files.readAttributes(lib, BasicFileAttributes.class).fileKey());
    }

    @Test
    public void aLibraryThatDiffersFromTheJarIsExtractedAgain() throws Exception {
        Path folder = OrtNativeCache.prepare(List.of(jar), data).orElseThrow();
        Path lib = library(folder, "onnxruntime");
        byte[] changed = Files.readAllBytes(lib);
        changed[changed.length / 2] ^= 1;                               // same size, one bit off
        Files.write(lib, changed);
        Path jni = library(folder, "onnxruntime4j_jni");
        Files.write(jni, "cut short".getBytes(StandardCharsets.US_ASCII));
        System.clearProperty(OrtNativeCache.PROPERTY);

        OrtNativeCache.prepare(List.of(jar), data).orElseThrow();

        assertArrayEquals(entryBytes("onnxruntime"), Files.readAllBytes(lib));
        assertArrayEquals(entryBytes("onnxruntime4j_jni"), Files.readAllBytes(jni));
    }

    @Test
    public void aFolderOpenToOthersIsMadeOwnerOnlyAndLeftoversAreRemoved() throws Exception {
        Path folder = OrtNativeCache.prepare(List.of(jar), data).orElseThrow();
        Files.setPosixFilePermissions(folder, PosixFilePermissions.fromString("rwxrwxrwx"));
        Path part = Files.writeString(folder.resolve(".libonnxruntime.so123.part"), "cut short by a stop");
        Path old = Files.createDirectories(data.resolve("native").resolve("onnxruntime-0000000000000000"));
        Files.writeString(old.resolve("libonnxruntime.so"), "old");
        System.clearProperty(OrtNativeCache.PROPERTY);

        OrtNativeCache.prepare(List.of(jar), data).orElseThrow();

        assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(folder)));
        assertFalse(Files.exists(old));
        assertFalse(Files.exists(part));
    }

    @Test
    public void aPropertyTheOperatorSetIsLeftAlone() throws Exception {
        System.setProperty(OrtNativeCache.PROPERTY, "/opt/ort");

        assertEquals(Optional.empty(), OrtNativeCache.prepare(List.of(jar), data));
        assertEquals("/opt/ort", System.getProperty(OrtNativeCache.PROPERTY));
        assertFalse(Files.exists(data.resolve("native")));
    }

    @Test
    public void withoutAnOrtJarNothingIsMade() throws Exception {
        Path other = tmp.newFile("tollgate-api.jar").toPath();

        assertEquals(Optional.empty(), OrtNativeCache.prepare(List.of(other), data));
        assertEquals(null, System.getProperty(OrtNativeCache.PROPERTY));
    }

    @Test
    public void aFolderSomeoneElseOwnsIsNotUsed() throws Exception {
        Path folder = OrtNativeCache.prepare(List.of(jar), data).orElseThrow();
        System.clearProperty(OrtNativeCache.PROPERTY);
        java.nio.file.attribute.UserPrincipal nobody;
        try {
            nobody = folder.getFileSystem().getUserPrincipalLookupService().lookupPrincipalByName("nobody");
            Files.setOwner(folder, nobody);
        } catch (java.io.IOException notRoot) {
            org.junit.Assume.assumeNoException("changing a folder's owner needs root", notRoot);
            return;
        }

        assertEquals(Optional.empty(), OrtNativeCache.prepare(List.of(jar), data));
        assertEquals("ORT extracts to its temporary folder as before", null, System.getProperty(OrtNativeCache.PROPERTY));
    }

    @Test
    public void ortLoadsFromTheFolderAndExtractsNothingToItsTemporaryFolder() throws Exception {
        Path folder = OrtNativeCache.prepare(List.of(jar), data).orElseThrow();
        Path ortTmp = tmp.newFolder("ort-tmp").toPath();
        Path javaBin = Path.of(System.getProperty("java.home"), "bin", "java");
        String cp = jar + java.io.File.pathSeparator
                + Path.of(OrtLoadProbe.class.getProtectionDomain().getCodeSource().getLocation().toURI());
        Process p = new ProcessBuilder(javaBin.toString(), "-D" + OrtNativeCache.PROPERTY + "=" + folder,
                "-Djava.io.tmpdir=" + ortTmp, "-cp", cp, OrtLoadProbe.class.getName())
                .redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue("the probe ended", p.waitFor(60, TimeUnit.SECONDS));
        assertEquals(out, 0, p.exitValue());
        assertTrue(out, out.trim().startsWith("1.29"));
        try (Stream<Path> s = Files.walk(ortTmp)) {
            assertEquals("nothing extracted to java.io.tmpdir", List.of(),
                    s.filter(Files::isRegularFile).map(Path::toString).toList());
        }
    }
}
