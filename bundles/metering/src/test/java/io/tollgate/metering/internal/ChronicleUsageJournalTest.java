package io.tollgate.metering.internal;

import static org.junit.Assert.assertArrayEquals;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

import io.tollgate.metering.JournalStatus;
import io.tollgate.metering.MeteringException;
import io.tollgate.metering.UsageRecord;
import io.tollgate.metering.internal.RecordFormat.Decoded;
import io.tollgate.metering.internal.RecordFormat.PreviousRun;
import io.tollgate.metering.internal.RecordFormat.SealReason;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.Rule;
import org.junit.Test;
import org.junit.rules.TemporaryFolder;

public class ChronicleUsageJournalTest {
    @Rule
    public TemporaryFolder tmp = new TemporaryFolder();

    @Test
    public void recordsFormAHashChainStartingWithAStartRecordAndItsSeal() throws Exception {
        Path dir = tmp.newFolder("usage").toPath();
        List<Long> seqs = new ArrayList<>();
        try (ChronicleUsageJournal j = new ChronicleUsageJournal(Fixtures.KEY, Fixtures.options(dir))) {
            for (int i = 0; i < 100; i++) {
                seqs.add(j.append(Fixtures.event("acme", i)));
            }
        }
        List<Decoded> all = Fixtures.readAll(dir);
        // START(1), START seal(2), 100 usage (3..102), SHUTDOWN seal (103)
        assertEquals(103, all.size());
        assertEquals(RecordFormat.KIND_START, all.get(0).kind());
        assertEquals(PreviousRun.NEW_JOURNAL, all.get(0).previousRun());
        assertTrue(RecordFormat.isZeroHash(all.get(0).prevHash()));
        assertEquals(SealReason.START, all.get(1).statement().reason());
        assertEquals(1, all.get(1).statement().sealedSeq());
        assertEquals(SealReason.SHUTDOWN, all.get(102).statement().reason());
        assertEquals(102, all.get(102).statement().sealedSeq());
        for (int i = 0; i < all.size(); i++) {
            Decoded d = all.get(i);
            assertEquals(i + 1, d.seq());
            assertEquals(Fixtures.KEY.deviceId(), d.deviceId());
            if (i > 0) {
                assertArrayEquals("prev_hash of seq " + d.seq(), all.get(i - 1).hash(), d.prevHash());
                assertTrue("wall time never goes back", d.wallTimeNanos() >= all.get(i - 1).wallTimeNanos());
                assertTrue("monotonic reading increases", d.monotonicNanos() >= all.get(i - 1).monotonicNanos());
            }
        }
        for (int i = 0; i < 100; i++) {
            Decoded d = all.get(2 + i);
            assertEquals((long) seqs.get(i), d.seq());
            assertEquals(Fixtures.event("acme", i), d.usage());
        }
        UsageVerifier.Report r = UsageVerifier.verify(dir, Fixtures.KEY.publicKey());
        assertTrue(r.summary(), r.ok());
        assertEquals("START seal and SHUTDOWN seal", 2, r.seals());
        assertEquals(0, r.unsealed());
    }

    @Test
    public void sealsEveryNRecordsCoverExactlyTheNthRecord() throws Exception {
        Path dir = tmp.newFolder("usage").toPath();
        try (ChronicleUsageJournal j = new ChronicleUsageJournal(Fixtures.KEY,
                Fixtures.options(dir).withSeals(100, 3_600_000))) {
            for (int batch = 0; batch < 10; batch++) {
                long last = 0;
                for (int i = 0; i < 100; i++) {
                    last = j.append(Fixtures.event("acme", batch * 100 + i));
                }
                awaitSealed(j, last);
            }
        }
        List<Decoded> all = Fixtures.readAll(dir);
        List<Decoded> seals = all.stream().filter(d -> d.kind() == RecordFormat.KIND_SEAL).collect(Collectors.toList());
        List<Decoded> countSeals = seals.stream().filter(d -> d.statement().reason() == SealReason.RECORD_COUNT)
                .collect(Collectors.toList());
        assertEquals("START + 10 count seals + SHUTDOWN", 12, seals.size());
        assertEquals(10, countSeals.size());
        // The k-th count seal covers the (100*k)-th usage record.
        List<Long> usageSeqs = all.stream().filter(d -> d.kind() == RecordFormat.KIND_USAGE).map(Decoded::seq)
                .collect(Collectors.toList());
        for (int k = 0; k < 10; k++) {
            assertEquals(usageSeqs.get(100 * k + 99), (Long) countSeals.get(k).statement().sealedSeq());
        }
        assertTrue(UsageVerifier.verify(dir, Fixtures.KEY.publicKey()).ok());
    }

