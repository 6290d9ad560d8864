package io.tollgate.metering.internal;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

import io.tollgate.metering.JournalStatus;
import io.tollgate.metering.MeteringException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import net.openhft.chronicle.core.time.SetTimeProvider;
import net.openhft.chronicle.queue.rollcycles.TestRollCycles;
import org.junit.Rule;
import org.junit.Test;
import org.junit.rules.RuleChain;
import org.junit.rules.TemporaryFolder;

/**
 * A full disk under the journal and a budget whose records the cloud has all acknowledged: both refuse records with
 * a reason, say so through the readiness check, and reopen service by themselves (issue 8, "Fail safe").
 */
public class DiskFullTest {
    private static final long RESERVE = 2L << 20;

    public TemporaryFolder tmp = new TemporaryFolder();
    public Tmpfs tmpfs = new Tmpfs();
    /** The tmpfs is unmounted before the folder it is mounted on is deleted. */
    @Rule
    public RuleChain rules = RuleChain.outerRule(tmp).around(tmpfs);


    /** Waits up to {@code millis} for the journal to take a record; returns how long it took. */
    private static long awaitAccepting(ChronicleUsageJournal j, long millis) throws Exception {
        long t0 = System.nanoTime();
        while (true) {
            try {
                j.append(Fixtures.event("acme", 1));
                return TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
            } catch (MeteringException e) {
                if (System.nanoTime() - t0 > TimeUnit.MILLISECONDS.toNanos(millis)) {
                    throw new AssertionError("still refusing after " + millis + " ms: " + e.getMessage(), e);
                }
                Thread.sleep(20);
            }
        }
    }

    private static MeteringException awaitRefusal(ChronicleUsageJournal j, long millis) throws Exception {
        long t0 = System.nanoTime();
        while (System.nanoTime() - t0 < TimeUnit.MILLISECONDS.toNanos(millis)) {
            try {
                j.append(Fixtures.event("acme", 2));
            } catch (MeteringException e) {
                return e;
            }
            Thread.sleep(20);
        }
        throw new AssertionError("no refusal within " + millis + " ms: " + j.status());
    }

    @Test
    public void lowFreeSpaceRefusesWithTheReasonAndResumesWhenSpaceReturns() throws Exception {
        Path dir = tmp.newFolder("usage").toPath();
        AtomicLong free = new AtomicLong(1L << 30);
        try (ChronicleUsageJournal j = new ChronicleUsageJournal(Fixtures.KEY,
                Fixtures.options(dir).withDiskReserve(RESERVE), JournalRetention.DELETE_FILE, free::get)) {
            assertEquals("metering", j.name());
            assertTrue(j.required());
            assertEquals(Optional.empty(), j.notReadyReason());
            j.append(Fixtures.event("acme", 0));

            free.set(RESERVE - 1);
            MeteringException e = awaitRefusal(j, 2_000);
            assertEquals(MeteringException.Reason.DISK_FULL, e.reason());
            assertEquals("disk full on " + dir + " (" + (RESERVE - 1) + " bytes free, needs " + RESERVE
                    + "); free space on that file system (the usage journal resumes by itself)", e.getMessage());
            assertEquals(Optional.of("usage records cannot be written: " + e.getMessage()), j.notReadyReason());
            JournalStatus s = j.status();
            assertTrue(s.refusing());
            assertTrue("gauges keep their values while refusing: " + s, s.diskUsedBytes() > 0 && s.lastSeq() >= 4);
            long head = s.lastSeq();

            free.set(RESERVE);
            long took = awaitAccepting(j, 2_000);
            assertTrue("resumed within 2 polls: " + took + " ms", took <= 2 * DiskSpaceGuard.POLL_MILLIS + 200);
            assertEquals(Optional.empty(), j.notReadyReason());
            assertEquals("no record was written while refusing", head + 1, j.status().lastSeq());
        }
        assertTrue(UsageVerifier.verify(dir, Fixtures.KEY.publicKey()).ok());
    }

