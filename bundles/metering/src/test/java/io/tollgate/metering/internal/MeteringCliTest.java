package io.tollgate.metering.internal;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import io.tollgate.metering.UsageEvent;
import io.tollgate.metering.internal.cli.MeteringCli;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Collectors;
import org.junit.Before;
import org.junit.Rule;
import org.junit.Test;
import org.junit.rules.TemporaryFolder;

public class MeteringCliTest {
    @Rule
    public TemporaryFolder tmp = new TemporaryFolder();

    private Path data;
    private Ed25519DeviceKey key;
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

    private static UsageEvent event(String tenant, String model, long quantity, String requestId) {
        return new UsageEvent(tenant, model, "1.0.0", "io.tollgate.plugin." + model, "1.0.0", "", "inference",
                quantity, 2_000_000, "cpu", requestId, "OK");
    }

    private JournalOptions options() {
        JournalOptions o = Fixtures.options(data.resolve("usage"));
        return new JournalOptions(o.directory(), o.diskBudgetBytes(), o.sealEveryRecords(), o.sealEveryMs(), o.sync(),
                o.rollCycle(), o.chronicleTime(), clock);
    }

    @Before
    public void writeJournal() throws Exception {
        data = tmp.newFolder("data").toPath();
        key = Ed25519DeviceKey.loadOrCreate(data.resolve("device"), "");
        // times: START 10:00:00, its seal 10:00:01, usage 10:00:02 .. 10:00:07, shutdown seal 10:00:08
        try (ChronicleUsageJournal j = new ChronicleUsageJournal(key, options())) {
            j.append(event("acme", "fashion-mnist", 4, "r1"));
            j.append(event("acme", "fashion-mnist", 2, "r2"));
            j.append(event("acme", "ocr", 1, "r3"));
            j.append(event("globex", "fashion-mnist", 8, "r4, \"quoted\""));
            j.append(event("acme", "fashion-mnist", 1, "r5"));
            j.append(event("globex", "fashion-mnist", 16, "r6"));
        }
    }

    private static final class Run {
        int code;
        String out;
        String err;
    }

