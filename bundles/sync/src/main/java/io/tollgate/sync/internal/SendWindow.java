package io.tollgate.sync.internal;

import io.tollgate.metering.MeteringException;
import io.tollgate.metering.UsageJournal;
import io.tollgate.metering.UsageRecord;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What to send next, and when (docs/sync-protocol.md): the send cursor (the next seq, the highest seq sent), the
 * batches awaiting PUBACK, flow control ({@code max.in.flight}, {@code max.unacked.records}), the
 * {@code max.delay.ms} timer of the next batch, the pause after a batch the broker did not take, and the ack timeout
 * that sends again from ack + 1. Decides only: it reads the journal for a record's wall time and publishes nothing.
 *
 * <p>Threads: the sender thread only. Times are passed in ({@link System#nanoTime()} and wall-clock ms).
 */
final class SendWindow {
    private static final Logger LOG = LoggerFactory.getLogger(SendWindow.class);

    private final UsageJournal journal;
    private final UplinkOptions o;
    private long nextSeq;
    private long sentUpTo;
    private int inFlight;
    /** When the cloud last showed progress (connect, ack, resend) while records were outstanding. */
    private long progressNanos;
    private long pausedUntilNanos;
    /** The record the next batch starts with and its wall time, so the journal is read once per batch. */
    private long heldSeq = -1;
    private long heldWallMs;

    SendWindow(UsageJournal journal, UplinkOptions o) {
        this.journal = journal;
        this.o = o;
    }

    long nextSeq() {
        return nextSeq;
    }

    int inFlight() {
        return inFlight;
    }

    /**
     * A new connection: nothing is awaiting PUBACK on it, and everything after the ack is sent again (duplicates are
     * normal, the cloud drops them). Batches of an earlier connection no longer count.
     */
    void restart(long ackedSeq, long nowNanos) {
        inFlight = 0;
        rewindTo(ackedSeq + 1);
        sentUpTo = ackedSeq;
        progressNanos = nowNanos;
        pausedUntilNanos = nowNanos;
    }

    /**
     * Records were sent but no ack came for {@code ack.timeout.ms} (the cloud may have missed them): sends again
     * from ack + 1. Returns true when it rewound.
     */
    boolean rewindIfAckOverdue(long ackedSeq, long nowNanos) {
        if (sentUpTo <= ackedSeq || nowNanos - progressNanos <= TimeUnit.MILLISECONDS.toNanos(o.ackTimeoutMs())) {
            return false;
        }
        LOG.info("No ack for {} ms with records up to seq {} sent: sending again from seq {}", o.ackTimeoutMs(),
                sentUpTo, ackedSeq + 1);
        rewindTo(ackedSeq + 1);
        progressNanos = nowNanos;
        return true;
    }

    /**
     * 0 when a batch should be published now; else how many ms (at least 1) to wait for an event before asking
     * again. A batch goes when it is full or its first record is {@code max.delay.ms} old, by the record's wall time
     * (records that waited while the link was down go at once), and only within the flow-control limits.
     *
     * @param lastSeq the journal's newest seq
     */
    long msUntilNextBatch(long lastSeq, long ackedSeq, long nowNanos, long nowWallMs) throws MeteringException {
        long waitMs = o.maxDelayMs();
        boolean paused = nowNanos - pausedUntilNanos < 0;
        boolean mayPublish = nextSeq <= lastSeq && inFlight < o.maxInFlight() && !paused
                && nextSeq <= ackedSeq + o.maxUnackedRecords();
        if (mayPublish) {
            long dueMs = lastSeq - nextSeq + 1 >= o.maxRecords() ? 0 : msUntilDue(nextSeq, nowWallMs);
            if (dueMs <= 0) {
                return 0;
            }
            waitMs = dueMs;
        } else if (paused) {
            waitMs = Math.max(1, Math.min(waitMs, TimeUnit.NANOSECONDS.toMillis(pausedUntilNanos - nowNanos)));
        }
        return waitMs;
    }

    private long msUntilDue(long seq, long nowWallMs) throws MeteringException {
        if (heldSeq != seq) {
            List<UsageRecord> first = journal.readFrom(seq, 1);
            if (first.isEmpty()) {
                return o.maxDelayMs();
            }
            heldSeq = seq;
            heldWallMs = first.get(0).wallTimeNanos() / 1_000_000;
        }
        long age = nowWallMs - heldWallMs;
        return Math.max(0, Math.min(o.maxDelayMs(), o.maxDelayMs() - age));
    }

    /** Records {@code firstSeq..lastSeq} went out in one batch. */
    void published(long firstSeq, long lastSeq, long ackedSeq, long nowNanos) {
        if (sentUpTo <= ackedSeq) {
            progressNanos = nowNanos;
        }
        inFlight++;
        nextSeq = lastSeq + 1;
        sentUpTo = Math.max(sentUpTo, lastSeq);
    }

    /** The broker took a batch (PUBACK). */
    void delivered() {
        inFlight--;
    }

    /** The broker did not take the batch from {@code firstSeq}: send again from there after reconnect.min.ms. */
    void notDelivered(long firstSeq, long nowNanos) {
        inFlight--;
        rewindTo(Math.min(nextSeq, firstSeq));
        pausedUntilNanos = nowNanos + TimeUnit.MILLISECONDS.toNanos(o.reconnectMinMs());
    }

    /** Nothing can be sent now (the next record does not fit the broker's limit): ask again in {@code ms}. */
    void hold(long ms, long nowNanos) {
        pausedUntilNanos = nowNanos + TimeUnit.MILLISECONDS.toNanos(ms);
    }

    /** The cloud acknowledged up to {@code ackedSeq}: never send below it again. */
    void acked(long ackedSeq, long nowNanos) {
        progressNanos = nowNanos;
        if (nextSeq <= ackedSeq) {
            nextSeq = ackedSeq + 1;
        }
    }

    /** The cloud asked for everything from {@code fromSeq} again. */
    void resend(long fromSeq, long nowNanos) {
        rewindTo(fromSeq);
        progressNanos = nowNanos;
    }

    private void rewindTo(long seq) {
        nextSeq = seq;
        heldSeq = -1;
    }
}