    @Test
    public void aJournalOnAFullDiskOpensByItselfOnceThereIsRoom() throws Exception {
        Path dir = tmp.newFolder("usage").toPath();
        AtomicLong free = new AtomicLong(4096);
        try (ChronicleUsageJournal j = new ChronicleUsageJournal(Fixtures.KEY,
                Fixtures.options(dir).withDiskReserve(RESERVE), JournalRetention.DELETE_FILE, free::get)) {
            String reason = "the usage journal has not opened: disk full on " + dir + " (4096 bytes free, needs "
                    + RESERVE + "); free space on that file system (the usage journal resumes by itself)";
            try {
                j.append(Fixtures.event("acme", 0));
                fail("appended to a journal that could not open");
            } catch (MeteringException e) {
                assertEquals(MeteringException.Reason.DISK_FULL, e.reason());
                assertEquals(reason, e.getMessage());
            }
            assertEquals(Optional.of("usage records cannot be written: " + reason), j.notReadyReason());
            assertTrue(j.status().refusing());
            assertEquals("nothing written on the full disk", 0, cq4Files(dir));

            free.set(1L << 30);
            long took = awaitAccepting(j, 2_000);
            assertTrue("opened within 2 polls: " + took + " ms", took <= 2 * DiskSpaceGuard.POLL_MILLIS + 500);
            assertEquals(Optional.empty(), j.notReadyReason());
            assertEquals("START 1, seal 2, usage 3", 3, j.status().lastSeq());
        }
        assertTrue(UsageVerifier.verify(dir, Fixtures.KEY.publicKey()).ok());
    }

    /**
     * A real 8 MiB tmpfs filled by another writer: appends are refused (no SIGBUS, no dead thread, nothing written)
     * and resume once the filler is deleted; the chain verifies.
     */
    @Test
    public void aRealFullTmpfsRefusesAndResumes() throws Exception {
        Path mnt = tmp.newFolder("tmpfs").toPath();
        tmpfs.mount(mnt, "8m");
        Path dir = mnt.resolve("usage");
        Path filler = mnt.resolve("filler");
        try (ChronicleUsageJournal j = new ChronicleUsageJournal(Fixtures.KEY,
                Fixtures.options(dir).withDiskReserve(RESERVE))) {
            for (int i = 0; i < 100; i++) {
                j.append(Fixtures.event("acme", i));
            }
            Tmpfs.fill(filler);
            MeteringException e = awaitRefusal(j, 5_000);
            assertEquals(e.getMessage(), MeteringException.Reason.DISK_FULL, e.reason());
            assertTrue(e.getMessage(), e.getMessage().startsWith("disk full on " + dir + " ("));
            assertTrue(j.notReadyReason().isPresent());
            // keep asking for a while: every answer is a refusal, none a fault
            long head = j.status().lastSeq();
            for (int i = 0; i < 2000; i++) {
                try {
                    j.append(Fixtures.event("acme", i));
                    fail("appended on a full disk");
                } catch (MeteringException refused) {
                    assertEquals(MeteringException.Reason.DISK_FULL, refused.reason());
                }
            }
            Thread.sleep(300); // the pretoucher and disk threads run a few turns on the full disk
            assertEquals(head, j.status().lastSeq());

            Files.delete(filler);
            long took = awaitAccepting(j, 5_000);
            System.out.println("DiskFullTest: service resumed " + took + " ms after the filler was deleted");
            for (int i = 0; i < 3000; i++) {
                j.append(Fixtures.event("acme", i));   // past the pages touched before the disk filled
            }
            assertEquals(Optional.empty(), j.notReadyReason());
            long touched = j.pretouchedPages();
            Thread.sleep(100);
            j.append(Fixtures.event("acme", 0));
            Thread.sleep(100);
            assertTrue("the pretoucher lives on: " + touched + " pages, then " + j.pretouchedPages() + "; threads "
                    + Thread.getAllStackTraces().keySet(), j.pretouchedPages() > touched);
            assertTrue(threadAlive("tollgate-usage-disk"));
        }
        assertTrue(UsageVerifier.verify(dir, Fixtures.KEY.publicKey()).ok());
    }

