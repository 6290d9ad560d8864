package io.tollgate.metering.internal;

import io.tollgate.metering.internal.RecordFormat.SealReason;

/**
 * When the chain head is due for a seal: after {@code seal.every.records} records (RECORD_COUNT, sealing exactly the
 * N-th record), or once {@code seal.every.ms} passed with unsealed records (INTERVAL, sealing the head). Requests are
 * coalesced, never queued: a sealer that falls behind seals the newest requested record, and a seal for a record
 * already covered by a later seal is skipped. Decides only; {@link JournalSealer} signs and writes.
 *
 * <p>Threads: not thread-safe; every call is made under the chain lock ({@link ChainWriter}). Times are
 * {@link System#nanoTime()} readings passed in by the caller.
 */
final class SealSchedule {
    /** A chain record to seal: its seq and hash, and why. */
    record Target(long seq, byte[] hash, SealReason reason) {
    }

    private final int everyRecords;
    private final long intervalNanos;
    private int sinceRequest;
    private long requestedSeq = -1;
    private final byte[] requestedHash = new byte[RecordFormat.HASH_BYTES];
    private long lastNonSealSeq;
    private long lastSealedSeq;
    private long lastSealNanos;

    /**
     * @param headSeq  the chain head found on disk (0 for a new journal): the newest record not known to be sealed
     * @param nowNanos the interval is counted from here until the first seal
     */
    SealSchedule(int everyRecords, long intervalNanos, long headSeq, long nowNanos) {
        this.everyRecords = everyRecords;
        this.intervalNanos = intervalNanos;
        this.lastNonSealSeq = headSeq;
        this.lastSealNanos = nowNanos;
    }

    /**
     * A usage or START record went into the chain. Returns true when it completes a count of
     * {@code seal.every.records}: a seal of exactly this record is then requested (wake the sealer).
     */
    boolean recordWritten(long seq, byte[] hash) {
        lastNonSealSeq = seq;
        if (++sinceRequest < everyRecords) {
            return false;
        }
        requestedSeq = seq;
        System.arraycopy(hash, 0, requestedHash, 0, RecordFormat.HASH_BYTES);
        sinceRequest = 0;
        return true;
    }

    /** What to seal now, if anything: a requested record first, else the head once the interval has passed. */
    Target due(long nowNanos, long headSeq, byte[] headHash) {
        if (requestedSeq > lastSealedSeq) {
            Target t = new Target(requestedSeq, requestedHash.clone(), SealReason.RECORD_COUNT);
            requestedSeq = -1;
            return t;
        }
        if (lastNonSealSeq > lastSealedSeq && nowNanos - lastSealNanos >= intervalNanos) {
            sinceRequest = 0;
            return new Target(headSeq, headHash.clone(), SealReason.INTERVAL);
        }
        return null;
    }

    /** A seal of the head, whatever the schedule says (START, SHUTDOWN); restarts the record count. */
    Target now(long headSeq, byte[] headHash, SealReason reason) {
        sinceRequest = 0;
        return new Target(headSeq, headHash.clone(), reason);
    }

    /** True when a seal of {@code seq} would add nothing: a seal of it or of a later record is in the chain. */
    boolean alreadySealed(long seq) {
        return seq <= lastSealedSeq;
    }

    /** A seal of {@code seq} went into the chain at {@code nowNanos}. */
    void sealed(long seq, long nowNanos) {
        lastSealedSeq = seq;
        lastSealNanos = nowNanos;
    }

    /** Time left until an interval seal could be due; zero or less when it could be due now. */
    long nanosUntilInterval(long nowNanos) {
        return intervalNanos - (nowNanos - lastSealNanos);
    }

    long lastSealedSeq() {
        return lastSealedSeq;
    }
}
