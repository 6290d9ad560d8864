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
import io.tollgate.metering.MeteringException.Reason;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.metatype.annotations.Designate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The usage journal service: canonical records, hash-chained, in a Chronicle Queue, sealed by the device key. This
 * class opens and closes the journal (the opened state is an {@link OpenJournal}) and answers the {@link UsageJournal}
 * and {@link ReadinessCheck} calls; each job is a class of its own: {@link JournalLockFile} (one writer per
 * directory), {@link JournalRecovery} (continuing the chain found on disk), {@link ChainWriter} (the chain head and
 * its lock), {@link JournalSealer} and {@link SealSchedule} (seals), {@link JournalFsync}, {@link JournalPretoucher}
 * and {@link JournalBacking} (pages the file system has allocated before anything writes them through the mapping: a
 * full disk is an IOException there, never a SIGBUS), {@link JournalRetention} (deleting released files),
 * {@link DiskBudget}, {@link DiskSpaceGuard} (a full disk),
 * {@link JournalRollTime} (rolling early), {@link JournalFileIndex} and {@link SeqRangeReader}.
 *
 * <p>Threads: any number of serving threads call {@link #append}; the record body is encoded before the chain lock
 * is taken (one buffer per thread), then {@link ChainWriter} gives it its seq and hash under the lock. The journal
 * owns three daemon threads, {@code tollgate-usage-sealer} ({@link JournalSealer}), {@code
 * tollgate-usage-pretoucher} ({@link JournalPretoucher}) and {@code tollgate-usage-disk}, which polls the free space
 * every 250 ms, opens the journal late when the disk was full at activation, and deletes the file a forced roll
 * closed. The {@link ReadinessCheck} methods read volatile state only; they are called on network threads.
 * {@link #releaseUpTo} (which runs retention) and {@link #readFrom} are called by the sync bundle's thread;
 * activation and {@link #close} by the SCR thread.
 */
@Component(service = {UsageJournal.class, ReadinessCheck.class}, configurationPid = "io.tollgate.metering.journal")
@Designate(ocd = JournalConfig.class)
public final class ChronicleUsageJournal implements UsageJournal, ReadinessCheck, AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(ChronicleUsageJournal.class);

    private final DeviceKey key;
    private final String deviceId;
    private final JournalOptions options;
    private final JournalRetention.Deleter deleter;
    private final DiskSpaceGuard disk;
    private final JournalThread diskThread;
    /** Guards opening against closing; the open journal itself is read without it. */
    private final Object opening = new Object();
    /** Null until the journal is open (at activation, or once the disk has room again). */
    private volatile OpenJournal open;
    private volatile boolean closed;
    private long lastOpenFailureLogged;

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
     * and a seal over it, and starts the sealer, pretoucher and disk threads. When the disk under the journal has
     * less free space than the reserve, the journal is not opened (that writes, and writing a mapped page of a full
     * disk is a SIGBUS): the service refuses records with the reason and opens the journal by itself once there is
     * room (decision 2026-11-30 "Full disk and budget recovery").
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
        this.options = options;
        this.deleter = deleter;
        Path dir = options.directory();
        Files.createDirectories(dir);
        this.disk = new DiskSpaceGuard(dir, options.diskReserveBytes(), freeSpace);
        this.diskThread = new JournalThread("tollgate-usage-disk", this::diskLoop);
        if (disk.poll()) {
            open = new OpenJournal(key, options, deleter, disk, diskThread::wake);
        } else {
            LOG.error("The usage journal in {} does not open yet: {}. Metered requests are answered 503 until it "
                    + "opens by itself", dir, disk.refusal());
        }
        diskThread.start();
    }

    @Override
    public long append(UsageEvent event) throws MeteringException {
        return opened().append(event);
    }

    @Override
    public List<UsageRecord> readFrom(long fromSeq, int max) throws MeteringException {
        return opened().readFrom(fromSeq, max);
    }

    @Override
    public long licenseQuantity(String licenseId, String meter) throws MeteringException {
        return opened().licenseQuantity(licenseId, meter);
    }

    /** Records the release and runs retention on this (the caller's) thread, off the chain lock. */
    @Override
    public void releaseUpTo(long seq) throws MeteringException {
        opened().releaseUpTo(seq);
    }

    @Override
    public JournalStatus status() {
        OpenJournal o = open;
        if (o == null) {
            return new JournalStatus(deviceId, 0, 0, 0, 0, 0, options.diskBudgetBytes(), false, true, closed);
        }
        return o.status();
    }

    private OpenJournal opened() throws MeteringException {
        OpenJournal o = open;
        if (o != null) {
            return o;
        }
        if (closed) {
            throw new MeteringException(Reason.CLOSED, "the usage journal is closed");
        }
        throw new MeteringException(Reason.DISK_FULL, notOpenReason());
    }

    private String notOpenReason() {
        String r = disk.refusal();
        return "the usage journal has not opened: " + (r != null ? r : "opening it failed (see the log); retrying");
    }

    /** Stops taking records, writes the shutdown seal, forces the journal to disk and closes it. */
    @Deactivate
    @Override
    public void close() {
        synchronized (opening) {
            if (closed) {
                return;
            }
            closed = true;
        }
        diskThread.stop();
        OpenJournal o = open;
        if (o != null) {
            o.close();
        }
    }

    /**
     * The {@code tollgate-usage-disk} loop: polls the free space (appends resume within one poll of space being
     * freed), opens the journal once there is room if it could not open at activation, and deletes files that are
     * all released, e.g. the one a forced roll just closed. Never throws.
     */
    private void diskLoop() {
        long lastWarned = 0;
        while (!diskThread.stopping()) {
            try {
                boolean room = disk.poll();
                OpenJournal o = open;
                if (o != null) {
                    o.runRetention();
                } else if (room) {
                    openLate();
                }
            } catch (Throwable e) { // the thread that lets service resume must outlive any one failure
                if (System.nanoTime() - lastWarned > TimeUnit.MINUTES.toNanos(1)) {
                    lastWarned = System.nanoTime();
                    LOG.error("Checking the usage journal's free space failed; retrying", e);
                }
            }
            diskThread.park(TimeUnit.MILLISECONDS.toNanos(DiskSpaceGuard.POLL_MILLIS));
        }
    }

    private void openLate() {
        synchronized (opening) {
            if (open != null || closed) {
                return;
            }
            try {
                open = new OpenJournal(key, options, deleter, disk, diskThread::wake);
                LOG.info("Usage journal opened now that {} has room: accepting usage records", options.directory());
            } catch (IOException | RuntimeException e) {
                if (System.nanoTime() - lastOpenFailureLogged > TimeUnit.MINUTES.toNanos(1)) {
                    lastOpenFailureLogged = System.nanoTime();
                    LOG.error("Opening the usage journal in {} failed; retrying every {} ms", options.directory(),
                            DiskSpaceGuard.POLL_MILLIS, e);
                }
            }
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
        OpenJournal o = open;
        String r = o != null ? o.refusal() : closed ? "the usage journal is closed" : notOpenReason();
        return r == null ? Optional.empty() : Optional.of("usage records cannot be written: " + r);
    }

    /** SIGBUS faults on mapped pages the journal's threads caught (for tests: must stay 0). */
    long mappedFaults() {
        OpenJournal o = open;
        return o == null ? 0 : o.mappedFaults();
    }

    /** Pages the pretoucher touched so far (for tests). */
    long pretouchedPages() {
        OpenJournal o = open;
        return o == null ? 0 : o.pretouchedPages();
    }

    /** The device key's public half, for tools that check what this journal wrote. */
    DevicePublicKey publicKey() {
        return key.publicKey();
    }
}
