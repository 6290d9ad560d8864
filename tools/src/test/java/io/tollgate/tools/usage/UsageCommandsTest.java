package io.tollgate.tools.usage;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertTrue;

import io.tollgate.metering.testing.TestJournal;
import io.tollgate.tools.ExitCodes;
import io.tollgate.tools.ToolRun;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Collectors;
import org.junit.Before;
import org.junit.Rule;
import org.junit.Test;
import org.junit.rules.TemporaryFolder;

/** {@code usage verify|summary|export} and {@code device id|pubkey} on a real journal (moved from metering's MeteringCliTest). */
public class UsageCommandsTest {
    @Rule
    public TemporaryFolder tmp = new TemporaryFolder();

    private Path data;
    private String deviceId;
    private final SteppingClock clock = new SteppingClock(Instant.parse("2026-03-01T10:00:00Z"));

    /** Wall clock for the records: each reading is one second after the one before. */
    static final class SteppingClock extends Clock {
        private Instant now;

        SteppingClock(Instant start) {
            now = start;
        }

        @Override
        public synchronized Instant instant() {
            Instant i = now;
            now = now.plusSeconds(1);
            return i;
        }

        @Override
        public ZoneId getZone() {
            return ZoneOffset.UTC;
        }

        @Override
        public Clock withZone(ZoneId zone) {
            return this;
        }
    }

    private TestJournal open() throws Exception {
        return TestJournal.open(data, 1_000_000, 3_600_000, clock);
    }

    @Before
    public void writeJournal() throws Exception {
        data = tmp.newFolder("data").toPath();
        // times: START 10:00:00, its seal 10:00:01, usage 10:00:02 .. 10:00:07, shutdown seal 10:00:08
        try (TestJournal j = open()) {
            deviceId = j.deviceId();
            j.append(TestJournal.event("acme", "fashion-mnist", 4, "r1"));
            j.append(TestJournal.event("acme", "fashion-mnist", 2, "r2"));
            j.append(TestJournal.event("acme", "ocr", 1, "r3"));
            j.append(TestJournal.event("globex", "fashion-mnist", 8, "r4, \"quoted\""));
            j.append(TestJournal.event("acme", "fashion-mnist", 1, "r5"));
            j.append(TestJournal.event("globex", "fashion-mnist", 16, "=r6+1"));
        }
    }

    private ToolRun cli(String... args) {
        return ToolRun.of(args);
    }

    @Test
    public void verifyPrintsCountsAndExitsZero() {
        ToolRun r = cli("usage", "verify", "--data", data.toString());
        assertEquals(r.err(), 0, r.code());
        assertTrue(r.out(), r.out().contains("records: 9\n"));
        assertTrue(r.out(), r.out().contains("seals: 2\n"));
        assertTrue(r.out(), r.out().startsWith("OK: 9 records (seq 1..9): 6 usage, 2 seals, 1 starts"));
    }

    @Test
    public void verifyNamesTheFirstBadSeqAndExitsOne() throws Exception {
        TestJournal.editInPlace(data.resolve("usage"), "r5".getBytes(StandardCharsets.UTF_8),
                "r0".getBytes(StandardCharsets.UTF_8));
        ToolRun r = cli("usage", "verify", "--data", data.toString());
        assertEquals(ExitCodes.FAILED, r.code());
        assertTrue(r.err(), r.err().contains("FAILED: seq 8: prev_hash does not match the hash of seq 7"));
    }

    @Test
    public void verifyWorksWhileTheJournalIsOpen() throws Exception {
        try (TestJournal j = open()) {
            j.append(TestJournal.event("acme", "ocr", 1, "live"));
            ToolRun r = cli("usage", "verify", "--data", data.toString());
            assertEquals(r.err(), 0, r.code());
            assertTrue(r.out(), r.out().contains("records: 12\n"));
            assertTrue(r.out(), r.out().contains("1 records after the last seal"));
        }
    }

