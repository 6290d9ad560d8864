package io.tollgate.metering.internal;

import io.tollgate.metering.JournalStatus;
import io.tollgate.metering.MeteringException;
import io.tollgate.metering.MeteringException.Reason;
import io.tollgate.metering.internal.RecordFormat.SealReason;
import java.io.File;
import java.io.IOException;
import java.security.DigestException;
import java.security.MessageDigest;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;
import net.openhft.chronicle.bytes.Bytes;
import net.openhft.chronicle.bytes.BytesStore;
import net.openhft.chronicle.core.io.ReferenceOwner;
import net.openhft.chronicle.queue.ExcerptAppender;
import net.openhft.chronicle.queue.ExcerptTailer;
import net.openhft.chronicle.queue.RollCycle;
import net.openhft.chronicle.queue.TailerDirection;
import net.openhft.chronicle.queue.impl.single.SingleChronicleQueue;
import net.openhft.chronicle.wire.DocumentContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The head of the hash chain and the one lock that guards it: gives each record the next seq and the previous
 * record's hash, hashes it and appends it to Chronicle, so that "next seq + prev hash + write" is atomic. Everything
 * that must agree with the head is kept under the same lock: the journal's files ({@link JournalFileIndex}), the disk
 * budget ({@link DiskBudget}), the seal schedule ({@link SealSchedule}), the released seq and the closed flag. Other
 * jobs get consistent snapshots from it and do their slow work (signing, fsync, pretouching, deleting files, reading)
 * outside the lock.
 *
 * <p>Threads: any number of serving threads call {@link #appendUsage} (they spin briefly on the lock before they
 * park); the sealer thread, the pretoucher thread, the releasing thread (retention) and status/read callers take the
 * lock for O(1) bookkeeping only. The one Chronicle appender is shared by all of them and only ever used under this
 * lock, a deliberate deviation from Chronicle's one appender per thread: the chain needs a single order of writes
 * anyway. No file is deleted and nothing is signed or forced to disk under it.
 */
final class ChainWriter {
    private static final Logger LOG = LoggerFactory.getLogger(ChainWriter.class);
    /** tryLock attempts before an appending thread parks on the lock (the lock is held for ~1 us). */
    private static final int SPIN_TRIES = 100;

    /** What {@link SeqRangeReader} may read: from {@code firstSeq} (at Chronicle {@code index}) up to {@code lastSeq}. */
    record ReadRange(long firstSeq, long index, long lastSeq) {
    }

    private final SingleChronicleQueue queue;
    private final ExcerptAppender appender;
    private final RollCycle rollCycle;
    private final JournalOptions options;
    private final JournalRollTime rollTime;
    private final DiskSpaceGuard disk;

    // Everything below is guarded by lock.
    private final ReentrantLock lock = new ReentrantLock();
    private final JournalFileIndex files;
    private final DiskBudget budget;
    private final SealSchedule seals;
    private final MessageDigest digest = RecordFormat.newSha256();
    private byte[] headHash;
    private byte[] nextHash = new byte[RecordFormat.HASH_BYTES];
    private long headSeq;
    private long releasedSeq;
    /** Seq the newest durable license totals checkpoint covers: no file past it may be deleted (LicenseTotals). */
    private long checkpointedSeq;
    /** Quantity per license id, counted under this lock as records are written. */
    private final LicenseTotals totals = new LicenseTotals();
    /** The mapped chunk the last record went into and the offset after it, for the pretoucher. */
    private BytesStore<?, ?> tailStore;
    private long tailEnd;
    /** Backs the pages the next records go to before they are written through the mapping (never a SIGBUS). */
    private final JournalBacking backing = new JournalBacking();
    /** Bytes a record may take beyond its own: a new index array (8 bytes per entry) and Chronicle's headers. */
    private final long writeSlack;
    /** Seq of the newest seal record (0 before the first): the chain's last record is a seal when it is the head. */
    private long lastSealRecordSeq;
    /**
     * The file a forced roll closed, until retention deletes it; its bytes no longer count against the budget (at most
     * one such file: the journal may exceed its budget by one file while the cloud acknowledges its last seal).
     */
    private JournalFileIndex.Cycle retired;
    /** Written under the lock; volatile so that the readiness check reads it without the lock. */
    private volatile boolean closed;

