package io.tollgate.config;

import static org.junit.Assert.assertArrayEquals;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import org.junit.Rule;
import org.junit.Test;
import org.junit.rules.TemporaryFolder;

/** Operator-named files: a FIFO, a device, a folder or an oversized file is refused at once, never read. */
public class ConfigFileTest {
    @Rule
    public TemporaryFolder tmp = new TemporaryFolder();

    private static void refused(Path file, int max, String... words) {
        try {
            ConfigFile.read(file, max);
            fail("read " + file);
        } catch (IOException e) {
            for (String w : words) {
                assertTrue(e.getMessage() + " should say " + w, e.getMessage().contains(w));
            }
        }
    }

    /** Before ConfigFile, a FIFO blocked the reader until a writer came (for ever), /dev/zero never ended. */
    @Test(timeout = 20_000)
    public void fifosDevicesAndFoldersAreRefusedAtOnce() throws Exception {
        Path fifo = tmp.getRoot().toPath().resolve("cert.pem");
        assertEquals(0, new ProcessBuilder("mkfifo", fifo.toString()).inheritIO().start().waitFor());
        refused(fifo, 1024, fifo.toString(), "not a regular file", "FIFO");
        refused(Path.of("/dev/zero"), 1024, "/dev/zero", "not a regular file");
        refused(tmp.getRoot().toPath(), 1024, "not a regular file (a folder)");
        Path link = tmp.getRoot().toPath().resolve("link.pem");
        Files.createSymbolicLink(link, fifo);
        refused(link, 1024, "not a regular file");
    }

    @Test
    public void aFileAboveTheLimitIsRefusedAndOneWithinIsReadWhole() throws Exception {
        Path f = tmp.getRoot().toPath().resolve("key.pem");
        Files.write(f, new byte[1025]);
        refused(f, 1024, f.toString(), "larger than 1024 bytes (1025 bytes)");
        Files.write(f, "-----BEGIN".getBytes(StandardCharsets.US_ASCII));
        assertArrayEquals("-----BEGIN".getBytes(StandardCharsets.US_ASCII), ConfigFile.read(f, 1024));
        assertEquals("-----BEGIN", ConfigFile.readString(f, 10));
        Path link = tmp.getRoot().toPath().resolve("via-link.pem");
        Files.createSymbolicLink(link, f);
        assertEquals("a link to a regular file is followed", "-----BEGIN", ConfigFile.readString(link, 10));
        try {
            ConfigFile.read(tmp.getRoot().toPath().resolve("missing.pem"), 10);
            fail("read a missing file");
        } catch (NoSuchFileException expected) {
            // callers tell a missing file from a bad one
        }
    }
}
