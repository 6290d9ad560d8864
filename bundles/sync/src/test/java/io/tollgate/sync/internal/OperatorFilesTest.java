package io.tollgate.sync.internal;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

import java.io.IOException;
import java.nio.file.Path;
import org.junit.Rule;
import org.junit.Test;
import org.junit.rules.TemporaryFolder;

/**
 * The files sync's configuration names (the cloud's ack key, the TLS certificates and key) are read only when they are
 * regular files of a bounded size: a FIFO blocked the component's activation until something wrote to it.
 */
public class OperatorFilesTest {
    @Rule
    public final TemporaryFolder tmp = new TemporaryFolder();

    @Test(timeout = 20_000)
    public void aFifoOrDeviceIsRefusedAtOnce() throws Exception {
        Path fifo = tmp.getRoot().toPath().resolve("cloud-ack.pub.pem");
        assertEquals(0, new ProcessBuilder("mkfifo", fifo.toString()).inheritIO().start().waitFor());
        for (Path p : new Path[] {fifo, Path.of("/dev/zero")}) {
            try {
                AckSignatureVerifier.fromPemFile(p);
                fail("read " + p);
            } catch (IOException e) {
                assertTrue(e.getMessage(), e.getMessage().contains(p + " is not a regular file"));
            }
        }
    }
}
