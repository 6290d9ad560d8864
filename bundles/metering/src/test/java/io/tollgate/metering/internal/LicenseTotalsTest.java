package io.tollgate.metering.internal;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

import io.tollgate.metering.MeteringException;
import io.tollgate.metering.UsageEvent;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import net.openhft.chronicle.core.time.SetTimeProvider;
import net.openhft.chronicle.queue.rollcycles.TestRollCycles;
import org.junit.Rule;
import org.junit.Test;
import org.junit.rules.TemporaryFolder;

/**
 * Per-license totals from the real journal: counted as records are written, established again at open from the
 * records, and kept across retention by the device-signed checkpoint written before any file is deleted.
 */
public class LicenseTotalsTest {
    @Rule
    public TemporaryFolder tmp = new TemporaryFolder();

    private final SetTimeProvider time = new SetTimeProvider(Instant.parse("2026-01-01T00:00:00Z"));

    private JournalOptions options(Path dir) {
        return Fixtures.options(dir).withRollCycle(TestRollCycles.TEST_SECONDLY, time);
    }

    private static UsageEvent licensed(String license, long quantity) {
        return new UsageEvent("acme", "fashion-mnist", "1.0.0", "tollgate.plugin.fashion-mnist", "1.0.0", license,
                "inference", quantity, 1000, "cpu", "req", "OK");
    }

    private static List<String> cq4(Path dir) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.map(p -> p.getFileName().toString()).filter(n -> n.endsWith(".cq4")).sorted()
                    .collect(Collectors.toList());
        }
    }

    @Test
    public void countsPerLicenseAndMeterAndSurvivesARestart() throws Exception {
        Path dir = tmp.newFolder("usage").toPath();
        try (ChronicleUsageJournal j = new ChronicleUsageJournal(Fixtures.KEY, options(dir))) {
            assertEquals(0, j.licenseQuantity("L1", "inference"));
            j.append(licensed("L1", 3));
            j.append(licensed("L1", 4));
            j.append(licensed("L2", 10));
            j.append(licensed("", 50));                                  // no license: not counted anywhere
            UsageEvent otherMeter = new UsageEvent("acme", "m", "1", "p", "1", "L1", "tokens", 100, 1, "cpu", "r", "OK");
            j.append(otherMeter);
            assertEquals(7, j.licenseQuantity("L1", "inference"));
            assertEquals(100, j.licenseQuantity("L1", "tokens"));
            assertEquals(10, j.licenseQuantity("L2", "inference"));
        }
        Path checkpoint = LicenseTotals.checkpointFile(dir);
        assertTrue("written at close: " + checkpoint, Files.exists(checkpoint));
        Files.delete(checkpoint);   // a deleted cache file: nothing was released, so the journal alone has it all
        try (ChronicleUsageJournal j = new ChronicleUsageJournal(Fixtures.KEY, options(dir))) {
            assertEquals(7, j.licenseQuantity("L1", "inference"));
            assertEquals(10, j.licenseQuantity("L2", "inference"));
            j.append(licensed("L1", 1));
            assertEquals(8, j.licenseQuantity("L1", "inference"));
        }
    }

    @Test
    public void retentionKeepsTheCountThroughTheCheckpoint() throws Exception {
        Path dir = tmp.newFolder("usage").toPath();
        Path checkpoint = LicenseTotals.checkpointFile(dir);
        try (ChronicleUsageJournal j = new ChronicleUsageJournal(Fixtures.KEY, options(dir))) {
            long seq = 0;
            for (int i = 0; i < 10; i++) {
                seq = j.append(licensed("L1", 2));
            }
            time.advanceMillis(1000);
            j.append(licensed("L1", 5));     // a new file: the first one can be released and deleted
            Files.delete(checkpoint);        // the one written at open: retention must write a new one first
            j.releaseUpTo(seq);
            assertEquals("the first file was deleted", 1, cq4(dir).size());
            assertTrue("a checkpoint was written before the deletion", Files.exists(checkpoint));
            assertEquals(25, j.licenseQuantity("L1", "inference"));
        }
        try (ChronicleUsageJournal j = new ChronicleUsageJournal(Fixtures.KEY, options(dir))) {
            assertEquals("counted from the checkpoint plus the records after it", 25,
                    j.licenseQuantity("L1", "inference"));
        }
        // The checkpoint deleted after its files went: the count cannot be established, and says so.
        Files.delete(checkpoint);
        try (ChronicleUsageJournal j = new ChronicleUsageJournal(Fixtures.KEY, options(dir))) {
            try {
                j.licenseQuantity("L1", "inference");
                fail("counted without the deleted records");
            } catch (MeteringException e) {
                assertEquals(MeteringException.Reason.COUNT_UNKNOWN, e.reason());
                assertTrue(e.getMessage(), e.getMessage().contains("were deleted")
                        && e.getMessage().contains("license-totals"));
            }
            j.append(licensed("", 1));      // unlicensed use goes on
        }
    }

    @Test
    public void aChangedOrReplayedCheckpointIsRefused() throws Exception {
        Path dir = tmp.newFolder("usage").toPath();
        Path checkpoint = LicenseTotals.checkpointFile(dir);
        long seq = 0;
        try (ChronicleUsageJournal j = new ChronicleUsageJournal(Fixtures.KEY, options(dir))) {
            for (int i = 0; i < 5; i++) {
                seq = j.append(licensed("L1", 10));
            }
            time.advanceMillis(1000);
            j.append(licensed("L1", 1));
            j.releaseUpTo(seq);
            assertEquals(1, cq4(dir).size());
        }
        byte[] good = Files.readAllBytes(checkpoint);
        String text = new String(good, StandardCharsets.UTF_8);
        assertTrue(text, text.contains("total L1 inference 51\n"));
        // lowering the total by hand breaks the device's signature
        Files.write(checkpoint, text.replace("total L1 inference 51", "total L1 inference 1")
                .getBytes(StandardCharsets.UTF_8));
        assertUnknown(dir, "does not verify");
        // the journal wiped: the checkpoint (outside its folder) says it counted further than the journal goes
        Files.write(checkpoint, good);
        try (Stream<Path> s = Files.list(dir)) {
            for (Path p : s.collect(Collectors.toList())) {
                Files.delete(p);
            }
        }
        assertUnknown(dir, "replaced, wiped or truncated");
    }

    private void assertUnknown(Path dir, String why) throws Exception {
        try (ChronicleUsageJournal j = new ChronicleUsageJournal(Fixtures.KEY, options(dir))) {
            j.licenseQuantity("L1", "inference");
            fail("a count from a checkpoint that must not be trusted");
        } catch (MeteringException e) {
            assertEquals(MeteringException.Reason.COUNT_UNKNOWN, e.reason());
            assertTrue(e.getMessage(), e.getMessage().contains(why));
        }
    }

    @Test
    public void aCheckpointOfAnotherChainIsRefused() throws Exception {
        Path a = tmp.newFolder("a", "usage").toPath();
        Path b = tmp.newFolder("b", "usage").toPath();
        for (Path dir : List.of(a, b)) {
            try (ChronicleUsageJournal j = new ChronicleUsageJournal(Fixtures.KEY, options(dir))) {
                j.append(licensed("L1", dir == a ? 1 : 2));
            }
        }
        Files.copy(LicenseTotals.checkpointFile(a), LicenseTotals.checkpointFile(b),
                java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        assertUnknown(b, "does not belong to this usage journal");
        assertFalse(Files.exists(LicenseTotals.checkpointFile(b).resolveSibling("usage.license-totals.tmp")));
    }
}
