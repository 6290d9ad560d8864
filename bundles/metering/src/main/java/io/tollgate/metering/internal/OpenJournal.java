package io.tollgate.metering.internal;

import io.tollgate.metering.JournalStatus;
import io.tollgate.metering.MeteringException;
import io.tollgate.metering.UsageEvent;
import io.tollgate.metering.UsageRecord;
import io.tollgate.metering.internal.RecordFormat.SealReason;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import net.openhft.chronicle.bytes.SyncMode;
import net.openhft.chronicle.queue.ExcerptAppender;
import net.openhft.chronicle.queue.RollCycle;
import net.openhft.chronicle.queue.impl.single.SingleChronicleQueue;
import net.openhft.chronicle.queue.impl.single.SingleChronicleQueueBuilder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The usage journal once it is open: the Chronicle queue, the chain and the jobs around it (see
 * {@link ChronicleUsageJournal}, which opens it at activation, or later when the disk was full then).
 *
 * <p>Threads: as {@link ChronicleUsageJournal} says; this class owns {@code tollgate-usage-sealer} and {@code
 * tollgate-usage-pretoucher}, and is opened either by the SCR thread or by {@code tollgate-usage-disk}.
 */
final class OpenJournal {
    private static final Logger LOG = LoggerFactory.getLogger(OpenJournal.class);

    private final DeviceKey key;
    private final String deviceId;
    private final JournalLockFile lockFile;
    private final SingleChronicleQueue queue;
    private final ExcerptAppender appender;
    private final ChainWriter chain;
    private final JournalFsync fsync;
    private final JournalSealer sealer;
    private final JournalPretoucher pretoucher;
    private final JournalRetention retention;
    private final SeqRangeReader reader;
    private final Path totalsFile;
    /** A license totals checkpoint at least this often (records), so that a start after a crash scans little. */
    static final long CHECKPOINT_EVERY_RECORDS = 100_000;
    private final ThreadLocal<RecordBuffer> buffers = ThreadLocal.withInitial(() -> new RecordBuffer(512));

    /**
     * Opens (or creates) the journal, recovers the chain head from its last complete record, writes a START record
     * and a seal over it, and starts the sealer and pretoucher threads.
     *
     * @param retentionWanted wakes the thread that runs {@link #runRetention} (after a forced roll)
     */
    OpenJournal(DeviceKey key, JournalOptions options, JournalRetention.Deleter deleter, DiskSpaceGuard disk,
                Runnable retentionWanted) throws IOException {
        this.key = key;
        this.deviceId = key.deviceId();
        Path dir = options.directory();
        this.lockFile = JournalLockFile.acquire(dir);
        JournalRollTime rollTime = new JournalRollTime(options.chronicleTime());
        SingleChronicleQueue q;
        try {
            q = SingleChronicleQueueBuilder.binary(dir)
                    .rollCycle(options.rollCycle())
                    .timeProvider(rollTime)
                    // appender.sync() msyncs synchronously only in EVERY_RECORD; BATCH forces files itself.
                    .syncMode(options.sync() == JournalSync.EVERY_RECORD ? SyncMode.SYNC : SyncMode.NONE)
                    .build();
        } catch (RuntimeException e) {
            lockFile.release();
            throw e;
        }
        this.queue = q;
        Path metadata = dir.resolve("metadata.cq4t");
        try {
            // its holes too (Chronicle adds keys to it later, through its mapping): before anything else writes it
            if (Files.exists(metadata)) {
                JournalBacking.backWholeFile(metadata);
            }
        } catch (IOException e) {
            queue.close();
            lockFile.release();
            throw new IOException("cannot reserve disk space for " + metadata + ": " + e.getMessage(), e);
        }
        // An existing queue keeps the roll cycle it was created with, whatever the configuration says.
        RollCycle rollCycle = queue.rollCycle();
        if (rollCycle.lengthInMillis() != options.rollCycle().lengthInMillis()
                || !rollCycle.format().equals(options.rollCycle().format())) {
            LOG.warn("The usage journal in {} was created with roll cycle {}; keeping it (roll.cycle {} applies to new "
                    + "journals only)", dir, rollCycle, options.rollCycle());
        }
        boolean started = false;
        ChainWriter writer = null;
        try {
            if (queue.lastCycle() >= 0) {
                // never write to a cycle older than the newest on disk (a forced roll may have run ahead of time)
                rollTime.atLeast((long) queue.lastCycle() * rollCycle.lengthInMillis() + queue.epoch());
            }
            this.appender = queue.createAppender();
            // One appender shared by all serving threads, only ever used under the chain lock.
            appender.singleThreadedCheckDisabled(true);
            long metadataBytes = Files.exists(metadata) ? Files.size(metadata) : 0;
            JournalRecovery.Result recovered = JournalRecovery.recover(queue, dir, deviceId, metadataBytes);
            writer = new ChainWriter(queue, appender, options, recovered, rollTime, disk);
            this.chain = writer;
            this.fsync = new JournalFsync(chain::lastWrittenFile);
            this.pretoucher = new JournalPretoucher(chain, () -> disk.refusal() == null);
            this.sealer = new JournalSealer(key, chain, options, fsync, pretoucher::wake);
            this.retention = new JournalRetention(chain, queue, deleter);
            this.reader = new SeqRangeReader(chain, queue);
            chain.onSealRequested(sealer::wake);
            chain.onRetentionWanted(retentionWanted);
            chain.onBackingWanted(pretoucher::wake);
            this.totalsFile = LicenseTotals.checkpointFile(dir);
            chain.totals().open(totalsFile, key, recovered.files().firstSeq(), recovered.headSeq(), reader::read);

            RecordBuffer b = buffers.get();
            RecordFormat.beginRecord(b, RecordFormat.KIND_START, deviceId);
            RecordFormat.startBody(b, recovered.previousRun());
            chain.appendStart(b);
            sealer.sealNow(SealReason.START);
            writeTotals();
            LOG.info("Usage journal open in {}: device {}, head seq {} (previous run: {}), {} of {} bytes used, "
                            + "sync {}, roll cycle {}", dir, deviceId, chain.headSeq(), recovered.previousRun(),
                    chain.usedBytes(), options.diskBudgetBytes(), options.sync(), rollCycle);
            sealer.start();
            pretoucher.start();
            started = true;
        } catch (MeteringException e) {
            throw new IOException("cannot start the usage journal in " + dir + ": " + e.getMessage(), e);
        } finally {
            if (!started) {
                if (writer != null) {
                    writer.closeBacking();
                }
                queue.close();
                lockFile.release();
            }
        }
    }