    private Run cli(String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        Run r = new Run();
        r.code = MeteringCli.run(args, new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8));
        r.out = out.toString(StandardCharsets.UTF_8);
        r.err = err.toString(StandardCharsets.UTF_8);
        return r;
    }

    @Test
    public void verifyPrintsCountsAndExitsZero() {
        Run r = cli("usage", "verify", "--data", data.toString());
        assertEquals(r.err, 0, r.code);
        assertTrue(r.out, r.out.contains("records: 9\n"));
        assertTrue(r.out, r.out.contains("seals: 2\n"));
        assertTrue(r.out, r.out.startsWith("OK: 9 records (seq 1..9): 6 usage, 2 seals, 1 starts"));
    }

    @Test
    public void verifyNamesTheFirstBadSeqAndExitsNonZero() throws Exception {
        UsageVerifierTest.editInPlace(data.resolve("usage"), "r5".getBytes(StandardCharsets.UTF_8),
                "r0".getBytes(StandardCharsets.UTF_8));
        Run r = cli("usage", "verify", "--data", data.toString());
        assertEquals(MeteringCli.VERIFY_FAILED, r.code);
        assertTrue(r.err, r.err.contains("FAILED: seq 8: prev_hash does not match the hash of seq 7"));
    }

    @Test
    public void verifyWorksWhileTheJournalIsOpen() throws Exception {
        try (ChronicleUsageJournal j = new ChronicleUsageJournal(key, options())) {
            j.append(event("acme", "ocr", 1, "live"));
            Run r = cli("usage", "verify", "--data", data.toString());
            assertEquals(r.err, 0, r.code);
            assertTrue(r.out, r.out.contains("records: 12\n"));
            assertTrue(r.out, r.out.contains("1 records after the last seal"));
        }
    }

    @Test
    public void summaryTotalsPerTenantModelAndMeter() {
        Run r = cli("usage", "summary", "--data", data.toString(), "--json");
        assertEquals(r.err, 0, r.code);
        List<String> lines = Arrays.asList(r.out.split("\n"));
        assertEquals(List.of(
                "{\"tenant\":\"acme\",\"model\":\"fashion-mnist\",\"meter\":\"inference\",\"requests\":3,\"quantity\":7,"
                        + "\"compute_nanos\":6000000,\"first_time\":\"2026-03-01T10:00:02Z\",\"last_time\":\"2026-03-01T10:00:06Z\"}",
                "{\"tenant\":\"acme\",\"model\":\"ocr\",\"meter\":\"inference\",\"requests\":1,\"quantity\":1,"
                        + "\"compute_nanos\":2000000,\"first_time\":\"2026-03-01T10:00:04Z\",\"last_time\":\"2026-03-01T10:00:04Z\"}",
                "{\"tenant\":\"globex\",\"model\":\"fashion-mnist\",\"meter\":\"inference\",\"requests\":2,\"quantity\":24,"
                        + "\"compute_nanos\":4000000,\"first_time\":\"2026-03-01T10:00:05Z\",\"last_time\":\"2026-03-01T10:00:07Z\"}"),
                lines);
        Run window = cli("usage", "summary", "--data", data.toString(), "--json", "--from", "2026-03-01T10:00:04Z",
                "--to", "2026-03-01T10:00:06Z");
        assertEquals(2, window.out.split("\n").length);
        assertTrue(window.out, window.out.contains("\"tenant\":\"acme\",\"model\":\"ocr\""));
        assertTrue(window.out, window.out.contains("\"tenant\":\"globex\",\"model\":\"fashion-mnist\",\"meter\":\"inference\",\"requests\":1,\"quantity\":8"));
        Run table = cli("usage", "summary", "--data", data.toString(), "--from", "2026-03-02");
        assertEquals(0, table.code);
        assertEquals("only the header", 1, table.out.split("\n").length);
        assertTrue(table.out.startsWith("TENANT"));
    }

    @Test
    public void exportWritesCsvAndJsonLines() {
        Run csv = cli("usage", "export", "--data", data.toString(), "--format", "csv");
        assertEquals(csv.err, 0, csv.code);
        String[] rows = csv.out.split("\r\n");
        assertEquals(7, rows.length);
        assertEquals(String.join(",", UsageExport.FIELDS), rows[0]);
        assertTrue(rows[1], rows[1].startsWith(key.deviceId() + ",3,usage,2026-03-01T10:00:02Z,"));
        assertTrue(rows[4], rows[4].contains(",\"r4, \"\"quoted\"\"\",OK,"));
        Run jsonl = cli("usage", "export", "--data", data.toString(), "--format", "jsonl");
        List<String> lines = Arrays.stream(jsonl.out.split("\n")).collect(Collectors.toList());
        assertEquals(6, lines.size());
        assertTrue(lines.get(0), lines.get(0).startsWith("{\"device_id\":\"" + key.deviceId() + "\",\"seq\":3,\"kind\":\"usage\","));
        assertTrue(lines.get(0), lines.get(0).contains("\"quantity\":4,\"compute_nanos\":2000000,\"accelerator\":\"cpu\""));
        assertTrue(lines.get(3), lines.get(3).contains("\"request_id\":\"r4, \\\"quoted\\\"\""));
        Run all = cli("usage", "export", "--data", data.toString(), "--format", "jsonl", "--all");
        String[] allLines = all.out.split("\n");
        assertEquals(9, allLines.length);
        assertTrue(allLines[0], allLines[0].contains("\"kind\":\"start\"") && allLines[0].contains("\"previous_run\":\"NEW_JOURNAL\""));
        assertTrue(allLines[8], allLines[8].contains("\"kind\":\"seal\",") && allLines[8].contains("\"sealed_seq\":8,")
                && allLines[8].contains("\"seal_reason\":\"SHUTDOWN\""));
    }

    @Test
    public void deviceIdAndPublicKey() throws Exception {
        Run id = cli("device", "id", "--data", data.toString());
        assertEquals(0, id.code);
        assertEquals(key.deviceId() + "\n", id.out);
        Files.delete(data.resolve("device").resolve(Ed25519DeviceKey.ID_FILE));
        assertEquals(key.deviceId() + "\n", cli("device", "id", "--data", data.toString()).out);
        Run pub = cli("device", "pubkey", "--data", data.toString());
        assertEquals(0, pub.code);
        assertEquals(Files.readString(data.resolve("device").resolve(DevicePublicKey.FILE)), pub.out);
    }

    @Test
    public void badCommandLinesAndMissingFilesSayWhat() throws Exception {
        assertEquals(MeteringCli.USAGE, cli("usage").code);
        Run unknown = cli("usage", "frobnicate");
        assertEquals(MeteringCli.USAGE, unknown.code);
        assertTrue(unknown.err, unknown.err.contains("unknown command 'usage frobnicate'"));
        Run format = cli("usage", "export", "--data", data.toString(), "--format", "xml");
        assertEquals(MeteringCli.USAGE, format.code);
        assertTrue(format.err, format.err.contains("--format jsonl or --format csv, not 'xml'"));
        assertEquals(MeteringCli.USAGE, cli("usage", "summary", "--data", data.toString(), "--from", "yesterday").code);
        assertEquals(MeteringCli.USAGE, cli("usage", "verify", "--json").code);
        Path empty = tmp.newFolder("empty").toPath();
        Run missing = cli("usage", "verify", "--data", empty.toString());
        assertEquals(MeteringCli.IO_ERROR, missing.code);
        assertTrue(missing.err, missing.err.contains("device.pub.pem"));
        Files.createDirectories(empty.resolve("device"));
        Files.copy(data.resolve("device/device.pub.pem"), empty.resolve("device/device.pub.pem"));
        Run noJournal = cli("usage", "summary", "--data", empty.toString());
        assertEquals(MeteringCli.IO_ERROR, noJournal.code);
        assertTrue(noJournal.err, noJournal.err.contains("no usage journal here"));
    }
}