    /** The file the last record went to, for the fsync that follows a seal; read without the lock. */
    private volatile File lastWrittenFile;
    /** Wakes the sealer when a count-triggered seal is requested; set once, before any thread appends. */
    private Runnable sealRequested = () -> { };
    /** Wakes the disk thread to delete a file a forced roll closed; set once, before any thread appends. */
    private Runnable retentionWanted = () -> { };
    /** Wakes the pretoucher when less than half its reach is backed ahead; set once, before any thread appends. */
    private Runnable backingWanted = () -> { };
    /** The pretoucher was woken for backing and has not run {@link #backAhead} since. */
    private boolean backingRequested;

    /** Continues the chain that {@link JournalRecovery} found in {@code queue}'s files. */
    ChainWriter(SingleChronicleQueue queue, ExcerptAppender appender, JournalOptions options,
                JournalRecovery.Result recovered, JournalRollTime rollTime, DiskSpaceGuard disk) {
        this.queue = queue;
        this.appender = appender;
        this.rollCycle = queue.rollCycle();
        this.options = options;
        this.rollTime = rollTime;
        this.disk = disk;
        this.files = recovered.files();
        this.headSeq = recovered.headSeq();
        this.headHash = recovered.headHash();
        this.budget = new DiskBudget(options.diskBudgetBytes());
        this.seals = new SealSchedule(options.sealEveryRecords(), TimeUnit.MILLISECONDS.toNanos(options.sealEveryMs()),
                recovered.headSeq(), System.nanoTime());
        this.writeSlack = 8L * queue.indexCount() + JournalBacking.PAGE;
    }

    void onSealRequested(Runnable wake) {
        this.sealRequested = wake;
    }

    void onRetentionWanted(Runnable wake) {
        this.retentionWanted = wake;
    }

    void onBackingWanted(Runnable wake) {
        this.backingWanted = wake;
    }

    // ---- appending --------------------------------------------------------------------------------------

    /**
     * Appends the usage record encoded in {@code b} (header fields left for this method) and returns its seq. The hot
     * path: no allocation, one SHA-256, one copy into the mapped file.
     */
    long appendUsage(RecordBuffer b, io.tollgate.metering.UsageEvent event) throws MeteringException {
        boolean sealDue;
        boolean forcedRoll = false;
        long seq;
        lockForAppend();
        try {
            if (closed) {
                throw new MeteringException(Reason.CLOSED, "the usage journal is closed (the appliance is stopping "
                        + "or metering is being reconfigured)");
            }
            disk.check();
            long used = files.usedBytes();
            boolean rollable = activeReclaimableLocked();
            JournalFileIndex.Cycle active = files.active();
            budget.check(used - reclaimableLocked());
            if (rollable && used >= budget.budgetBytes()) {   // rollable: no other file is retired
                // The cloud holds every record of the file being written (but its closing seal, which only the next
                // seal lets it store) and only that file keeps the budget full: roll to a new file so that
                // retention can delete it (docs/decisions.md, 2026-11-30 "Full disk and budget recovery").
                rollTime.rollAfter(active.cycle, rollCycle.lengthInMillis(), queue.epoch());
                retired = active;
                forcedRoll = true;
                LOG.info("Rolling the usage journal to a new file before its cycle ends: the records of {} are "
                        + "acknowledged up to seq {} and it holds {} of the {} byte budget", active.file, releasedSeq,
                        active.extent, budget.budgetBytes());
            }
            seq = writeLocked(b);
            totals.addLocked(event);
            sealDue = seals.recordWritten(seq, headHash);
        } finally {
            lock.unlock();
        }
        if (sealDue) {
            sealRequested.run();
        }
        if (forcedRoll) {
            retentionWanted.run();
        }
        return seq;
    }

