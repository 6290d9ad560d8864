package io.tollgate.metering.internal;

import io.tollgate.config.ConfigurationKeys;
import java.util.Map;
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
 * owns two daemon threads, {@code tollgate-usage-sealer} ({@link JournalSealer}) and {@code
 * tollgate-usage-pretoucher} ({@link JournalPretoucher}). {@link #releaseUpTo} (which runs retention) and
 * {@link #readFrom} are called by the sync bundle's thread; activation and {@link #close} by the SCR thread.
 */
@Component(service = UsageJournal.class, configurationPid = "io.tollgate.metering.journal")
@Designate(ocd = JournalConfig.class)
public final class ChronicleUsageJournal implements UsageJournal, AutoCloseable {
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
        this(key, options, JournalRetention.DELETE_FILE);
    }

    /** As above, with {@code deleter} deleting released files (tests hold a deletion open with it). */
    ChronicleUsageJournal(DeviceKey key, JournalOptions options, JournalRetention.Deleter deleter) throws IOException {
        this.key = key;
        this.deviceId = key.deviceId();
        Path dir = options.directory();
        Files.createDirectories(dir);
        this.lockFile = JournalLockFile.acquire(dir);
        SingleChronicleQueue q;
        try {
            q = SingleChronicleQueueBuilder.binary(dir)
                    .rollCycle(options.rollCycle())
                    .timeProvider(options.chronicleTime())
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
            this.appender = queue.createAppender();
            // One appender shared by all serving threads, only ever used under the chain lock.
            appender.singleThreadedCheckDisabled(true);
            Path meta = dir.resolve("metadata.cq4t");
            long metadataBytes = Files.exists(meta) ? Files.size(meta) : 0;
            JournalRecovery.Result recovered = JournalRecovery.recover(queue, dir, deviceId, metadataBytes);
            this.chain = new ChainWriter(queue, appender, options, recovered);
            this.fsync = new JournalFsync(chain::lastWrittenFile);
            this.pretoucher = new JournalPretoucher(chain);
            this.sealer = new JournalSealer(key, chain, options, fsync, pretoucher::wake);
            this.retention = new JournalRetention(chain, queue, deleter);
            this.reader = new SeqRangeReader(chain, queue);
            chain.onSealRequested(sealer::wake);

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

    /** Pages the pretoucher touched so far (for tests). */
    long pretouchedPages() {
        return pretoucher.touchedPages();
    }

    /** The device key's public half, for tools that check what this journal wrote. */
    DevicePublicKey publicKey() {
        return key.publicKey();
    }
}
