package io.tollgate.sync.internal;

import io.tollgate.metering.MeteringException;
import io.tollgate.metering.UsageJournal;
import io.tollgate.metering.UsageRecord;
import java.util.List;

/**
 * Age of the oldest record the cloud has not acknowledged, by its wall time. Remembers the wall time of the last
 * record it looked up, so a status call reads the journal only when the ack has moved. Thread-safe.
 */
final class UnackedAge {
    private final UsageJournal journal;
    private long cachedSeq = -1;
    private long cachedWallMs;

    UnackedAge(UsageJournal journal) {
        this.journal = journal;
    }

    /** Milliseconds since record {@code ackedSeq + 1} was written; 0 when nothing is unacknowledged. */
    synchronized long ageMs(long ackedSeq, long lastSeq) {
        if (lastSeq <= ackedSeq) {
            return 0;
        }
        long seq = ackedSeq + 1;
        if (cachedSeq != seq) {
            List<UsageRecord> r;
            try {
                r = journal.readFrom(seq, 1);
            } catch (MeteringException e) {
                return 0;
            }
            if (r.isEmpty()) {
                return 0;
            }
            cachedSeq = seq;
            cachedWallMs = r.get(0).wallTimeNanos() / 1_000_000;
        }
        return Math.max(0, System.currentTimeMillis() - cachedWallMs);
    }
}