    /** Appends the START record of this run (no budget check: a run always starts). */
    void appendStart(RecordBuffer b) throws MeteringException {
        lock.lock();
        try {
            long seq = writeLocked(b);
            seals.recordWritten(seq, headHash);
        } finally {
            lock.unlock();
        }
    }

    /**
     * Appends the seal encoded in {@code b}, which signs record {@code sealedSeq}, unless a seal of that record or a
     * later one got there first. Seals bypass the disk budget: they are few, and the shutdown seal must always be
     * written.
     */
    void appendSeal(long sealedSeq, RecordBuffer b, boolean shutdown) throws MeteringException {
        lock.lock();
        try {
            if (closed && !shutdown) {
                // a sealer left running after its stop timed out: nothing is written after the shutdown seal
                throw new MeteringException(Reason.CLOSED, "the usage journal is closed");
            }
            if (seals.alreadySealed(sealedSeq)) {
                return;
            }
            writeLocked(b);
            lastSealRecordSeq = headSeq;
            seals.sealed(sealedSeq, System.nanoTime());
        } finally {
            lock.unlock();
        }
    }

    /**
     * Takes the lock, spinning briefly first: it is held for about a microsecond, and parking costs a futex sleep and
     * wake-up (several microseconds) on both sides.
     */
    private void lockForAppend() {
        for (int i = 0; i < SPIN_TRIES; i++) {
            if (lock.tryLock()) {
                return;
            }
            Thread.onSpinWait();
        }
        lock.lock();
    }

    /** Completes the record in {@code b} (seq, times, prev hash), hashes it and appends it. Caller holds the lock. */
    private long writeLocked(RecordBuffer b) throws MeteringException {
        JournalFileIndex.Cycle before = files.active();
        if (before != null && queue.cycle() == before.cycle) {
            backAheadLocked(before, b.length() + writeSlack);
        } else {
            // Chronicle starts a new file with this record (header, index arrays, the record) before JournalBacking
            // can see it: look at the disk now rather than at the last poll
            disk.poll();
            disk.check();
        }
        long seq = headSeq + 1;
        Instant now = options.clock().instant();
        b.patchHeader(seq, now.getEpochSecond() * 1_000_000_000L + now.getNano(), System.nanoTime(), headHash);
        digest.update(b.array(), 0, b.length());
        try {
            digest.digest(nextHash, 0, RecordFormat.HASH_BYTES);
        } catch (DigestException e) {
            throw new IllegalStateException(e);
        }
        long end;
        long index;
        try {
            DocumentContext dc = appender.writingDocument();
            try {
                Bytes<?> bytes = dc.wire().bytes();
                bytes.write(b.array(), 0, b.length());
                end = bytes.writePosition();
                tailStore = bytes.bytesStore();
            } catch (Throwable t) {
                dc.rollbackOnClose();
                throw t;
            } finally {
                dc.close();
            }
            index = appender.lastIndexAppended();
        } catch (RuntimeException | Error e) {
            resyncFromTailLocked(e);
            throw new MeteringException(Reason.IO_FAILURE, "writing usage record seq " + seq + " to "
                    + options.directory() + " failed: " + e, e);
        }
        int cycle = rollCycle.toCycle(index);
        if (!files.isActive(cycle)) {
            files.rolled(cycle, appender.currentFile(), seq);
        }
        files.written(seq, end);
        tailEnd = end;
        lastWrittenFile = files.active().file;
        if (before == null || before.cycle != cycle) {
            // a new file: its head and the pages ahead of this record, now rather than at the next record
            try {
                backing.ensure(files.active().file, end, end + writeSlack + SYNC_BACKING_BYTES);
            } catch (IOException e) {
                LOG.warn("Could not reserve disk space in the new usage journal file {} ({}); the next record tries "
                        + "again and is refused if there is still no room", files.active().file, e.toString());
            }
        }
        if (!backingRequested && backing.backedUpTo(files.active().file) - end < JournalPretoucher.AHEAD_BYTES / 2) {
            backingRequested = true;   // once, until the pretoucher's next turn
            backingWanted.run();
        }
        headSeq = seq;
        byte[] h = headHash;
        headHash = nextHash;
        nextHash = h;
        if (options.sync() == JournalSync.EVERY_RECORD) {
            try {
                appender.sync();
            } catch (RuntimeException e) {
                throw new MeteringException(Reason.IO_FAILURE, "usage record seq " + seq + " was written but "
                        + "forcing it to disk failed: " + e, e);
            }
        }
        return seq;
    }

