package io.tollgate.metering.files;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

import io.tollgate.metering.UsageRecord;
import io.tollgate.metering.testing.TestJournal;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import org.junit.Rule;
import org.junit.Test;
import org.junit.rules.TemporaryFolder;

/** The exported entry point over a real data directory: what offline tools see. */
public class MeteringFilesTest {
    @Rule
    public TemporaryFolder tmp = new TemporaryFolder();

    @Test
    public void walksEveryRecordWithSeqKindAndTime() throws Exception {
        Path data = tmp.newFolder("data").toPath();
        Instant t = Instant.parse("2026-11-30T09:00:00Z");
        try (TestJournal j = TestJournal.open(data, 1_000_000, 3_600_000, Clock.fixed(t, ZoneOffset.UTC))) {
            j.append(TestJournal.event("acme", "ocr", 1, "r1"));
            j.append(TestJournal.event("acme", "ocr", 2, "r2"));
        }
        List<JournalEntry> entries = new ArrayList<>();
        long n = JournalFiles.of(data).forEach(e -> entries.add(e));
        assertEquals(5, n);
        assertEquals(List.of(new JournalEntry(1, UsageRecord.Kind.START, t), new JournalEntry(2, UsageRecord.Kind.SEAL, t),
                new JournalEntry(3, UsageRecord.Kind.USAGE, t), new JournalEntry(4, UsageRecord.Kind.USAGE, t),
                new JournalEntry(5, UsageRecord.Kind.SEAL, t)), entries);
        JournalCheck check = JournalFiles.of(data).verify();
        assertTrue(check.summary(), check.ok());
        assertEquals(5, check.records());
        assertEquals(2, check.usageRecords());
        assertEquals(2, check.seals());
        assertEquals(0, check.unsealed());
        List<UsageTotals> totals = JournalFiles.of(data).summary(null, null);
        assertEquals(List.of(new UsageTotals("acme", "ocr", "inference", 2, 3, 4_000_000, t, t)), totals);
    }

    @Test
    public void deviceInitCreatesTheIdentityOnceAndIdAndPemReadIt() throws Exception {
        Path data = tmp.newFolder("data").toPath();
        DeviceFiles device = DeviceFiles.of(data);
        String id = device.init();
        assertTrue(id, id.matches("tg-[0-9a-f]{16}"));
        assertEquals("a second init keeps the key", id, device.init());
        assertEquals(id, device.id());
        assertEquals(Files.readString(device.publicKeyFile()), device.publicKeyPem());
        Files.delete(device.directory().resolve("device.id"));
        assertEquals("derived from the public key when device.id is gone", id, device.id());
    }

    @Test
    public void missingFilesAreNamed() throws Exception {
        Path empty = tmp.newFolder("empty").toPath();
        try {
            JournalFiles.of(empty).summary(null, null);
            fail();
        } catch (NoSuchFileException e) {
            assertEquals(empty.resolve("usage").toString(), e.getFile());
            assertTrue(e.getReason(), e.getReason().contains("no usage journal here"));
        }
        try {
            DeviceFiles.of(empty).publicKeyPem();
            fail();
        } catch (NoSuchFileException e) {
            assertTrue(e.getFile(), e.getFile().endsWith("device.pub.pem"));
        }
    }
}