    @Test
    public void summaryTotalsPerTenantModelAndMeter() {
        ToolRun r = cli("usage", "summary", "--data", data.toString(), "--json");
        assertEquals(r.err(), 0, r.code());
        List<String> lines = Arrays.asList(r.out().split("\n"));
        assertEquals(List.of(
                "{\"tenant\":\"acme\",\"model\":\"fashion-mnist\",\"meter\":\"inference\",\"requests\":3,\"quantity\":7,"
                        + "\"compute_nanos\":6000000,\"first_time\":\"2026-03-01T10:00:02Z\",\"last_time\":\"2026-03-01T10:00:06Z\"}",
                "{\"tenant\":\"acme\",\"model\":\"ocr\",\"meter\":\"inference\",\"requests\":1,\"quantity\":1,"
                        + "\"compute_nanos\":2000000,\"first_time\":\"2026-03-01T10:00:04Z\",\"last_time\":\"2026-03-01T10:00:04Z\"}",
                "{\"tenant\":\"globex\",\"model\":\"fashion-mnist\",\"meter\":\"inference\",\"requests\":2,\"quantity\":24,"
                        + "\"compute_nanos\":4000000,\"first_time\":\"2026-03-01T10:00:05Z\",\"last_time\":\"2026-03-01T10:00:07Z\"}"),
                lines);
        ToolRun window = cli("usage", "summary", "--data", data.toString(), "--json", "--from", "2026-03-01T10:00:04Z",
                "--to", "2026-03-01T11:00:06+01:00");
        assertEquals(2, window.out().split("\n").length);
        assertTrue(window.out(), window.out().contains("\"tenant\":\"acme\",\"model\":\"ocr\""));
        assertTrue(window.out(), window.out().contains(
                "\"tenant\":\"globex\",\"model\":\"fashion-mnist\",\"meter\":\"inference\",\"requests\":1,\"quantity\":8"));
        ToolRun table = cli("usage", "summary", "--data", data.toString(), "--from", "2026-03-02");
        assertEquals(0, table.code());
        assertEquals("only the header", 1, table.out().split("\n").length);
        assertTrue(table.out().startsWith("TENANT"));
        ToolRun all = cli("usage", "summary", "--data", data.toString());
        assertTrue(all.out(), all.out().contains(
                "\nglobex               fashion-mnist            inference               2           24          4.000\n"));
    }

    @Test
    public void exportWritesCsvAndJsonLines() {
        ToolRun csv = cli("usage", "export", "--data", data.toString(), "--format", "csv");
        assertEquals(csv.err(), 0, csv.code());
        String[] rows = csv.out().split("\r\n");
        assertEquals(7, rows.length);
        assertEquals("device_id,seq,kind,time,wall_time_nanos,monotonic_nanos,tenant,model,model_version,plugin,"
                + "plugin_version,license_id,meter,quantity,compute_nanos,accelerator,request_id,status,sealed_seq,"
                + "sealed_hash,seal_reason,signature,previous_run,prev_hash,hash", rows[0]);
        assertTrue(rows[1], rows[1].startsWith(deviceId + ",3,usage,2026-03-01T10:00:02Z,"));
        assertTrue(rows[4], rows[4].contains(",\"r4, \"\"quoted\"\"\",OK,"));
        assertTrue("a cell never starts a spreadsheet formula: " + rows[6], rows[6].contains(",'=r6+1,OK,"));
        ToolRun jsonl = cli("usage", "export", "--data", data.toString(), "--format", "JSONL");
        List<String> lines = Arrays.stream(jsonl.out().split("\n")).collect(Collectors.toList());
        assertEquals(6, lines.size());
        assertTrue(lines.get(0), lines.get(0).startsWith("{\"device_id\":\"" + deviceId + "\",\"seq\":3,\"kind\":\"usage\","));
        assertTrue(lines.get(0), lines.get(0).contains("\"quantity\":4,\"compute_nanos\":2000000,\"accelerator\":\"cpu\""));
        assertTrue(lines.get(3), lines.get(3).contains("\"request_id\":\"r4, \\\"quoted\\\"\""));
        ToolRun all = cli("usage", "export", "--data", data.toString(), "--format", "jsonl", "--all");
        String[] allLines = all.out().split("\n");
        assertEquals(9, allLines.length);
        assertTrue(allLines[0], allLines[0].contains("\"kind\":\"start\"") && allLines[0].contains("\"previous_run\":\"NEW_JOURNAL\""));
        assertTrue(allLines[8], allLines[8].contains("\"kind\":\"seal\",") && allLines[8].contains("\"sealed_seq\":8,")
                && allLines[8].contains("\"seal_reason\":\"SHUTDOWN\""));
    }

    @Test
    public void deviceIdAndPublicKey() throws Exception {
        ToolRun id = cli("device", "id", "--data", data.toString());
        assertEquals(new ToolRun(0, deviceId + "\n", ""), id);
        Files.delete(data.resolve("device/device.id"));
        assertEquals(deviceId + "\n", cli("device", "id", "--data", data.toString()).out());
        ToolRun pub = cli("device", "pubkey", "--data", data.toString());
        assertEquals(new ToolRun(0, Files.readString(data.resolve("device/device.pub.pem")), ""), pub);
    }

