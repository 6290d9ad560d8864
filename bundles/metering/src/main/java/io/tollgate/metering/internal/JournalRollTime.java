package io.tollgate.metering.internal;

import net.openhft.chronicle.core.time.TimeProvider;

/**
 * The time Chronicle picks a record's cycle (file) from: the configured time, but never earlier than a floor that
 * the journal raises to roll to a new file before the cycle ends. Chronicle Queue rolls only when its time provider
 * enters a new cycle, and retention deletes whole files, never the one being written; a budget filled within one
 * cycle whose records the cloud has all acknowledged would otherwise stay full until the cycle ends (an hour with
 * FAST_HOURLY): docs/decisions.md, 2026-11-30 "Full disk and budget recovery". The floor only
 * rises, so cycles stay in order; at start it is the start of the newest cycle on disk, so that a run after a forced
 * roll never writes to a cycle older than one already written.
 *
 * <p>Threads: {@link #rollAfter} and {@link #atLeast} are called under the chain lock or on the opening thread;
 * Chronicle reads the time on the appending thread (under the chain lock) and on reader threads. The floor is
 * volatile.
 */
final class JournalRollTime implements TimeProvider {
    private final TimeProvider base;
    private volatile long floorMillis = Long.MIN_VALUE;

    JournalRollTime(TimeProvider base) {
        this.base = base;
    }

    @Override
    public long currentTimeMillis() {
        return Math.max(base.currentTimeMillis(), floorMillis);
    }

    /** Raises the floor to {@code millis} (never lowers it). */
    void atLeast(long millis) {
        if (millis > floorMillis) {
            floorMillis = millis;
        }
    }

    /** The next record goes to a cycle after {@code cycle}. */
    void rollAfter(int cycle, long cycleLengthMillis, long epochMillis) {
        atLeast((cycle + 1L) * cycleLengthMillis + epochMillis);
    }
}
