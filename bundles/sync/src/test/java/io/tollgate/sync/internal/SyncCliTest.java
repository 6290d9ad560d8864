package io.tollgate.sync.internal;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import io.tollgate.sync.internal.cli.SyncCli;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import org.junit.Rule;
import org.junit.Test;
import org.junit.rules.TemporaryFolder;

public class SyncCliTest {
    @Rule
    public TemporaryFolder tmp = new TemporaryFolder();

    private final ByteArrayOutputStream out = new ByteArrayOutputStream();
    private final ByteArrayOutputStream err = new ByteArrayOutputStream();

    private int run(String... args) {
        return SyncCli.run(args, new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8));
    }

    private String out() {
        return out.toString(StandardCharsets.UTF_8);
    }

    @Test
    public void statusReadsTheCursorAndTheJournalWhileItIsOpen() throws Exception {
        Path data = tmp.newFolder("data").toPath();
        try (TestDevice device = new TestDevice(data)) {
            device.append(500);
            long last = device.settledLastSeq();
            new AckedSeqFile(data.resolve("sync")).write(200);
            assertEquals(0, run("sync", "status", "--data", data.toString()));
            String o = out();
            assertTrue(o, o.contains("acked seq:      200\n"));
            assertTrue(o, o.contains("journal:        seq 1 .. " + last + " on disk"));
            assertTrue(o, o.contains("backlog:        " + (last - 200) + " records"));
            assertTrue(o, o.contains("oldest unacked: seq 201 written "));
        }
    }

    @Test
    public void withoutAnyFilesItSaysSo() throws Exception {
        Path data = tmp.newFolder("empty").toPath();
        assertEquals(0, run("sync", "status", "--data", data.toString()));
        assertTrue(out(), out().contains("acked seq:      0   (no "));
        assertTrue(out(), out().contains("journal:        not readable"));
    }

    @Test
    public void badCommandLines() {
        assertEquals(SyncCli.USAGE, run("sync"));
        assertEquals(SyncCli.USAGE, run("sync", "status", "--verbose"));
        assertTrue(err.toString(StandardCharsets.UTF_8).contains("usage: sync status"));
    }
}
