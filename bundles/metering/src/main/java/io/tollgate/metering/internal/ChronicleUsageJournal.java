package io.tollgate.metering.internal;

import io.tollgate.config.ConfigurationKeys;
import io.tollgate.health.ReadinessCheck;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import io.tollgate.metering.JournalStatus;
import io.tollgate.metering.MeteringException;
import io.tollgate.metering.UsageEvent;
import io.tollgate.metering.UsageJournal;
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
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.metatype.annotations.Designate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The usage journal service: canonical records, hash-chained, in a Chronicle Queue, sealed by the device key. This
 * class opens and closes the journal and answers the {@link UsageJournal} calls; each job is a class of its own:
 * {@link JournalLockFile} (one writer per directory), {@link JournalRecovery} (continuing the chain found on disk),
 * {@link ChainWriter} (the chain head and its lock), {@link JournalSealer} and {@link SealSchedule} (seals),
 * {@link JournalFsync}, {@link JournalPretoucher}, {@link JournalRetention} (deleting released files),
 * {@link DiskBudget}, {@link JournalFileIndex} and {@link SeqRangeReader}.
 *
 * <p>Threads: any number of serving threads call {@link #append}; the record body is encoded before the chain lock
 * is taken (one buffer per thread), then {@link ChainWriter} gives it its seq and hash under the lock. The journal
 * owns three daemon threads, {@code tollgate-usage-sealer} ({@link JournalSealer}), {@code
 * tollgate-usage-pretoucher} ({@link JournalPretoucher}) and {@code tollgate-usage-disk}, which polls the free space
 * ({@link DiskSpaceGuard}) every 250 ms and deletes the file a forced roll closed (see {@link JournalRollTime}).
 * The {@link ReadinessCheck} methods read volatile state only and are called on network threads. {@link #releaseUpTo} (which runs retention) and
 * {@link #readFrom} are called by the sync bundle's thread; activation and {@link #close} by the SCR thread.
 */
@Component(service = {UsageJournal.class, ReadinessCheck.class}, configurationPid = "io.tollgate.metering.journal")
@Designate(ocd = JournalConfig.class)
public final class ChronicleUsageJournal implements UsageJournal, ReadinessCheck, AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(ChronicleUsageJournal.class);

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
    private final DiskSpaceGuard disk;
    private final JournalThread diskThread;
    private final ThreadLocal<RecordBuffer> buffers = ThreadLocal.withInitial(() -> new RecordBuffer(512));

    @Activate
    public ChronicleUsageJournal(@Reference DeviceKey key, JournalConfig config, Map<String, Object> properties)
            throws IOException {
        this(key, JournalOptions.from(checked(config, properties)));
    }

    /** Without DS: the configuration as given (its keys are the annotation's own). */
    ChronicleUsageJournal(DeviceKey key, JournalConfig config) throws IOException {
        this(key, JournalOptions.from(config));
    }

    private static JournalConfig checked(JournalConfig config, Map<String, Object> properties) {
        ConfigurationKeys.refuseUnknown("io.tollgate.metering.journal", JournalConfig.class, properties);
        return config;
    }

    /**
     * Opens (or creates) the journal, recovers the chain head from its last complete record, writes a START record
     * and a seal over it, and starts the sealer and pretoucher threads.
     */
    public ChronicleUsageJournal(DeviceKey key, JournalOptions options) throws IOException {
        this(key, options, JournalRetention.DELETE_FILE, DiskSpaceGuard.fileStoreOf(options.directory()));
    }

    /** As above, with {@code deleter} deleting released files (tests hold a deletion open with it). */
    ChronicleUsageJournal(DeviceKey key, JournalOptions options, JournalRetention.Deleter deleter) throws IOException {
        this(key, options, deleter, DiskSpaceGuard.fileStoreOf(options.directory()));
    }

    /** As above, with {@code freeSpace} saying how much room the journal's file system has (tests fake it). */
    ChronicleUsageJournal(DeviceKey key, JournalOptions options, JournalRetention.Deleter deleter,
                          DiskSpaceGuard.FreeSpace freeSpace) throws IOException {
        this.key = key;
        this.deviceId = key.deviceId();
        Path dir = options.directory();
        Files.createDirectories(dir);
        this.disk = new DiskSpaceGuard(dir, options.diskReserveBytes(), freeSpace);
        if (!disk.poll()) {
            // Opening writes a START record and a seal, and Chronicle maps and writes its files: on a full disk that
            // is a SIGBUS, not an IOException. Refuse to open instead (decision 2026-11-30 "A full disk refuses like
            // the budget").
            throw new IOException("cannot start the usage journal: " + disk.refusal());
        }
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
        // An existing queue keeps the roll cycle it was created with, whatever the configuration says.
        RollCycle rollCycle = queue.rollCycle();
        if (rollCycle.lengthInMillis() != options.rollCycle().lengthInMillis()
                || !rollCycle.format().equals(options.rollCycle().format())) {
            LOG.warn("The usage journal in {} was created with roll cycle {}; keeping it (roll.cycle {} applies to new "
                    + "journals only)", dir, rollCycle, options.rollCycle());
        }
        boolean started = false;
        try {
            if (queue.lastCycle() >= 0) {
                // never write to a cycle older than the newest on disk (a forced roll may have run ahead of time)
                rollTime.atLeast((long) queue.lastCycle() * rollCycle.lengthInMillis() + queue.epoch());
            }
            this.appender = queue.createAppender();
            // One appender shared by all serving threads, only ever used under the chain lock.
            appender.singleThreadedCheckDisabled(true);
            Path meta = dir.resolve("metadata.cq4t");
            long metadataBytes = Files.exists(meta) ? Files.size(meta) : 0;
            JournalRecovery.Result recovered = JournalRecovery.recover(queue, dir, deviceId, metadataBytes);
            this.chain = new ChainWriter(queue, appender, options, recovered, rollTime, disk);
            this.fsync = new JournalFsync(chain::lastWrittenFile);
            this.pretoucher = new JournalPretoucher(chain, () -> disk.refusal() == null);
            this.sealer = new JournalSealer(key, chain, options, fsync, pretoucher::wake);
            this.retention = new JournalRetention(chain, queue, deleter);
            this.reader = new SeqRangeReader(chain, queue);
            chain.onSealRequested(sealer::wake);
            this.diskThread = new JournalThread("tollgate-usage-disk", this::diskLoop);
            chain.onRetentionWanted(diskThread::wake);

            RecordBuffer b = buffers.get();
            RecordFormat.beginRecord(b, RecordFormat.KIND_START, deviceId);
            RecordFormat.startBody(b, recovered.previousRun());
            chain.appendStart(b);
            sealer.sealNow(SealReason.START);
            LOG.info("Usage journal open in {}: device {}, head seq {} (previous run: {}), {} of {} bytes used, "
                            + "sync {}, roll cycle {}", dir, deviceId, chain.headSeq(), recovered.previousRun(),
                    chain.usedBytes(), options.diskBudgetBytes(), options.sync(), rollCycle);
            sealer.start();
            pretoucher.start();
            diskThread.start();
            started = true;
        } catch (MeteringException e) {
            throw new IOException("cannot start the usage journal in " + dir + ": " + e.getMessage(), e);
        } finally {
            if (!started) {
                queue.close();
                lockFile.release();
            }
        }
    }

    @Override
    public long append(UsageEvent event) throws MeteringException {
        RecordBuffer b = buffers.get();
        RecordFormat.beginRecord(b, RecordFormat.KIND_USAGE, deviceId);
        RecordFormat.usageBody(b, event);
        return chain.appendUsage(b);
    }

    @Override
    public List<UsageRecord> readFrom(long fromSeq, int max) throws MeteringException {
        return reader.read(fromSeq, max);
    }

    /** Records the release and runs retention on this (the caller's) thread, off the chain lock. */
    @Override
    public void releaseUpTo(long seq) throws MeteringException {
        if (chain.release(seq)) {
            retention.run();
        }
    }

    @Override
    public JournalStatus status() {
        return chain.status(deviceId);
    }

    /** Stops taking records, writes the shutdown seal, forces the journal to disk and closes it. */
    @Deactivate
    @Override
    public void close() {
        if (!chain.close()) {
            return;
        }
        sealer.stop();
        pretoucher.stop();
        diskThread.stop();
        try {
            sealer.sealNow(SealReason.SHUTDOWN);
            fsync.force();
            LOG.info("Usage journal closed at seq {} with a shutdown seal", chain.headSeq());
        } catch (MeteringException | RuntimeException e) {
            LOG.error("Writing the shutdown seal failed; the next start will record an unclean shutdown", e);
        } finally {
            appender.close();
            queue.close();
            lockFile.release();
        }
    }

    /**
     * The {@code tollgate-usage-disk} loop: polls the free space (appends resume within one poll of space being
     * freed) and deletes files that are all released, e.g. the one a forced roll just closed. Never throws.
     */
    private void diskLoop() {
        long lastWarned = 0;
        while (!diskThread.stopping()) {
            try {
                disk.poll();
                retention.run();
            } catch (Throwable e) { // the thread that lets service resume must outlive any one failure
                if (System.nanoTime() - lastWarned > TimeUnit.MINUTES.toNanos(1)) {
                    lastWarned = System.nanoTime();
                    LOG.error("Checking the usage journal's free space failed; retrying", e);
                }
            }
            diskThread.park(TimeUnit.MILLISECONDS.toNanos(DiskSpaceGuard.POLL_MILLIS));
        }
    }

    /** {@code metering}. */
    @Override
    public String name() {
        return "metering";
    }

    /** Every served request needs its usage record: nothing is served while the journal refuses records. */
    @Override
    public boolean required() {
        return true;
    }

    @Override
    public Optional<String> notReadyReason() {
        String r = chain.refusal();
        return r == null ? Optional.empty() : Optional.of("usage records cannot be written: " + r);
    }

    /** Pages the pretoucher touched so far (for tests). */
    long pretouchedPages() {
        return pretoucher.touchedPages();
    }

    /** The device key's public half, for tools that check what this journal wrote. */
    DevicePublicKey publicKey() {
        return key.publicKey();
    }
}
