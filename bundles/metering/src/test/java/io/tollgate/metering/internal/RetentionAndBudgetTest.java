package io.tollgate.metering.internal;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

import io.tollgate.metering.JournalStatus;
import io.tollgate.metering.MeteringException;
import io.tollgate.metering.UsageRecord;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import net.openhft.chronicle.core.time.SetTimeProvider;
import net.openhft.chronicle.queue.rollcycles.TestRollCycles;
import org.junit.Rule;
import org.junit.Test;
import org.junit.rules.TemporaryFolder;

/** releaseUpTo and the disk budget, with one journal file per (simulated) second. */
public class RetentionAndBudgetTest {
    @Rule
    public TemporaryFolder tmp = new TemporaryFolder();

    private final SetTimeProvider time = new SetTimeProvider(Instant.parse("2026-01-01T00:00:00Z"));

    private JournalOptions options(Path dir) {
        return Fixtures.options(dir).withRollCycle(TestRollCycles.TEST_SECONDLY, time);
    }

    private static List<String> files(Path dir) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.map(p -> p.getFileName().toString()).filter(n -> n.endsWith(".cq4")).sorted()
                    .collect(Collectors.toList());
        }
    }

    private static long appendN(ChronicleUsageJournal j, int n) throws MeteringException {
        long seq = 0;
        for (int i = 0; i < n; i++) {
            seq = j.append(Fixtures.event("acme", i));
        }
        return seq;
    }

    @Test
    public void releaseDeletesOnlyFilesWhoseRecordsAreAllReleased() throws Exception {
        Path dir = tmp.newFolder("usage").toPath();
        try (ChronicleUsageJournal j = new ChronicleUsageJournal(Fixtures.KEY, options(dir))) {
            long end0 = appendN(j, 10); // START 1, seal 2, usage 3..12
            time.advanceMillis(1000);
            long end1 = appendN(j, 10); // 13..22
            time.advanceMillis(1000);
            appendN(j, 10); // 23..32, the file being written
            assertEquals(12, end0);
            assertEquals(22, end1);
            List<String> three = files(dir);
            assertEquals(three.toString(), 3, three.size());
            long usedBefore = j.status().diskUsedBytes();

            j.releaseUpTo(end0 - 1);
            assertEquals("seq 12 is not released: its file stays", three, files(dir));
            assertEquals(1, j.status().firstSeq());

            j.releaseUpTo(end0);
            assertEquals(three.subList(1, 3), files(dir));
            JournalStatus s = j.status();
            assertEquals(13, s.firstSeq());
            assertEquals(12, s.releasedSeq());
            assertTrue("space was given back: " + s.diskUsedBytes() + " < " + usedBefore, s.diskUsedBytes() < usedBefore);
            List<UsageRecord> fromReleased = j.readFrom(1, 5);
            assertEquals("reading starts at the first record on disk", 13, fromReleased.get(0).seq());
            assertEquals(5, fromReleased.size());

            j.releaseUpTo(5); // lower than before: ignored
            assertEquals(12, j.status().releasedSeq());

            j.releaseUpTo(1_000_000); // more than written: up to the head, and never the file being written
            assertEquals(three.subList(2, 3), files(dir));
            assertEquals(32, j.status().releasedSeq());
            assertEquals(23, j.status().firstSeq());
            assertEquals(23, j.readFrom(1, 1).get(0).seq());
            j.append(Fixtures.event("acme", 99));
        }
        UsageVerifier.Report r = UsageVerifier.verify(dir, Fixtures.KEY.publicKey());
        assertTrue(r.summary(), r.ok());
        assertEquals(23, r.firstSeq());
        assertTrue(r.notes().toString(), r.notes().get(0).contains("starts at seq 23"));
        // and the journal reopens on what is left
        try (ChronicleUsageJournal j = new ChronicleUsageJournal(Fixtures.KEY, options(dir))) {
            assertEquals(23, j.status().firstSeq());
            assertEquals(37, j.append(Fixtures.event("acme", 100))); // 33 usage, 34 shutdown seal, 35 START, 36 seal
        }
        assertTrue(UsageVerifier.verify(dir, Fixtures.KEY.publicKey()).ok());
    }

    @Test
    public void refusesAtTheBudgetWarnsBeforeAndResumesWhenSpaceIsReleased() throws Exception {
        Path dir = tmp.newFolder("usage").toPath();
        long budget = 2L << 20;
        try (ChronicleUsageJournal j = new ChronicleUsageJournal(Fixtures.KEY, options(dir).withBudget(budget))) {
            appendN(j, 300);
            time.advanceMillis(1000);
            long endOfSecondFile = appendN(j, 300);
            time.advanceMillis(1000);
            boolean warned = false;
            long usedWhenWarned = 0;
            MeteringException refused = null;
            for (int i = 0; i < 100_000 && refused == null; i++) {
                try {
                    j.append(Fixtures.event("acme", i));
                } catch (MeteringException e) {
                    refused = e;
                }
                JournalStatus s = j.status();
                if (!warned && s.diskWarning()) {
                    warned = true;
                    usedWhenWarned = s.diskUsedBytes();
                }
            }
            if (refused == null) {
                fail("never reached the budget: " + j.status());
            }
            assertEquals(MeteringException.Reason.DISK_BUDGET_EXCEEDED, refused.reason());
            String m = refused.getMessage();
            assertTrue(m, m.startsWith("usage journal is at its disk budget ("));
            assertTrue(m, m.contains(" of " + budget + " bytes); free space or raise disk.budget.bytes in "
                    + "configuration io.tollgate.metering.journal"));
            assertTrue("warned before refusing", warned);
            assertTrue("warned at 80%: " + usedWhenWarned, usedWhenWarned >= budget * 8 / 10
                    && usedWhenWarned < budget * 9 / 10);
            JournalStatus full = j.status();
            assertTrue(full.refusing());
            assertTrue(full.diskUsedBytes() >= budget);
            long headAtRefusal = full.lastSeq();
            try {
                j.append(Fixtures.event("acme", -1 >>> 1));
                fail("still refusing");
            } catch (MeteringException e) {
                assertEquals(MeteringException.Reason.DISK_BUDGET_EXCEEDED, e.reason());
            }
            assertEquals("refused appends take no seq", headAtRefusal, j.status().lastSeq());

            j.releaseUpTo(endOfSecondFile); // the cloud acked the first two files
            JournalStatus freed = j.status();
            assertFalse(freed.refusing());
            assertTrue(freed.diskUsedBytes() < budget);
            assertEquals(headAtRefusal + 1, j.append(Fixtures.event("acme", 1)));
        }
        assertTrue(UsageVerifier.verify(dir, Fixtures.KEY.publicKey()).ok());
    }

    /**
     * Retention deletes files off the chain lock (docs/decisions.md, 2026-11-30): while a deletion is held open, an
     * append, a status and a read complete. With the deletion under the lock (as before 2026-11-30) the append
     * waits for the deletion and this test fails with "append waited".
     */
    @Test
    public void anAppendDoesNotWaitForRetentionDeletingFiles() throws Exception {
        Path dir = tmp.newFolder("usage").toPath();
        CountDownLatch deleting = new CountDownLatch(1);
        CountDownLatch mayDelete = new CountDownLatch(1);
        JournalRetention.Deleter held = file -> {
            deleting.countDown();
            try {
                if (!mayDelete.await(60, TimeUnit.SECONDS)) {
                    throw new IOException("the test never let the deletion go on");
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IOException(e);
            }
            Files.deleteIfExists(file);
        };
        ExecutorService releaser = Executors.newSingleThreadExecutor();
        ExecutorService requests = Executors.newSingleThreadExecutor();
        try (ChronicleUsageJournal j = new ChronicleUsageJournal(Fixtures.KEY, options(dir), held)) {
            long end0 = appendN(j, 10);
            time.advanceMillis(1000);
            appendN(j, 10);
            time.advanceMillis(1000);
            long head = appendN(j, 10);
            List<String> three = files(dir);
            long usedBefore = j.status().diskUsedBytes();

            Future<?> release = releaser.submit(() -> {
                j.releaseUpTo(end0);
                return null;
            });
            assertTrue("retention started deleting", deleting.await(10, TimeUnit.SECONDS));
            Future<Long> append = requests.submit(() -> j.append(Fixtures.event("acme", 99)));
            long seq;
            try {
                seq = append.get(10, TimeUnit.SECONDS);
            } catch (TimeoutException e) {
                mayDelete.countDown(); // so that close() does not wait for the held deletion either
                throw new AssertionError("append waited for retention's file deletion", e);
            }
            assertEquals(head + 1, seq);
            JournalStatus during = j.status();
            assertEquals("the released file is off the map at once", 13, during.firstSeq());
            assertTrue("its bytes count until it is gone", during.diskUsedBytes() > usedBefore);
            assertEquals(13, j.readFrom(1, 1).get(0).seq());
            assertFalse("the deletion is still held open", release.isDone());
            assertEquals("the file is still there", three, files(dir));

            mayDelete.countDown();
            release.get(10, TimeUnit.SECONDS);
            assertEquals(three.subList(1, 3), files(dir));
            assertTrue("space given back after the deletion", j.status().diskUsedBytes() < usedBefore);
        } finally {
            mayDelete.countDown();
            releaser.shutdownNow();
            requests.shutdownNow();
        }
        assertTrue(UsageVerifier.verify(dir, Fixtures.KEY.publicKey()).ok());
    }

    /** Retention never throws out of its run: a file that cannot be deleted is logged and given up on. */
    @Test
    public void aFileThatCannotBeDeletedIsLoggedAndTheJournalCarriesOn() throws Exception {
        Path dir = tmp.newFolder("usage").toPath();
        JournalRetention.Deleter failing = file -> {
            throw new IOException("simulated: permission denied");
        };
        try (ChronicleUsageJournal j = new ChronicleUsageJournal(Fixtures.KEY, options(dir), failing)) {
            long end0 = appendN(j, 10);
            time.advanceMillis(1000);
            appendN(j, 10);
            List<String> two = files(dir);
            long usedBefore = j.status().diskUsedBytes();

            j.releaseUpTo(end0);
            assertEquals("the file stays on disk for the operator", two, files(dir));
            JournalStatus s = j.status();
            assertEquals(end0, s.releasedSeq());
            assertEquals("the journal no longer counts on it", end0 + 1, s.firstSeq());
            assertTrue(s.diskUsedBytes() < usedBefore);
            assertEquals(end0 + 1, j.readFrom(1, 1).get(0).seq());
            assertTrue(j.append(Fixtures.event("acme", 1)) > end0);
        }
    }
}
