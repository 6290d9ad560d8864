package io.tollgate.endpoint.internal;

import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertNotNull;
import static org.junit.Assert.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import org.junit.Assume;
import org.junit.Rule;
import org.junit.Test;
import org.junit.rules.TemporaryFolder;

/** What the key file watcher says about a key file that is not a regular file. */
public class KeyFileWatcherTest {
    @Rule
    public final TemporaryFolder tmp = new TemporaryFolder();

    /**
     * A key file linked to a device writable by all (/dev/null, /dev/zero: mode rw-rw-rw-) was refused as "may be
     * written by group or others ... chmod 600 FILE": the wrong problem, and the advice, followed through the link,
     * would chmod the device. It is refused for what it is, a file that is not a regular file.
     */
    @Test
    public void keyFileLinkedToADeviceIsRefusedAsNotARegularFileNotForItsMode() throws Exception {
        Path dev = Paths.get("/dev/null");
        Assume.assumeTrue(Files.exists(dev));
        Path keys = tmp.getRoot().toPath().resolve("api-keys.json");
        Files.createSymbolicLink(keys, dev);
        KeyFileWatcher w = new KeyFileWatcher(keys, 0);
        try {
            String problem = w.current().problem();
            assertNotNull("a device is not a key file", problem);
            assertTrue(problem, problem.contains("is not a regular file"));
            assertFalse(problem, problem.contains("chmod 600"));
        } finally {
            w.close();
        }
    }
}