    @Test
    public void sealsAfterTheIntervalWhenRecordsWait() throws Exception {
        Path dir = tmp.newFolder("usage").toPath();
        try (ChronicleUsageJournal j = new ChronicleUsageJournal(Fixtures.KEY,
                Fixtures.options(dir).withSeals(1_000_000, 50))) {
            long seq = j.append(Fixtures.event("acme", 1));
            awaitSealed(j, seq);
            JournalStatus s = j.status();
            assertEquals(seq, s.lastSealedSeq());
            assertEquals("the seal follows the record", seq + 1, s.lastSeq());
            Thread.sleep(300);
            assertEquals("no new seal without new records", seq + 1, j.status().lastSeq());
        }
        List<Decoded> seals = Fixtures.readAll(dir).stream().filter(d -> d.kind() == RecordFormat.KIND_SEAL)
                .collect(Collectors.toList());
        assertEquals(SealReason.INTERVAL, seals.get(1).statement().reason());
        assertEquals(3, seals.get(1).statement().sealedSeq());
        assertEquals(3, seals.size());
    }

    static void awaitSealed(ChronicleUsageJournal j, long seq) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (j.status().lastSealedSeq() < seq) {
            if (System.nanoTime() > deadline) {
                fail("seq " + seq + " not sealed within 10 s: " + j.status());
            }
            Thread.sleep(1);
        }
    }

    @Test
    public void restartContinuesTheChainWithAStartRecordAndASeal() throws Exception {
        Path dir = tmp.newFolder("usage").toPath();
        long lastBefore;
        try (ChronicleUsageJournal j = new ChronicleUsageJournal(Fixtures.KEY, Fixtures.options(dir))) {
            for (int i = 0; i < 10; i++) {
                j.append(Fixtures.event("acme", i));
            }
            lastBefore = j.status().lastSeq();
        }
        try (ChronicleUsageJournal j = new ChronicleUsageJournal(Fixtures.KEY, Fixtures.options(dir))) {
            JournalStatus s = j.status();
            // shutdown seal = lastBefore + 1, START = +2, its seal = +3
            assertEquals(lastBefore + 3, s.lastSeq());
            assertEquals(lastBefore + 2, s.lastSealedSeq());
            assertEquals(lastBefore + 4, j.append(Fixtures.event("acme", 10)));
        }
        List<Decoded> all = Fixtures.readAll(dir);
        Decoded start = all.get((int) lastBefore + 1);
        assertEquals(RecordFormat.KIND_START, start.kind());
        assertEquals(PreviousRun.CLEAN_SHUTDOWN, start.previousRun());
        assertEquals(SealReason.START, all.get((int) lastBefore + 2).statement().reason());
        UsageVerifier.Report r = UsageVerifier.verify(dir, Fixtures.KEY.publicKey());
        assertTrue(r.summary(), r.ok());
        assertEquals(2, r.starts());
        assertEquals(lastBefore + 5, r.records());
    }

    @Test
    public void eightThreadsAppendGaplessSeqsAndAVerifyingChain() throws Exception {
        Path dir = tmp.newFolder("usage").toPath();
        int threads = 8;
        int perThread = 5_000;
        ConcurrentLinkedQueue<Long> seqs = new ConcurrentLinkedQueue<>();
        try (ChronicleUsageJournal j = new ChronicleUsageJournal(Fixtures.KEY,
                Fixtures.options(dir).withSeals(256, 5))) {
            ExecutorService pool = Executors.newFixedThreadPool(threads);
            CountDownLatch go = new CountDownLatch(1);
            List<Future<?>> fs = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                String tenant = "tenant-" + t;
                fs.add(pool.submit(() -> {
                    go.await();
                    for (int i = 0; i < perThread; i++) {
                        seqs.add(j.append(Fixtures.event(tenant, i)));
                    }
                    return null;
                }));
            }
            go.countDown();
            for (Future<?> f : fs) {
                f.get(60, TimeUnit.SECONDS);
            }
            pool.shutdown();
        }
        Set<Long> unique = new HashSet<>(seqs);
        assertEquals("every append got its own seq", threads * perThread, unique.size());
        List<Decoded> all = Fixtures.readAll(dir);
        Set<Long> usageSeqs = all.stream().filter(d -> d.kind() == RecordFormat.KIND_USAGE).map(Decoded::seq)
                .collect(Collectors.toSet());
        assertEquals(unique, usageSeqs);
        // Each thread's records are in its own order.
        for (int t = 0; t < threads; t++) {
            String tenant = "tenant-" + t;
            List<Long> reqNos = all.stream().filter(d -> d.usage() != null && d.usage().tenant().equals(tenant))
                    .map(d -> Long.parseLong(d.usage().requestId().substring(d.usage().requestId().lastIndexOf('-') + 1)))
                    .collect(Collectors.toList());
            assertEquals(perThread, reqNos.size());
            for (int i = 0; i < perThread; i++) {
                assertEquals((long) i, (long) reqNos.get(i));
            }
        }
        UsageVerifier.Report r = UsageVerifier.verify(dir, Fixtures.KEY.publicKey());
        assertTrue(r.summary(), r.ok());
        assertEquals(threads * perThread, r.usageRecords());
        assertTrue("seals were written while appending: " + r.seals(), r.seals() > 10);
    }

    @Test
    public void pretoucherTouchesThePagesAheadWithoutChangingARecord() throws Exception {
        Path dir = tmp.newFolder("usage").toPath();
        try (ChronicleUsageJournal j = new ChronicleUsageJournal(Fixtures.KEY, Fixtures.options(dir))) {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            int appended = 0;
            // append while it runs: it reserves the chunk being written to and touches ahead of the tail
            while (j.pretouchedPages() < 2 * JournalPretoucher.AHEAD_BYTES / 4096) {
                assertTrue("the pretoucher touched only " + j.pretouchedPages() + " pages in 10 s",
                        System.nanoTime() < deadline);
                j.append(Fixtures.event("acme", appended++));
                if (appended % 100 == 0) {
                    Thread.sleep(1);
                }
            }
        }
        UsageVerifier.Report r = UsageVerifier.verify(dir, Fixtures.KEY.publicKey());
        assertTrue(r.summary(), r.ok());
    }

    @Test
    public void readFromReturnsCanonicalBytesInSeqOrder() throws Exception {
        Path dir = tmp.newFolder("usage").toPath();
        try (ChronicleUsageJournal j = new ChronicleUsageJournal(Fixtures.KEY, Fixtures.options(dir))) {
            for (int i = 0; i < 50; i++) {
                j.append(Fixtures.event("acme", i));
            }
            List<UsageRecord> page = j.readFrom(10, 20);
            assertEquals(20, page.size());
            for (int i = 0; i < 20; i++) {
                UsageRecord r = page.get(i);
                assertEquals(10 + i, r.seq());
                Decoded d = RecordFormat.decode(r.canonicalBytes());
                assertEquals(r.seq(), d.seq());
                assertEquals(d.recordKind(), r.kind());
                assertEquals(d.wallTimeNanos(), r.wallTimeNanos());
            }
            assertEquals(UsageRecord.Kind.START, j.readFrom(1, 1).get(0).kind());
            assertEquals("up to the head", 3, j.readFrom(50, 100).size());
            assertTrue(j.readFrom(53, 10).isEmpty());
        }
    }

    @Test
    public void appendAfterCloseIsRefusedAsClosed() throws Exception {
        Path dir = tmp.newFolder("usage").toPath();
        ChronicleUsageJournal j = new ChronicleUsageJournal(Fixtures.KEY, Fixtures.options(dir));
        j.append(Fixtures.event("acme", 1));
        j.close();
        assertTrue(j.status().closed());
        try {
            j.append(Fixtures.event("acme", 2));
            fail("append after close");
        } catch (MeteringException e) {
            assertEquals(MeteringException.Reason.CLOSED, e.reason());
        }
        j.close(); // idempotent
        assertFalse(Fixtures.readAll(dir).isEmpty());
    }

    @Test
    public void aSecondWriterOnTheSameDirectoryIsRefused() throws Exception {
        Path dir = tmp.newFolder("usage").toPath();
        try (ChronicleUsageJournal j = new ChronicleUsageJournal(Fixtures.KEY, Fixtures.options(dir))) {
            try {
                new ChronicleUsageJournal(Fixtures.KEY, Fixtures.options(dir)).close();
                fail("two writers on one journal");
            } catch (java.io.IOException e) {
                assertTrue(e.getMessage(), e.getMessage().contains("another usage journal is open for writing in " + dir));
            }
            j.append(Fixtures.event("acme", 1));
        }
        try (ChronicleUsageJournal j = new ChronicleUsageJournal(Fixtures.KEY, Fixtures.options(dir))) {
            assertEquals("the lock is released on close", 7, j.append(Fixtures.event("acme", 2)));
        }
    }

    @Test
    public void everyRecordSyncModeWritesTheSameChain() throws Exception {
        Path dir = tmp.newFolder("usage").toPath();
        try (ChronicleUsageJournal j = new ChronicleUsageJournal(Fixtures.KEY,
                Fixtures.options(dir).withSync(JournalSync.EVERY_RECORD))) {
            for (int i = 0; i < 20; i++) {
                j.append(Fixtures.event("acme", i));
            }
        }
        try (ChronicleUsageJournal j = new ChronicleUsageJournal(Fixtures.KEY,
                Fixtures.options(dir).withSync(JournalSync.BATCH).withSeals(5, 10))) {
            for (int i = 0; i < 20; i++) {
                j.append(Fixtures.event("acme", i));
            }
        }
        UsageVerifier.Report r = UsageVerifier.verify(dir, Fixtures.KEY.publicKey());
        assertTrue(r.summary(), r.ok());
        assertEquals(40, r.usageRecords());
    }
}