    @Test
    public void deviceInitCreatesTheIdentityOnce() throws Exception {
        Path fresh = tmp.newFolder("fresh").toPath();
        ToolRun first = cli("device", "init", "--data", fresh.toString());
        assertEquals(first.err(), 0, first.code());
        assertTrue(first.out(), first.out().matches("tg-[0-9a-f]{16}\n"));
        assertTrue(Files.exists(fresh.resolve("device/device.pub.pem")));
        assertEquals(first, cli("device", "init", "--data", fresh.toString()));
        assertEquals(first.out(), cli("device", "id", "--data", fresh.toString()).out());
    }

    @Test
    public void theDataDirectoryDefaultsToTollgateHomeData() throws Exception {
        String before = System.getProperty("tollgate.home");
        System.setProperty("tollgate.home", tmp.getRoot().toString());
        try {
            assertEquals(deviceId + "\n", cli("device", "id").out());
        } finally {
            if (before == null) {
                System.clearProperty("tollgate.home");
            } else {
                System.setProperty("tollgate.home", before);
            }
        }
    }

    @Test
    public void missingFilesExitThreeAndSayWhich() throws Exception {
        Path empty = tmp.newFolder("empty").toPath();
        ToolRun missing = cli("usage", "verify", "--data", empty.toString());
        assertEquals(ExitCodes.IO_ERROR, missing.code());
        assertEquals("tollgate usage verify: cannot read " + empty.resolve("device/device.pub.pem")
                + ": no device public key; the appliance creates it on first start\n", missing.err());
        Files.createDirectories(empty.resolve("device"));
        Files.copy(data.resolve("device/device.pub.pem"), empty.resolve("device/device.pub.pem"));
        ToolRun noJournal = cli("usage", "export", "--data", empty.toString(), "--format", "csv");
        assertEquals(ExitCodes.IO_ERROR, noJournal.code());
        assertEquals("no CSV header for a journal that is not there", "", noJournal.out());
        assertTrue(noJournal.err(), noJournal.err().contains("no usage journal here"));
        assertEquals(ExitCodes.IO_ERROR, cli("device", "pubkey", "--data", tmp.newFolder("none").toString()).code());
    }

    @Test
    public void summaryRefusesAWindowThatEndsBeforeItStarts() {
        for (String[] window : new String[][] {{"2027-01-01", "2026-01-01"}, {"2026-05-01", "2026-05-01"}}) {
            ToolRun r = cli("usage", "summary", "--data", data.toString(), "--from", window[0], "--to", window[1]);
            assertEquals(r.toString(), ExitCodes.USAGE, r.code());
            assertEquals("", r.out());
            assertTrue(r.err(), r.err().startsWith("tollgate usage summary: --from must be before --to (--from "
                    + window[0] + "T00:00:00Z, --to " + window[1] + "T00:00:00Z)"));
        }
    }

    @Test
    public void anEmptyDataPathIsABadCommandLineNotTheCurrentDirectory() {
        String[][] commands = {{"usage", "verify"}, {"usage", "summary"}, {"usage", "export", "--format", "csv"},
            {"device", "init"}, {"device", "id"}, {"device", "pubkey"}, {"sync", "status"}};
        for (String[] command : commands) {
            List<String> args = new ArrayList<>(List.of(command));
            args.addAll(List.of("--data", ""));
            ToolRun r = cli(args.toArray(new String[0]));
            String name = "tollgate " + command[0] + " " + command[1];
            assertEquals(new ToolRun(ExitCodes.USAGE, "", name + ": --data must not be empty (try '" + name
                    + " --help')\n"), r);
        }
        assertFalse("device init wrote nothing here", Files.exists(Path.of("device")));
    }

    @Test
    public void aDamagedKeyFileIsUnreadableNotACrash() throws Exception {
        Files.writeString(data.resolve("device/device.pub.pem"), "not a key\n");
        for (String[] args : new String[][] {{"device", "pubkey"}, {"usage", "verify"}}) {
            ToolRun r = cli(args[0], args[1], "--data", data.toString());
            assertEquals(r.toString(), ExitCodes.IO_ERROR, r.code());
            assertEquals(r.toString(), 1, r.err().lines().count());
            assertTrue(r.err(), r.err().contains("device.pub.pem holds no '-----BEGIN PUBLIC KEY-----' block"));
        }
    }
}