    /**
     * Another writer fills and frees the tmpfs again and again while three threads append and the journal's own threads
     * seal and pretouch: every append is either written or refused {@code DISK_FULL}, nothing crashes or hangs, the
     * journal closes within seconds (also right after the disk filled: its shutdown seal is written or refused with the
     * reason) and each round's chain verifies. Before the journal backed its pages with plain writes first, a write
     * through the mapping to a page the full tmpfs could not back was a SIGBUS: the JVM crashed in the pretoucher's
     * compare-and-swap ({@code Unsafe_CompareAndSetLong}, seen in the first round), or raised an asynchronous error in
     * a thread that might hold the chain lock, and an appliance did not exit within 60 s of SIGTERM (DiskFullIT in CI).
     */
    @Test
    public void aDiskFilledAndFreedWhileAppendingNeverCrashesOrHangs() throws Exception {
        Path mnt = tmp.newFolder("tmpfs").toPath();
        tmpfs.mount(mnt, "8m");
        Path filler = mnt.resolve("filler");
        java.util.Random random = new java.util.Random(11);
        for (int round = 0; round < 3; round++) {
            Path dir = mnt.resolve("usage-" + round);
            ChronicleUsageJournal j = new ChronicleUsageJournal(Fixtures.KEY,
                    Fixtures.options(dir).withDiskReserve(RESERVE));
            AtomicBoolean stop = new AtomicBoolean();
            AtomicLong written = new AtomicLong();
            AtomicLong refused = new AtomicLong();
            List<Throwable> faults = new CopyOnWriteArrayList<>();
            List<Thread> appenders = new ArrayList<>();
            for (int t = 0; t < 3; t++) {
                Thread a = new Thread(() -> {
                    while (!stop.get()) {
                        try {
                            j.append(Fixtures.event("acme", 1));
                            written.incrementAndGet();
                        } catch (MeteringException e) {
                            if (e.reason() != MeteringException.Reason.DISK_FULL) {
                                faults.add(e);
                            }
                            refused.incrementAndGet();
                        } catch (Throwable e) {
                            faults.add(e);
                        }
                        LockSupport.parkNanos(200_000);   // ~15k records/s: the 8 MiB hold a few rounds
                    }
                }, "appender-" + t);
                a.start();
                appenders.add(a);
            }
            long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(3);
            while (System.nanoTime() < end) {
                Tmpfs.fill(filler);
                Thread.sleep(random.nextInt(200));
                Files.delete(filler);
                Thread.sleep(random.nextInt(200));
            }
            Tmpfs.fill(filler);   // and stop with the disk full
            Thread.sleep(random.nextInt(300));
            stop.set(true);
            for (Thread a : appenders) {
                a.join(10_000);
                if (a.isAlive()) {
                    fail("round " + round + ": an append did not return within 10 s\n" + threadDump());
                }
            }
            assertEquals("SIGBUS faults the journal's threads caught", 0, j.mappedFaults());
            Thread closer = new Thread(j::close, "closer");
            long t0 = System.nanoTime();
            closer.start();
            closer.join(20_000);
            if (closer.isAlive()) {
                fail("round " + round + ": close did not return within 20 s\n" + threadDump());
            }
            System.out.printf("DiskFullTest: round %d: %d written, %d refused (disk full), closed in %d ms%n", round,
                    written.get(), refused.get(), TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0));
            assertEquals("only DISK_FULL refusals: " + faults, List.of(), faults);
            assertTrue("round " + round + " wrote records: " + written, written.get() > 0);
            assertTrue("round " + round + " was refused some: " + refused, refused.get() > 0);
            Files.delete(filler);
            assertTrue(UsageVerifier.verify(dir, Fixtures.KEY.publicKey()).ok());
            try (Stream<Path> files = Files.list(dir)) {
                for (Path f : files.toList()) {
                    Files.delete(f);   // room for the next round (space returns once Chronicle unmaps them)
                }
            }
        }
    }

    /**
     * The disk fills between two free-space polls (here: the poll is told there is room, so only the write itself can
     * find out): the journal writes on into the pages it backed ahead, then refuses with the file system's own error,
     * and resumes once there is room. Before the backing, the next write through the mapping was a SIGBUS.
     */
    @Test
    public void aDiskTheFreeSpacePollDidNotSeeFillIsRefusedByTheWriteItself() throws Exception {
        Path mnt = tmp.newFolder("tmpfs").toPath();
        tmpfs.mount(mnt, "8m");
        Path dir = mnt.resolve("usage");
        Path filler = mnt.resolve("filler");
        try (ChronicleUsageJournal j = new ChronicleUsageJournal(Fixtures.KEY,
                Fixtures.options(dir).withDiskReserve(RESERVE), JournalRetention.DELETE_FILE, () -> 1L << 30)) {
            for (int i = 0; i < 100; i++) {
                j.append(Fixtures.event("acme", i));
            }
            Tmpfs.fill(filler);
            MeteringException refused = null;
            int writtenAfterFull = 0;
            for (int i = 0; i < 100_000 && refused == null; i++) {
                try {
                    j.append(Fixtures.event("acme", i));
                    writtenAfterFull++;
                } catch (MeteringException e) {
                    refused = e;
                }
            }
            assertTrue("never refused", refused != null);
            assertEquals(refused.getMessage(), MeteringException.Reason.DISK_FULL, refused.reason());
            assertTrue(refused.getMessage(), refused.getMessage().startsWith("no disk space for the next usage record in "
                    + dir) && refused.getMessage().contains("(No space left on device); free space on that file system"));
            System.out.println("DiskFullTest: " + writtenAfterFull + " records written into the backed pages after the "
                    + "disk filled, then: " + refused.getMessage());
            assertEquals(0, j.mappedFaults());

            Files.delete(filler);
            long took = awaitAccepting(j, 5_000);
            System.out.println("DiskFullTest: accepting again " + took + " ms after the filler was deleted");
            for (int i = 0; i < 3000; i++) {
                j.append(Fixtures.event("acme", i));
            }
            assertEquals(0, j.mappedFaults());
        }
        assertTrue(UsageVerifier.verify(dir, Fixtures.KEY.publicKey()).ok());
    }

    private static String threadDump() {
        StringBuilder dump = new StringBuilder();
        Thread.getAllStackTraces().forEach((t, st) -> {
            dump.append(t.getName()).append(' ').append(t.getState()).append('\n');
            for (StackTraceElement e : st) {
                dump.append("    at ").append(e).append('\n');
            }
        });
        return dump.toString();
    }

    private static boolean threadAlive(String name) {
        return Thread.getAllStackTraces().keySet().stream().anyMatch(t -> t.getName().equals(name) && t.isAlive());
    }

    /**
     * The budget is full with one file being written, and the cloud acknowledges every record: the journal rolls to a
     * new file on the next record, deletes the old one, and serves again without a restart.
     */
    @Test
    public void acknowledgedRecordsReopenAFullBudgetWithoutARestart() throws Exception {
        Path dir = tmp.newFolder("usage").toPath();
        long budget = 1L << 20;
        SetTimeProvider time = new SetTimeProvider(Instant.parse("2026-01-01T00:00:00Z"));
        JournalOptions options = Fixtures.options(dir).withRollCycle(TestRollCycles.TEST_SECONDLY, time)
                .withBudget(budget);
        try (ChronicleUsageJournal j = new ChronicleUsageJournal(Fixtures.KEY, options)) {
            MeteringException refused = null;
            for (int i = 0; i < 100_000 && refused == null; i++) {
                try {
                    j.append(Fixtures.event("acme", i));
                } catch (MeteringException e) {
                    refused = e;
                }
            }
            assertEquals(MeteringException.Reason.DISK_BUDGET_EXCEEDED, refused.reason());
            assertEquals("one file: time did not move", 1, cq4Files(dir));
            assertEquals(Optional.of("usage records cannot be written: " + refused.getMessage()), j.notReadyReason());
            JournalStatus full = j.status();

            j.releaseUpTo(full.lastSeq());   // the cloud holds everything
            assertEquals("ready once everything is acknowledged", Optional.empty(), j.notReadyReason());
            long seq = j.append(Fixtures.event("acme", -1));
            assertEquals(full.lastSeq() + 1, seq);
            long t0 = System.nanoTime();
            while ((cq4Files(dir) > 1 || j.status().diskUsedBytes() >= full.diskUsedBytes())
                    && System.nanoTime() - t0 < TimeUnit.SECONDS.toNanos(5)) {
                Thread.sleep(10);
            }
            System.out.println("DiskFullTest: acknowledged file deleted " + TimeUnit.NANOSECONDS.toMillis(
                    System.nanoTime() - t0) + " ms after the record that rolled past it");
            assertEquals("the acknowledged file is deleted", 1, cq4Files(dir));
            JournalStatus after = j.status();
            assertEquals(seq, after.firstSeq());
            assertFalse(after.refusing());
            assertTrue("space given back: " + after + " after " + full, after.diskUsedBytes() < full.diskUsedBytes());
            for (int i = 0; i < 100; i++) {
                j.append(Fixtures.event("acme", i));
            }
        }
        // a restart continues in the newest cycle, though the clock still says the first one
        try (ChronicleUsageJournal j = new ChronicleUsageJournal(Fixtures.KEY, options)) {
            j.append(Fixtures.event("acme", 0));
            assertEquals("no file for the older cycle again", 1, cq4Files(dir));
        }
        assertTrue(UsageVerifier.verify(dir, Fixtures.KEY.publicKey()).ok());
    }

    private static long cq4Files(Path dir) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.filter(p -> p.toString().endsWith(".cq4")).count();
        }
    }
}