    /**
     * Backs at least {@code bytes} past the last record of {@code active} (the file the next record goes to), and a
     * little more when it has to, so that the pretoucher does it off the request path; caller holds the lock.
     *
     * @throws MeteringException {@link Reason#DISK_FULL} when the file system has no room for them: the record is not
     *                           written (through the mapping that would be a SIGBUS)
     */
    private void backAheadLocked(JournalFileIndex.Cycle active, long bytes) throws MeteringException {
        long tail = tailEnd > 0 ? tailEnd : active.extent;
        if (backing.backedUpTo(active.file) >= tail + bytes) {
            return;
        }
        try {
            backing.ensure(active.file, tail, tail + bytes + SYNC_BACKING_BYTES);
        } catch (IOException e) {
            disk.poll();
            throw new MeteringException(Reason.DISK_FULL, "no disk space for the next usage record in "
                    + active.file + " (" + e.getMessage() + "); free space on that file system (the usage journal "
                    + "resumes by itself)", e);
        }
    }

    /** Backed beyond what a record needs when a record finds too little backed (the pretoucher fell behind). */
    private static final long SYNC_BACKING_BYTES = 64 * 1024;

    /**
     * Backs up to {@value #BACKING_STEP_BYTES} more bytes towards {@value JournalPretoucher#AHEAD_BYTES} past the last
     * record (the pretoucher's turn, off the request path; a step at a time, so that the lock is held for tens of
     * microseconds, not the time of a whole mebibyte). Returns true when more is wanted: call again.
     *
     * @throws IOException when the file system has no room for them (appends then try themselves, and are refused)
     */
    boolean backAhead() throws IOException {
        lock.lock();
        try {
            JournalFileIndex.Cycle active = files.active();
            backingRequested = false;
            if (closed || active == null || tailEnd == 0) {
                return false;
            }
            long want = tailEnd + JournalPretoucher.AHEAD_BYTES;
            long backed = backing.backedUpTo(active.file);
            if (backed >= want) {
                return false;
            }
            backing.ensure(active.file, tailEnd, Math.min(want, Math.max(backed, tailEnd) + BACKING_STEP_BYTES));
            return backing.backedUpTo(active.file) < want;
        } finally {
            lock.unlock();
        }
    }

    /** What {@link #backAhead} backs under the lock at a time. */
    static final long BACKING_STEP_BYTES = 64 * 1024;

    /** After a failed write, takes seq and hash from what actually is the journal's last record. */
    private void resyncFromTailLocked(Throwable cause) {
        try (ExcerptTailer back = queue.createTailer().direction(TailerDirection.BACKWARD).toEnd();
             DocumentContext dc = back.readingDocument()) {
            if (dc.isPresent()) {
                byte[] tail = dc.wire().bytes().toByteArray();
                long seq = RecordFormat.seqOf(tail);
                if (seq != headSeq) {
                    LOG.error("A failed write reached the journal anyway (seq {}); continuing from it", seq);
                    headSeq = seq;
                    headHash = RecordFormat.sha256(tail, 0, tail.length);
                    files.resynced(seq);
                }
            }
        } catch (RuntimeException e) {
            cause.addSuppressed(e);
        }
    }

