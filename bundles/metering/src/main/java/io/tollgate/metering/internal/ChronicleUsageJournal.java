package io.tollgate.metering.internal;

import io.tollgate.metering.JournalStatus;
import io.tollgate.metering.MeteringException;
import io.tollgate.metering.MeteringException.Reason;
import io.tollgate.metering.UsageEvent;
import io.tollgate.metering.UsageJournal;
import io.tollgate.metering.UsageRecord;
import io.tollgate.metering.internal.RecordFormat.PreviousRun;
import io.tollgate.metering.internal.RecordFormat.SealReason;
import io.tollgate.metering.internal.RecordFormat.SealStatement;
import java.io.File;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.DigestException;
import java.security.MessageDigest;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.concurrent.locks.ReentrantLock;
import net.openhft.chronicle.bytes.Bytes;
import net.openhft.chronicle.bytes.BytesStore;
import net.openhft.chronicle.bytes.SyncMode;
import net.openhft.chronicle.core.io.ReferenceOwner;
import net.openhft.chronicle.queue.ExcerptAppender;
import net.openhft.chronicle.queue.ExcerptTailer;
import net.openhft.chronicle.queue.RollCycle;
import net.openhft.chronicle.queue.TailerDirection;
import net.openhft.chronicle.queue.impl.single.SingleChronicleQueue;
import net.openhft.chronicle.queue.impl.single.SingleChronicleQueueBuilder;
import net.openhft.chronicle.wire.DocumentContext;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.metatype.annotations.Designate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The usage journal: canonical records, hash-chained, in a Chronicle Queue, sealed by the device key.
 *
 * <p>Threads: any number of serving threads call {@link #append}; one lock makes "next seq + prev hash +
 * write" atomic, and the record body is encoded before the lock is taken (one buffer per thread). The
 * journal owns one daemon thread, "tollgate-usage-sealer", which signs seals and (sync mode BATCH)
 * forces the journal file to disk; signing never happens under the lock or on a request thread.
 * {@link #releaseUpTo} and {@link #readFrom} are called by the sync bundle's thread.
 */
@Component(service = UsageJournal.class, configurationPid = "io.tollgate.metering.journal")
@Designate(ocd = JournalConfig.class)
public final class ChronicleUsageJournal implements UsageJournal, AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(ChronicleUsageJournal.class);
    private static final int WARN_PERCENT = 80;
    /** How often the pretoucher maps in the pages ahead of the write position. */
    static final long PRETOUCH_INTERVAL_NANOS = TimeUnit.MILLISECONDS.toNanos(10);
    /** How far ahead of the write position pages are touched (at ~2 MB/s of records, ~0.5 s of headroom). */
    static final long PRETOUCH_AHEAD_BYTES = 1 << 20;
    private static final long PAGE = 4096;
    /** tryLock attempts before an appending thread parks on the lock (the lock is held for ~1 us). */
    private static final int SPIN_TRIES = 100;
    /** Held exclusively while a journal is open for writing. */
    static final String LOCK_FILE = "journal.lock";

    private final JournalOptions options;
    private final DeviceKey key;
    private final String deviceId;
    private final FileLock writerLock;
    private final SingleChronicleQueue queue;
    private final ExcerptAppender appender;
    private final RollCycle rollCycle;
    private final long metadataBytes;
    private final ThreadLocal<RecordBuffer> buffers = ThreadLocal.withInitial(() -> new RecordBuffer(512));

    // Everything below is guarded by lock.
    private final ReentrantLock lock = new ReentrantLock();
    private final MessageDigest digest = RecordFormat.newSha256();
    private byte[] headHash = RecordFormat.zeroHash();
    private byte[] nextHash = new byte[RecordFormat.HASH_BYTES];
    private long headSeq;
    private long lastNonSealSeq;
    private long lastSealedSeq;
    private int sinceSealRequest;
    private long pendingSealSeq = -1;
    private final byte[] pendingSealHash = new byte[RecordFormat.HASH_BYTES];
    private long lastSealNanos = System.nanoTime();
    private boolean closed;
    /** Cycle number to its file, seq range and extent; ordered oldest first. */
    private final TreeMap<Integer, JournalCycle> cycles = new TreeMap<>();
    /** First seq of each cycle to its cycle number, for seq to Chronicle index lookups. */
    private final TreeMap<Long, Integer> cycleByFirstSeq = new TreeMap<>();
    private JournalCycle activeCycle;
    private long closedCyclesBytes;
    private long releasedSeq;
    /** The mapped chunk the last record went into and the offset after it, for the pretoucher. */
    private BytesStore<?, ?> tailStore;
    private long tailEnd;

    private volatile boolean diskWarning;
    private volatile boolean refusing;
    private volatile File lastWrittenFile;
    private volatile boolean stopping;
    /** Last file forced to disk; used by the sealer thread, then by close() after the sealer stopped. */
    private File lastForced;
    private final Thread sealer;
    private final Thread pretoucher;
    /** Pages the pretoucher touched so far (written by the pretoucher thread only; for tests). */
    private volatile long pretouchedPages;

    @Activate
    public ChronicleUsageJournal(@Reference DeviceKey key, JournalConfig config) throws IOException {
        this(key, JournalOptions.from(config));
    }

    /**
     * Opens (or creates) the journal, recovers the chain head from its last complete record, writes a
     * START record and a seal over it, and starts the sealer thread.
     */
    public ChronicleUsageJournal(DeviceKey key, JournalOptions options) throws IOException {
        this.options = options;
        this.key = key;
        this.deviceId = key.deviceId();
        Path dir = options.directory();
        Files.createDirectories(dir);
        this.writerLock = lockDirectory(dir);
        SingleChronicleQueue q;
        try {
            q = SingleChronicleQueueBuilder.binary(dir)
                    .rollCycle(options.rollCycle())
                    .timeProvider(options.chronicleTime())
                    // appender.sync() msyncs synchronously only in EVERY_RECORD; BATCH forces files itself.
                    .syncMode(options.sync() == JournalSync.EVERY_RECORD ? SyncMode.SYNC : SyncMode.NONE)
                    .build();
        } catch (RuntimeException e) {
            releaseLock(writerLock);
            throw e;
        }
        this.queue = q;
        // An existing queue keeps the roll cycle it was created with, whatever the configuration says.
        this.rollCycle = queue.rollCycle();
        if (rollCycle.lengthInMillis() != options.rollCycle().lengthInMillis()
                || !rollCycle.format().equals(options.rollCycle().format())) {
            LOG.warn("The usage journal in {} was created with roll cycle {}; keeping it (roll.cycle {} applies to new "
                    + "journals only)", dir, rollCycle, options.rollCycle());
        }
        boolean started = false;
        try {
            this.appender = queue.createAppender();
            // One appender shared by all serving threads, only ever used under this.lock.
            appender.singleThreadedCheckDisabled(true);
            Path meta = dir.resolve("metadata.cq4t");
            this.metadataBytes = Files.exists(meta) ? Files.size(meta) : 0;
            PreviousRun previous = recover();
            lock.lock();
            try {
                RecordBuffer b = buffers.get();
                RecordFormat.beginRecord(b, RecordFormat.KIND_START, deviceId);
                RecordFormat.startBody(b, previous);
                writeLocked(b);
                lastNonSealSeq = headSeq;
                sinceSealRequest++;
            } finally {
                lock.unlock();
            }
            sealHead(SealReason.START);
            LOG.info("Usage journal open in {}: device {}, head seq {} (previous run: {}), {} of {} bytes used, "
                            + "sync {}, roll cycle {}", dir, deviceId, headSeq, previous, usedBytesLocked(),
                    options.diskBudgetBytes(), options.sync(), rollCycle);
            this.sealer = new Thread(this::sealLoop, "tollgate-usage-sealer");
            sealer.setDaemon(true);
            this.pretoucher = new Thread(this::pretouchLoop, "tollgate-usage-pretoucher");
            pretoucher.setDaemon(true);
            sealer.start();
            pretoucher.start();
            started = true;
        } catch (MeteringException e) {
            throw new IOException("cannot start the usage journal in " + dir + ": " + e.getMessage(), e);
        } finally {
            if (!started) {
                queue.close();
                releaseLock(writerLock);
            }
        }
    }

    /**
     * One writer per journal: a second appender (another appliance process on the same data directory)
     * would fork the hash chain. The OS drops the lock when a process dies, so a crash does not block
     * the restart.
     */
    private static FileLock lockDirectory(Path dir) throws IOException {
        FileChannel ch = FileChannel.open(dir.resolve(LOCK_FILE), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
        FileLock lock;
        try {
            lock = ch.tryLock();
        } catch (OverlappingFileLockException e) {
            lock = null;
        } catch (IOException | RuntimeException e) {
            ch.close();
            throw e;
        }
        if (lock == null) {
            ch.close();
            throw new IOException("another usage journal is open for writing in " + dir + " (this or another "
                    + "process holds " + LOCK_FILE + "); one appliance per data directory");
        }
        return lock;
    }

    private static void releaseLock(FileLock lock) {
        try {
            lock.release();
            lock.channel().close();
        } catch (IOException e) {
            LOG.warn("Releasing the usage journal lock failed", e);
        }
    }

    /** Builds the cycle map from the files on disk and the chain head from the last complete record. */
    private PreviousRun recover() throws IOException {
        int first = queue.firstCycle();
        int last = queue.lastCycle();
        if (first == Integer.MAX_VALUE || last < 0) {
            return PreviousRun.NEW_JOURNAL;
        }
        try (ExcerptTailer t = queue.createTailer()) {
            for (Long c : queue.listCyclesBetween(first, last)) {
                int cycle = c.intValue();
                long n = t.excerptsInCycle(cycle);
                if (n <= 0) {
                    continue;
                }
                byte[] firstRecord = readAt(t, rollCycle.toIndex(cycle, 0));
                File file = t.currentFile();
                long[] extent = new long[1];
                byte[] lastRecord = readAt(t, rollCycle.toIndex(cycle, n - 1), extent);
                long firstSeq = RecordFormat.seqOf(firstRecord);
                long lastSeq = RecordFormat.seqOf(lastRecord);
                if (lastSeq - firstSeq != n - 1) {
                    LOG.error("Journal file {} holds {} records but its seqs run {}..{}; the journal is damaged, "
                            + "run 'tollgate usage verify'", file, n, firstSeq, lastSeq);
                }
                JournalCycle jc = new JournalCycle(cycle, file, firstSeq, lastSeq, extent[0]);
                cycles.put(cycle, jc);
                cycleByFirstSeq.put(firstSeq, cycle);
            }
        }
        if (cycles.isEmpty()) {
            return PreviousRun.NEW_JOURNAL;
        }
        activeCycle = cycles.lastEntry().getValue();
        for (JournalCycle jc : cycles.values()) {
            if (jc != activeCycle) {
                closedCyclesBytes += jc.extent;
            }
        }
        byte[] tail;
        try (ExcerptTailer back = queue.createTailer().direction(TailerDirection.BACKWARD).toEnd()) {
            try (DocumentContext dc = back.readingDocument()) {
                if (!dc.isPresent()) {
                    throw new IOException("the usage journal in " + options.directory() + " has files but no "
                            + "readable last record; run 'tollgate usage verify'");
                }
                tail = dc.wire().bytes().toByteArray();
            }
        }
        RecordFormat.Decoded d;
        try {
            d = RecordFormat.decode(tail);
        } catch (IllegalArgumentException e) {
            throw new IOException("the last record of the usage journal in " + options.directory()
                    + " cannot be decoded (" + e.getMessage() + "); the chain cannot be continued safely: run "
                    + "'tollgate usage verify' and move the damaged journal away", e);
        }
        headSeq = d.seq();
        headHash = d.hash();
        lastNonSealSeq = headSeq;
        if (d.seq() != activeCycle.lastSeq) {
            throw new IOException("the usage journal in " + options.directory() + " ends at seq " + d.seq()
                    + " but its last file's index ends at seq " + activeCycle.lastSeq + "; run 'tollgate usage verify'");
        }
        if (!d.deviceId().equals(deviceId)) {
            LOG.warn("The usage journal was written by device '{}' and continues as device '{}' (from seq {}); "
                    + "the cloud will see the change", d.deviceId(), deviceId, headSeq + 1);
        }
        boolean clean = d.kind() == RecordFormat.KIND_SEAL && d.statement().reason() == SealReason.SHUTDOWN;
        if (!clean) {
            LOG.warn("The usage journal did not end with a shutdown seal (last record seq {}): the previous run "
                    + "stopped without closing it; continuing the chain", headSeq);
        }
        return clean ? PreviousRun.CLEAN_SHUTDOWN : PreviousRun.UNCLEAN_SHUTDOWN;
    }

    private static byte[] readAt(ExcerptTailer t, long index) throws IOException {
        return readAt(t, index, null);
    }

    private static byte[] readAt(ExcerptTailer t, long index, long[] endOffset) throws IOException {
        if (!t.moveToIndex(index)) {
            throw new IOException("journal index " + Long.toHexString(index) + " is missing");
        }
        try (DocumentContext dc = t.readingDocument()) {
            if (!dc.isPresent()) {
                throw new IOException("journal index " + Long.toHexString(index) + " has no record");
            }
            Bytes<?> b = dc.wire().bytes();
            if (endOffset != null) {
                endOffset[0] = b.readLimit();
            }
            return b.toByteArray();
        }
    }

    @Override
    public long append(UsageEvent event) throws MeteringException {
        RecordBuffer b = buffers.get();
        RecordFormat.beginRecord(b, RecordFormat.KIND_USAGE, deviceId);
        RecordFormat.usageBody(b, event);
        boolean wakeSealer;
        long seq;
        lockForAppend();
        try {
            if (closed) {
                throw new MeteringException(Reason.CLOSED, "the usage journal is closed (the appliance is stopping "
                        + "or metering is being reconfigured)");
            }
            checkBudgetLocked();
            seq = writeLocked(b);
            lastNonSealSeq = seq;
            wakeSealer = ++sinceSealRequest >= options.sealEveryRecords();
            if (wakeSealer) {
                pendingSealSeq = seq;
                System.arraycopy(headHash, 0, pendingSealHash, 0, RecordFormat.HASH_BYTES);
                sinceSealRequest = 0;
            }
        } finally {
            lock.unlock();
        }
        if (wakeSealer) {
            LockSupport.unpark(sealer);
        }
        return seq;
    }

    /**
     * Takes the lock, spinning briefly first: it is held for about a microsecond, and parking costs a futex
     * sleep and wake-up (several microseconds) on both sides.
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

    private void checkBudgetLocked() throws MeteringException {
        long used = usedBytesLocked();
        long budget = options.diskBudgetBytes();
        if (used >= budget) {
            if (!refusing) {
                refusing = true;
                LOG.error("Usage journal at its disk budget ({} of {} bytes): refusing new usage records until the "
                        + "cloud acknowledges and old files are deleted, or disk.budget.bytes is raised", used, budget);
            }
            throw new MeteringException(Reason.DISK_BUDGET_EXCEEDED, "usage journal is at its disk budget (" + used
                    + " of " + budget + " bytes); free space or raise disk.budget.bytes in configuration "
                    + "io.tollgate.metering.journal");
        }
        if (refusing) {
            refusing = false;
            LOG.info("Usage journal below its disk budget again ({} of {} bytes): accepting usage records", used, budget);
        }
        boolean warn = used * 100 >= budget * WARN_PERCENT;
        if (warn != diskWarning) {
            diskWarning = warn;
            if (warn) {
                LOG.warn("Usage journal uses {} of its {} byte disk budget (>= {}%); at 100% the appliance refuses "
                        + "metered requests. Check that usage sync reaches the cloud.", used, budget, WARN_PERCENT);
            } else {
                LOG.info("Usage journal back under {}% of its disk budget ({} of {} bytes)", WARN_PERCENT, used, budget);
            }
        }
    }

    private long usedBytesLocked() {
        return metadataBytes + closedCyclesBytes + (activeCycle == null ? 0 : activeCycle.extent);
    }

    /**
     * Completes the record in {@code b} (seq, times, prev hash), hashes it and appends it. Caller holds the lock.
     */
    private long writeLocked(RecordBuffer b) throws MeteringException {
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
        if (activeCycle == null || cycle != activeCycle.cycle) {
            if (activeCycle != null) {
                closedCyclesBytes += activeCycle.extent;
            }
            activeCycle = new JournalCycle(cycle, appender.currentFile(), seq, seq, end);
            cycles.put(cycle, activeCycle);
            cycleByFirstSeq.put(seq, cycle);
        }
        activeCycle.lastSeq = seq;
        activeCycle.extent = end;
        tailEnd = end;
        lastWrittenFile = activeCycle.file;
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
                    if (activeCycle != null) {
                        activeCycle.lastSeq = seq;
                    }
                }
            }
        } catch (RuntimeException e) {
            cause.addSuppressed(e);
        }
    }

    // ---- seals -------------------------------------------------------------------------------------

    private void sealLoop() {
        long interval = TimeUnit.MILLISECONDS.toNanos(options.sealEveryMs());
        long idlePoll = Math.max(TimeUnit.MILLISECONDS.toNanos(1), interval / 4);
        while (!stopping) {
            boolean sealed = false;
            try {
                sealed = sealIfDue(interval);
                if (sealed && options.sync() == JournalSync.BATCH) {
                    forceToDisk();
                    // writeback write-protected the page being appended to: let the pretoucher take that fault
                    LockSupport.unpark(pretoucher);
                }
            } catch (Throwable e) { // keep sealing whatever happened: an unsealed journal is a billing risk
                LOG.error("Writing a usage seal failed; retrying in {} ms", options.sealEveryMs(), e);
                LockSupport.parkNanos(this, interval);
            }
            if (!sealed && !stopping) {
                long remaining;
                lock.lock();
                try {
                    remaining = interval - (System.nanoTime() - lastSealNanos);
                } finally {
                    lock.unlock();
                }
                // A count-triggered seal request unparks this thread early.
                LockSupport.parkNanos(this, remaining > 0 ? remaining : idlePoll);
            }
        }
    }

    /** Seals a requested head, or the current head once the interval passed with unsealed records. */
    private boolean sealIfDue(long intervalNanos) throws MeteringException {
        long target;
        byte[] hash;
        SealReason reason;
        lock.lock();
        try {
            if (closed) {
                return false;
            }
            if (pendingSealSeq > lastSealedSeq) {
                target = pendingSealSeq;
                hash = pendingSealHash.clone();
                reason = SealReason.RECORD_COUNT;
                pendingSealSeq = -1;
            } else if (lastNonSealSeq > lastSealedSeq && System.nanoTime() - lastSealNanos >= intervalNanos) {
                target = headSeq;
                hash = headHash.clone();
                reason = SealReason.INTERVAL;
                sinceSealRequest = 0;
            } else {
                return false;
            }
        } finally {
            lock.unlock();
        }
        writeSeal(target, hash, reason);
        return true;
    }

    /** Seals the current head now, on the calling thread (start and shutdown). */
    private void sealHead(SealReason reason) throws MeteringException {
        long target;
        byte[] hash;
        lock.lock();
        try {
            target = headSeq;
            hash = headHash.clone();
            sinceSealRequest = 0;
        } finally {
            lock.unlock();
        }
        writeSeal(target, hash, reason);
    }

    private void writeSeal(long target, byte[] hash, SealReason reason) throws MeteringException {
        byte[] statement = new SealStatement(deviceId, target, hash, reason).encode();
        byte[] signature = key.sign(statement);
        RecordBuffer b = buffers.get();
        RecordFormat.beginRecord(b, RecordFormat.KIND_SEAL, deviceId);
        RecordFormat.sealBody(b, statement, signature);
        lock.lock();
        try {
            if (target <= lastSealedSeq) {
                return;
            }
            // Seals bypass the disk budget: they are few, and the shutdown seal must always be written.
            writeLocked(b);
            lastSealedSeq = target;
            lastSealNanos = System.nanoTime();
        } finally {
            lock.unlock();
        }
    }

    /** fsync of the files written since the last call (BATCH mode and clean shutdown); off the lock. */
    private void forceToDisk() {
        File current = lastWrittenFile;
        if (current == null) {
            return;
        }
        try {
            if (lastForced != null && !lastForced.equals(current) && lastForced.exists()) {
                force(lastForced);
            }
            force(current);
            lastForced = current;
        } catch (IOException e) {
            LOG.error("Forcing the usage journal {} to disk failed: records since the last sync may not survive "
                    + "a power cut", current, e);
        }
    }

    private static void force(File f) throws IOException {
        try (FileChannel ch = FileChannel.open(f.toPath(), StandardOpenOption.WRITE)) {
            ch.force(false);
        }
    }

    // ---- pretouching ----------------------------------------------------------------------------------

    /**
     * Keeps the pages the next records go to mapped and writable, so that appends (under the lock, on
     * request threads) do not take the page faults: the first write to a fresh page of the memory-mapped
     * file, and the write-protect fault on the current page after an fsync wrote it back, cost 5-200 us
     * each (the file system may wait for its journal commit). Chronicle's own pretoucher is an Enterprise
     * feature ({@code ExcerptAppender.pretouch()} is a no-op in the open-source queue), so this does what
     * its {@code MicroToucher} does, from a thread of its own: an atomic compare-and-swap of 0 with 0 on
     * each page, which changes no byte (a record written concurrently is never overwritten: the swap only
     * stores when it reads 0, atomically) but makes the CPU take the write fault here. It touches the
     * same mapping the appender writes through (the chunk the last record went into, reserved so that
     * it cannot be unmapped meanwhile), never past the end of that chunk.
     */
    private void pretouchLoop() {
        ReferenceOwner owner = ReferenceOwner.temporary("tollgate-usage-pretoucher");
        long lastWarned = 0;
        while (!stopping) {
            BytesStore<?, ?> store;
            long end;
            lock.lock();
            try {
                if (closed) {
                    return;
                }
                store = tailStore;
                end = tailEnd;
                if (store != null && !tryReserve(store, owner)) {
                    store = null;
                }
            } finally {
                lock.unlock();
            }
            if (store != null) {
                try {
                    pretouchedPages += touchAhead(store, end);
                } catch (RuntimeException e) {
                    if (System.nanoTime() - lastWarned > TimeUnit.MINUTES.toNanos(1)) {
                        lastWarned = System.nanoTime();
                        LOG.warn("Pretouching the usage journal's next pages failed (appends may be slower, "
                                + "nothing is lost)", e);
                    }
                } finally {
                    store.release(owner);
                }
            }
            LockSupport.parkNanos(this, PRETOUCH_INTERVAL_NANOS);
        }
    }

    private static boolean tryReserve(BytesStore<?, ?> store, ReferenceOwner owner) {
        try {
            return store.tryReserve(owner);
        } catch (IllegalStateException | IllegalArgumentException e) {
            return false;           // released meanwhile (cycle rolled): the next round takes the new chunk
        }
    }

    /** Touches the page holding {@code end} and the pages after it, inside {@code store}. */
    static int touchAhead(BytesStore<?, ?> store, long end) {
        int touched = 0;
        long first = end & -PAGE;
        for (long page = first; page < end + PRETOUCH_AHEAD_BYTES; page += PAGE) {
            if (!store.inside(page, 8)) {
                if (page > end) {
                    break;
                }
                continue;
            }
            store.compareAndSwapLong(page, 0L, 0L);
            touched++;
        }
        return touched;
    }

    // ---- reading, retention, status ------------------------------------------------------------------

    @Override
    public List<UsageRecord> readFrom(long fromSeq, int max) throws MeteringException {
        long index;
        long expected;
        long upTo;
        lock.lock();
        try {
            if (closed) {
                throw new MeteringException(Reason.CLOSED, "the usage journal is closed");
            }
            if (max <= 0 || fromSeq > headSeq || cycleByFirstSeq.isEmpty()) {
                return List.of();
            }
            Map.Entry<Long, Integer> e = cycleByFirstSeq.floorEntry(Math.max(fromSeq, 1));
            if (e == null) {
                e = cycleByFirstSeq.firstEntry();
            }
            expected = Math.max(fromSeq, e.getKey());
            index = rollCycle.toIndex(e.getValue(), expected - e.getKey());
            upTo = headSeq;
        } finally {
            lock.unlock();
        }
        List<UsageRecord> out = new ArrayList<>((int) Math.min(max, upTo - expected + 1));
        try (ExcerptTailer t = queue.createTailer()) {
            if (!t.moveToIndex(index)) {
                throw new MeteringException(Reason.IO_FAILURE, "usage record seq " + expected + " is not at journal "
                        + "index " + Long.toHexString(index) + "; run 'tollgate usage verify'");
            }
            while (out.size() < max && expected <= upTo) {
                try (DocumentContext dc = t.readingDocument()) {
                    if (!dc.isPresent()) {
                        break;
                    }
                    byte[] bytes = dc.wire().bytes().toByteArray();
                    RecordFormat.Decoded d = RecordFormat.decode(bytes);
                    if (d.seq() != expected) {
                        throw new MeteringException(Reason.IO_FAILURE, "usage journal out of step: expected seq "
                                + expected + " but read seq " + d.seq() + "; run 'tollgate usage verify'");
                    }
                    out.add(new UsageRecord(d.seq(), d.recordKind(), d.wallTimeNanos(), bytes));
                    expected++;
                }
            }
        } catch (IllegalArgumentException | IllegalStateException e) {
            throw new MeteringException(Reason.IO_FAILURE, "reading usage record seq " + expected + " failed: "
                    + e.getMessage(), e);
        }
        return out;
    }

    @Override
    public void releaseUpTo(long seq) throws MeteringException {
        List<File> delete = new ArrayList<>();
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
                return;
            }
            releasedSeq = seq;
            Iterator<JournalCycle> it = cycles.values().iterator();
            while (it.hasNext()) {
                JournalCycle c = it.next();
                if (c == activeCycle || c.lastSeq > releasedSeq) {
                    break;
                }
                it.remove();
                cycleByFirstSeq.remove(c.firstSeq);
                closedCyclesBytes -= c.extent;
                delete.add(c.file);
            }
            for (File f : delete) {
                try {
                    Files.deleteIfExists(f.toPath());
                    LOG.info("Deleted released usage journal file {}", f);
                } catch (IOException e) {
                    LOG.error("Could not delete released usage journal file {}; delete it by hand", f, e);
                }
            }
            if (!delete.isEmpty()) {
                queue.refreshDirectoryListing();
                checkBudgetQuietlyLocked();
            }
        } finally {
            lock.unlock();
        }
    }

    private void checkBudgetQuietlyLocked() {
        try {
            checkBudgetLocked();
        } catch (MeteringException e) {
            // still at the budget: append keeps refusing and says so
        }
    }

    @Override
    public JournalStatus status() {
        lock.lock();
        try {
            long first = cycles.isEmpty() ? 0 : cycles.firstEntry().getValue().firstSeq;
            return new JournalStatus(deviceId, first, headSeq, lastSealedSeq, releasedSeq, usedBytesLocked(),
                    options.diskBudgetBytes(), diskWarning, refusing, closed);
        } finally {
            lock.unlock();
        }
    }

    /** Stops taking records, writes the shutdown seal, forces the journal to disk and closes it. */
    @Deactivate
    @Override
    public void close() {
        lock.lock();
        try {
            if (closed) {
                return;
            }
            closed = true;
        } finally {
            lock.unlock();
        }
        stopping = true;
        LockSupport.unpark(sealer);
        LockSupport.unpark(pretoucher);
        try {
            sealer.join(TimeUnit.SECONDS.toMillis(30));
            pretoucher.join(TimeUnit.SECONDS.toMillis(30));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        try {
            sealHead(SealReason.SHUTDOWN);
            forceToDisk();
            LOG.info("Usage journal closed at seq {} with a shutdown seal", headSeq);
        } catch (MeteringException | RuntimeException e) {
            LOG.error("Writing the shutdown seal failed; the next start will record an unclean shutdown", e);
        } finally {
            appender.close();
            queue.close();
            releaseLock(writerLock);
        }
    }

    long pretouchedPages() {
        return pretouchedPages;
    }

    /** The device key's public half, for tools that check what this journal wrote. */
    DevicePublicKey publicKey() {
        return key.publicKey();
    }

    /** One Chronicle cycle file: its seq range and how many bytes of it hold data. */
    private static final class JournalCycle {
        final int cycle;
        final File file;
        final long firstSeq;
        long lastSeq;
        long extent;

        JournalCycle(int cycle, File file, long firstSeq, long lastSeq, long extent) {
            this.cycle = cycle;
            this.file = file;
            this.firstSeq = firstSeq;
            this.lastSeq = lastSeq;
            this.extent = extent;
        }
    }
}