    long append(UsageEvent event) throws MeteringException {
        RecordBuffer b = buffers.get();
        RecordFormat.beginRecord(b, RecordFormat.KIND_USAGE, deviceId);
        RecordFormat.usageBody(b, event);
        return chain.appendUsage(b, event);
    }

    List<UsageRecord> readFrom(long fromSeq, int max) throws MeteringException {
        return reader.read(fromSeq, max);
    }

    /** Records the release and runs retention on this (the caller's) thread, off the chain lock. */
    void releaseUpTo(long seq) throws MeteringException {
        if (chain.release(seq)) {
            retain();
        }
    }

    /**
     * Retention, after the license totals checkpoint that must cover a file before it is deleted: when a released
     * file waits for one, the checkpoint is written (and forced to disk) first; if that fails, nothing is deleted.
     * Also writes one every {@value #CHECKPOINT_EVERY_RECORDS} records (the disk thread calls this every 250 ms).
     */
    private synchronized void retain() {
        if (chain.checkpointWanted(CHECKPOINT_EVERY_RECORDS) && !writeTotals()) {
            return;
        }
        retention.run();
    }

    /** Writes the license totals checkpoint at the head; false (and one ERROR line) when it could not be written. */
    private boolean writeTotals() {
        LicenseTotals.Snapshot s = chain.totalsSnapshot();
        if (chain.totals().unknownReason() != null) {
            // Nothing trustworthy to write, and nothing left to protect: the gap that made the count unknown stays
            // visible at every start, so retention may go on (else the disk budget would fill and stop all serving).
            chain.checkpointed(s.seq());
            return true;
        }
        try {
            LicenseTotals.write(totalsFile, key, s);
            chain.checkpointed(s.seq());
            return true;
        } catch (IOException | RuntimeException e) {
            LOG.error("Writing the license totals checkpoint {} failed; released journal files are kept until it "
                    + "can be written", totalsFile, e);
            return false;
        }
    }

    /** Quantity served under a license ({@link LicenseTotals#quantity}). */
    long licenseQuantity(String licenseId, String meter) throws MeteringException {
        return chain.totals().quantity(licenseId, meter);
    }

    JournalStatus status() {
        return chain.status(deviceId);
    }

    /** Stops taking records, writes the shutdown seal, forces the journal to disk and closes it. */
    void close() {
        if (!chain.close()) {
            return;
        }
        sealer.stop();
        pretoucher.stop();
        try {
            sealer.sealNow(SealReason.SHUTDOWN);
            fsync.force();
            writeTotals();
            LOG.info("Usage journal closed at seq {} with a shutdown seal", chain.headSeq());
        } catch (MeteringException | RuntimeException e) {
            LOG.error("Writing the shutdown seal failed; the next start will record an unclean shutdown", e);
        } finally {
            chain.closeBacking();
            appender.close();
            queue.close();
            lockFile.release();
        }
    }

    /** Deletes the files whose records are all released; never throws. */
    void runRetention() {
        try {
            retain();
        } catch (RuntimeException e) {
            LOG.error("Usage journal retention failed", e);
        }
    }

    /** Why the next usage record would be refused, or null; volatile reads only. */
    String refusal() {
        return chain.refusal();
    }

    /** SIGBUS faults on mapped pages the pretoucher and sealer caught (for tests: must stay 0). */
    long mappedFaults() {
        return pretoucher.mappedFaults() + sealer.mappedFaults();
    }

    /** Pages the pretoucher touched so far (for tests). */
    long pretouchedPages() {
        return pretoucher.touchedPages();
    }
}
