package io.tollgate.metering.internal;

import io.tollgate.metering.MeteringException;
import io.tollgate.metering.internal.RecordFormat.SealReason;
import io.tollgate.metering.internal.RecordFormat.SealStatement;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Signs the chain head with the device key and appends the seal, when {@link SealSchedule} says so; in sync mode
 * BATCH it then forces the journal to disk (docs/decisions.md, 2026-11-23 "Seals are chain records that sign a
 * separate statement, off the request path").
 *
 * <p>Threads: owns the daemon thread {@code tollgate-usage-sealer}, which an appending thread wakes when a
 * count-triggered seal is requested. Signing (tens of µs) and the fsync happen on it, never under the chain lock and
 * never on a request thread. {@link #sealNow} runs on the calling thread: the opener before {@link #start}, the
 * closer after {@link #stop}.
 */
final class JournalSealer {
    private static final Logger LOG = LoggerFactory.getLogger(JournalSealer.class);

    private final DeviceKey key;
    private final String deviceId;
    private final ChainWriter chain;
    private final JournalOptions options;
    private final JournalFsync fsync;
    private final Runnable afterFsync;
    private final JournalThread thread;
    /** Seals that ended in an {@link InternalError}, i.e. a SIGBUS on a mapped page (for tests: must stay 0). */
    private volatile long mappedFaults;

    /** @param afterFsync called on the sealer thread after each fsync (the pretoucher re-touches the written page) */
    JournalSealer(DeviceKey key, ChainWriter chain, JournalOptions options, JournalFsync fsync, Runnable afterFsync) {
        this.key = key;
        this.deviceId = key.deviceId();
        this.chain = chain;
        this.options = options;
        this.fsync = fsync;
        this.afterFsync = afterFsync;
        this.thread = new JournalThread("tollgate-usage-sealer", this::sealLoop);
    }

    void start() {
        thread.start();
    }

    /** A seal is requested: seal without waiting for the rest of the interval. */
    void wake() {
        thread.wake();
    }

    /** Stops the thread; it finishes the seal it is writing. */
    void stop() {
        thread.stop();
    }

    long mappedFaults() {
        return mappedFaults;
    }

    /** Seals the current head now, on the calling thread (START and SHUTDOWN). */
    void sealNow(SealReason reason) throws MeteringException {
        write(chain.headSeal(reason), new RecordBuffer(512));
    }

    private void sealLoop() {
        long interval = TimeUnit.MILLISECONDS.toNanos(options.sealEveryMs());
        long idlePoll = Math.max(TimeUnit.MILLISECONDS.toNanos(1), interval / 4);
        RecordBuffer buffer = new RecordBuffer(512);
        while (!thread.stopping()) {
            boolean sealed = false;
            try {
                SealSchedule.Target due = chain.dueSeal();
                if (due != null) {
                    write(due, buffer);
                    sealed = true;
                    if (options.sync() == JournalSync.BATCH) {
                        fsync.force();
                        // writeback write-protected the page being appended to: let the pretoucher take that fault
                        afterFsync.run();
                    }
                }
            } catch (Throwable e) { // keep sealing whatever happened: an unsealed journal is a billing risk
                if (e instanceof InternalError) {
                    mappedFaults++;
                }
                LOG.error("Writing a usage seal failed; retrying in {} ms", options.sealEveryMs(), e);
                thread.park(interval);
            }
            if (!sealed && !thread.stopping()) {
                long remaining = chain.nanosUntilIntervalSeal();
                // A count-triggered seal request unparks this thread early.
                thread.park(remaining > 0 ? remaining : idlePoll);
            }
        }
    }

    /** Signs the statement for {@code target} (no lock held) and appends the seal record. */
    private void write(SealSchedule.Target target, RecordBuffer b) throws MeteringException {
        byte[] statement = new SealStatement(deviceId, target.seq(), target.hash(), target.reason()).encode();
        byte[] signature = key.sign(statement);
        RecordFormat.beginRecord(b, RecordFormat.KIND_SEAL, deviceId);
        RecordFormat.sealBody(b, statement, signature);
        chain.appendSeal(target.seq(), b, target.reason() == SealReason.SHUTDOWN);
    }
}
