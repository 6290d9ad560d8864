package io.tollgate.serving.internal;

import io.tollgate.metering.JournalStatus;
import io.tollgate.metering.MeteringException;
import io.tollgate.metering.UsageEvent;
import io.tollgate.metering.UsageJournal;
import io.tollgate.metering.UsageRecord;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * Test-only journal in memory: keeps every appended event in order; {@link #failWith} makes appends
 * fail (as a full disk budget or a closed journal would) until it is cleared.
 */
final class FakeUsageJournal implements UsageJournal {
    private final List<UsageEvent> events = new ArrayList<>();
    private long seq;
    /** When set, {@link #append} throws it and records nothing. */
    volatile MeteringException failWith;
    /** Thrown by the next append, as the JVM raises a SIGBUS on a mapped page of a full disk; then cleared. */
    volatile Error faultOnce;
    /** When set, appends wait for it (before recording), so a test can look at the request meanwhile. */
    volatile CountDownLatch appendGate;
    /** Counts down when an append has started. */
    volatile CountDownLatch appendStarted = new CountDownLatch(0);

    @Override
    public long append(UsageEvent event) throws MeteringException {
        appendStarted.countDown();
        CountDownLatch gate = appendGate;
        if (gate != null) {
            try {
                gate.await(10, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        return record(event);
    }

    private synchronized long record(UsageEvent event) throws MeteringException {
        Error fault = faultOnce;
        if (fault != null) {
            faultOnce = null;
            throw fault;
        }
        MeteringException failure = failWith;
        if (failure != null) {
            throw failure;
        }
        events.add(event);
        return ++seq;
    }

    synchronized List<UsageEvent> events() {
        return List.copyOf(events);
    }

    @Override
    public synchronized JournalStatus status() {
        return new JournalStatus("tg-fake", seq == 0 ? 0 : 1, seq, 0, 0, 0, 1L << 20, false, failWith != null, false);
    }

    @Override
    public void releaseUpTo(long seq) {
    }

    @Override
    public List<UsageRecord> readFrom(long fromSeq, int max) {
        return new ArrayList<>();
    }
}