    /**
     * True when the file being written may be rolled away from and deleted soon: the cloud holds all its records, or
     * all but the last when that is a seal (the cloud stores only sealed records, so the journal's closing seal is
     * acknowledged after the next seal, in the next file). Only one file is retired at a time.
     */
    private boolean activeReclaimableLocked() {
        JournalFileIndex.Cycle a = files.active();
        return retired == null && a != null && a.extent > 0
                && (a.lastSeq <= releasedSeq || a.lastSeq == releasedSeq + 1 && a.lastSeq == lastSealRecordSeq);
    }

    /** Bytes that leave the disk without another acknowledgement of a usage record: not counted by the budget. */
    private long reclaimableLocked() {
        long r = retired == null ? 0 : retired.extent;
        if (activeReclaimableLocked()) {
            r += files.active().extent;
        }
        return r;
    }

    // ---- for the sealer ---------------------------------------------------------------------------------

    /** The record the schedule says to seal now, or null (also once closed). */
    SealSchedule.Target dueSeal() {
        lock.lock();
        try {
            return closed ? null : seals.due(System.nanoTime(), headSeq, headHash);
        } finally {
            lock.unlock();
        }
    }

    /** The current head, to be sealed for {@code reason} whatever the schedule says (START, SHUTDOWN). */
    SealSchedule.Target headSeal(SealReason reason) {
        lock.lock();
        try {
            return seals.now(headSeq, headHash, reason);
        } finally {
            lock.unlock();
        }
    }

    /** Time left until an interval seal could be due. */
    long nanosUntilIntervalSeal() {
        lock.lock();
        try {
            return seals.nanosUntilInterval(System.nanoTime());
        } finally {
            lock.unlock();
        }
    }

    File lastWrittenFile() {
        return lastWrittenFile;
    }

    // ---- for the pretoucher -----------------------------------------------------------------------------

    /**
     * Reserves the mapped chunk the last record went into for {@code owner}, so that it cannot be unmapped while the
     * pretoucher touches it, puts the offset after the last record into {@code end[0]} and the end of the pages the
     * file system backs into {@code end[1]} (nothing past it may be touched: {@link JournalBacking}). Null when closed,
     * before the first record, or when the chunk was released meanwhile (cycle rolled: the next call takes the new
     * one).
     */
    BytesStore<?, ?> reserveTail(ReferenceOwner owner, long[] end) {
        lock.lock();
        try {
            BytesStore<?, ?> store = tailStore;
            JournalFileIndex.Cycle active = files.active();
            if (closed || store == null || active == null) {
                return null;
            }
            end[0] = tailEnd;
            end[1] = backing.backedUpTo(active.file);
            try {
                return store.tryReserve(owner) ? store : null;
            } catch (IllegalStateException | IllegalArgumentException e) {
                return null;
            }
        } finally {
            lock.unlock();
        }
    }

    // ---- for retention ----------------------------------------------------------------------------------

    /**
     * Records that the cloud holds every record up to {@code seq} (at most the head). Returns false when that
     * releases nothing new.
     */
    boolean release(long seq) throws MeteringException {
        lock.lock();
        try {
            if (closed) {
                throw new MeteringException(Reason.CLOSED, "the usage journal is closed");
            }
            if (seq > headSeq) {
                LOG.warn("Release up to seq {} asked for, but the journal ends at seq {}: releasing up to {}", seq,
                        headSeq, headSeq);
                seq = headSeq;
            }
            if (seq <= releasedSeq) {
                return false;
            }
            releasedSeq = seq;
            // the file being written may now be reclaimable by a roll: readiness says so before the next append
            budget.recheck(files.usedBytes() - reclaimableLocked());
            return true;
        } finally {
            lock.unlock();
        }
    }

    /** Takes the files whose records are all released off the map (see {@link JournalFileIndex#detachReleased}). */
    List<JournalFileIndex.Cycle> detachReleasedFiles() {
        lock.lock();
        try {
            // never a file whose records the newest license totals checkpoint does not cover (LicenseTotals)
            return files.detachReleased(Math.min(releasedSeq, checkpointedSeq));
        } finally {
            lock.unlock();
        }
    }

