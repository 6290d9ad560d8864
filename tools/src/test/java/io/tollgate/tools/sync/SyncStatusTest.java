package io.tollgate.tools.sync;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import io.tollgate.metering.testing.TestJournal;
import io.tollgate.tools.ExitCodes;
import io.tollgate.tools.ToolRun;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.Rule;
import org.junit.Test;
import org.junit.rules.TemporaryFolder;

/** {@code sync status} on real files (moved from sync's SyncCliTest). */
public class SyncStatusTest {
    @Rule
    public TemporaryFolder tmp = new TemporaryFolder();

    @Test
    public void statusReadsTheCursorAndTheJournalWhileItIsOpen() throws Exception {
        Path data = tmp.newFolder("data").toPath();
        try (TestJournal device = TestJournal.open(data, 256, 3_600_000, null)) {
            for (int i = 0; i < 500; i++) {
                device.append(TestJournal.event("acme", "fashion-mnist", 1, "r" + i));
            }
            long last = device.settledLastSeq();
            Files.createDirectories(data.resolve("sync"));
            Files.writeString(data.resolve("sync/acked-seq"), "200\n", StandardCharsets.US_ASCII);
            ToolRun r = ToolRun.of("sync", "status", "--data", data.toString());
            assertEquals(r.toString(), 0, r.code());
            String o = r.out();
            assertTrue(o, o.contains("acked seq:      200\n"));
            assertTrue(o, o.contains("journal:        seq 1 .. " + last + " on disk"));
            assertTrue(o, o.contains("backlog:        " + (last - 200) + " records"));
            assertTrue(o, o.contains("oldest unacked: seq 201 written "));
        }
    }

    /** Issue 8: what the broker's packet limit does to sending, as the uplink wrote it, is one line of the status. */
    @Test
    public void statusSaysWhatTheBrokersPacketLimitDoesToSending() throws Exception {
        Path data = tmp.newFolder("data").toPath();
        try (TestJournal device = TestJournal.open(data, 256, 3_600_000, null)) {
            device.append(TestJournal.event("acme", "fashion-mnist", 1, "r1"));
            device.settledLastSeq();
            ToolRun before = ToolRun.of("sync", "status", "--data", data.toString());
            assertTrue(before.out(), !before.out().contains("uplink:"));
            Files.createDirectories(data.resolve("sync"));
            Files.writeString(data.resolve("sync/uplink-note"), "usage record seq 2 needs a packet of 8214 bytes, "
                    + "over the broker maximum packet size 4096 bytes: sending is held at seq 2; raise the broker's "
                    + "limit (mosquitto: max_packet_size) to at least 8214\n", StandardCharsets.UTF_8);
            ToolRun r = ToolRun.of("sync", "status", "--data", data.toString());
            assertEquals(r.toString(), 0, r.code());
            assertTrue(r.out(), r.out().contains("uplink:         usage record seq 2 needs a packet of 8214 bytes, over "
                    + "the broker maximum packet size 4096 bytes: sending is held at seq 2; raise the broker's limit "
                    + "(mosquitto: max_packet_size) to at least 8214\n"));
        }
    }

    @Test
    public void withoutAJournalItExitsThreeLikeTheUsageCommands() throws Exception {
        Path empty = tmp.newFolder("empty").toPath();
        for (Path data : new Path[] {empty, empty.resolve("nonexistent")}) {
            ToolRun r = ToolRun.of("sync", "status", "--data", data.toString());
            assertEquals(r.toString(), ExitCodes.IO_ERROR, r.code());
            assertEquals("no half report on stdout", "", r.out());
            assertEquals(r.toString(), 1, r.err().lines().count());
            assertTrue(r.err(), r.err().startsWith("tollgate sync status: cannot read " + data.resolve("usage")));
            assertTrue(r.err(), r.err().contains("no usage journal here"));
        }
    }

    @Test
    public void aDamagedCursorIsAnIoErrorThatSaysHowToRecover() throws Exception {
        Path data = tmp.newFolder("data").toPath();
        Files.createDirectories(data.resolve("sync"));
        Files.writeString(data.resolve("sync/acked-seq"), "banana\n", StandardCharsets.US_ASCII);
        ToolRun r = ToolRun.of("sync", "status", "--data", data.toString());
        assertEquals(3, r.code());
        assertTrue(r.err(), r.err().startsWith("tollgate sync status: ") && r.err().contains("delete it"));
    }
}
