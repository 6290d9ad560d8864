package io.tollgate.sync.internal;

import java.time.Instant;
import java.util.concurrent.TimeUnit;

/**
 * Keeps the retained status on {@code tollgate/v1/{device}/status} fresh (docs/sync-protocol.md, "Status"): online,
 * with the journal's last seq, the ack, the age of the oldest unacknowledged record, after every connect and every
 * {@code status.interval.ms}. The last will and a clean stop set it to offline ({@link BrokerConnection}).
 *
 * <p>Threads: the sender thread only.
 */
final class StatusReporter {
    private final long intervalNanos;
    private final UnackedAge unackedAge;
    private final String version;
    private long nextNanos;

    StatusReporter(UplinkOptions o, UnackedAge unackedAge, String version) {
        this.intervalNanos = TimeUnit.MILLISECONDS.toNanos(o.statusIntervalMs());
        this.unackedAge = unackedAge;
        this.version = version;
    }

    boolean due(long nowNanos) {
        return nowNanos - nextNanos >= 0;
    }

    void publish(BrokerConnection connection, long lastSeq, long ackedSeq) {
        nextNanos = System.nanoTime() + intervalNanos;
        connection.publishStatus(CloudMessages.onlineStatus(version, lastSeq, ackedSeq,
                unackedAge.ageMs(ackedSeq, lastSeq), Instant.now()));
    }
}