    /**
     * True when a released file waits for a license totals checkpoint before retention may delete it, or when more
     * than {@code everyRecords} records were written since the last one (so that the scan at the next start after a
     * crash stays short).
     */
    boolean checkpointWanted(long everyRecords) {
        lock.lock();
        try {
            long last = files.oldestClosedLastSeq();
            return last >= 0 && last <= releasedSeq && last > checkpointedSeq || headSeq - checkpointedSeq > everyRecords;
        } finally {
            lock.unlock();
        }
    }

    /** The license totals at the head, exact: taken under the lock the totals are counted under. */
    LicenseTotals.Snapshot totalsSnapshot() {
        lock.lock();
        try {
            return new LicenseTotals.Snapshot(headSeq, headHash.clone(), totals.copyLocked());
        } finally {
            lock.unlock();
        }
    }

    /** A checkpoint covering the records up to {@code seq} is durably on disk: files up to it may be deleted. */
    void checkpointed(long seq) {
        lock.lock();
        try {
            checkpointedSeq = Math.max(checkpointedSeq, seq);
        } finally {
            lock.unlock();
        }
    }

    LicenseTotals totals() {
        return totals;
    }

    /** The detached files are deleted: their bytes leave the budget, and appends resume if they were refused. */
    void filesDeleted(List<JournalFileIndex.Cycle> deleted) {
        lock.lock();
        try {
            for (JournalFileIndex.Cycle c : deleted) {
                files.deleted(c);
                if (c == retired) {
                    retired = null;
                }
            }
            budget.recheck(files.usedBytes() - reclaimableLocked());
        } finally {
            lock.unlock();
        }
    }

    // ---- snapshots ----------------------------------------------------------------------------------------

    /** What a read from {@code fromSeq} may return, or null for nothing. */
    ReadRange readRange(long fromSeq, int max) throws MeteringException {
        lock.lock();
        try {
            if (closed) {
                throw new MeteringException(Reason.CLOSED, "the usage journal is closed");
            }
            if (max <= 0 || fromSeq > headSeq) {
                return null;
            }
            JournalFileIndex.Position start = files.locate(fromSeq, rollCycle);
            return start == null ? null : new ReadRange(start.seq(), start.index(), headSeq);
        } finally {
            lock.unlock();
        }
    }

    JournalStatus status(String deviceId) {
        lock.lock();
        try {
            return new JournalStatus(deviceId, files.firstSeq(), headSeq, seals.lastSealedSeq(), releasedSeq,
                    files.usedBytes(), budget.budgetBytes(), budget.warning(),
                    budget.refusing() || disk.refusal() != null, closed);
        } finally {
            lock.unlock();
        }
    }

    long headSeq() {
        lock.lock();
        try {
            return headSeq;
        } finally {
            lock.unlock();
        }
    }

    /**
     * Why the next usage record would be refused (closed, disk full, disk budget), or null. Reads volatile fields
     * only: the readiness check calls it on network threads.
     */
    String refusal() {
        if (closed) {
            return "the usage journal is closed (the appliance is stopping or metering is being reconfigured)";
        }
        String r = disk.refusal();
        return r != null ? r : budget.refusal();
    }

    long usedBytes() {
        lock.lock();
        try {
            return files.usedBytes();
        } finally {
            lock.unlock();
        }
    }

    /** Refuses every later usage record. Returns false when it was closed already. */
    boolean close() {
        lock.lock();
        try {
            if (closed) {
                return false;
            }
            closed = true;
            return true;
        } finally {
            lock.unlock();
        }
    }

    /** Closes the file the backing keeps open; after the last write (the shutdown seal). */
    void closeBacking() {
        lock.lock();
        try {
            backing.close();
        } catch (IOException e) {
            LOG.warn("Closing {} failed: {}", lastWrittenFile, e.toString());
        } finally {
            lock.unlock();
        }
    }
}
