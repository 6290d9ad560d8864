package io.tollgate.sync;

import java.util.Objects;

/**
 * A snapshot of the usage uplink.
 *
 * @param link               state of the link to the broker
 * @param brokerUrl          the configured broker ("" when sync is not configured)
 * @param lastSeq            newest record in the journal (0 when empty)
 * @param ackedSeq           highest seq the cloud acknowledged as stored with everything before it (0 when none)
 * @param backlog            records the cloud does not hold yet: {@code max(0, lastSeq - ackedSeq)}
 * @param oldestUnackedAgeMs age of the oldest unacknowledged record by its wall time, ms (0 when the backlog is 0)
 * @param lastAckEpochMs     when the device last accepted an ack, ms since the epoch (0 = never, this run)
 * @param lastCloudTimeNanos {@code cloud_time_nanos} of the last accepted ack (0 = none)
 * @param bytesSent          MQTT payload bytes of usage batches the broker acknowledged (PUBACK), this run
 * @param recordsSent        records in those batches (resends count again), this run
 * @param batchesSent        those batches, this run
 * @param connects           successful connections to the broker, this run
 * @param lastError          the last connection or publish error ("" when none since the last connect)
 * @param acksRejected       acks ignored this run because their signature was missing or did not verify with the
 *                           cloud's key (someone other than the cloud publishes on the ack topic); @since 1.1
 */
public record SyncStatus(LinkState link, String brokerUrl, long lastSeq, long ackedSeq, long backlog,
                         long oldestUnackedAgeMs, long lastAckEpochMs, long lastCloudTimeNanos, long bytesSent,
                         long recordsSent, long batchesSent, long connects, String lastError, long acksRejected) {

    /** The 1.0 form, without {@code acksRejected} (0). */
    public SyncStatus(LinkState link, String brokerUrl, long lastSeq, long ackedSeq, long backlog,
                      long oldestUnackedAgeMs, long lastAckEpochMs, long lastCloudTimeNanos, long bytesSent,
                      long recordsSent, long batchesSent, long connects, String lastError) {
        this(link, brokerUrl, lastSeq, ackedSeq, backlog, oldestUnackedAgeMs, lastAckEpochMs, lastCloudTimeNanos,
                bytesSent, recordsSent, batchesSent, connects, lastError, 0);
    }

    /** States of the link to the broker. */
    public enum LinkState {
        /** No broker is configured: records stay on the device (and count as backlog). */
        DISABLED,
        /** Connecting, or waiting to retry after a failed attempt. */
        CONNECTING,
        /** Connected and shipping records. */
        ONLINE,
        /** The uplink has been stopped (the component is deactivating). */
        STOPPED
    }

    public SyncStatus {
        Objects.requireNonNull(link, "link");
        Objects.requireNonNull(brokerUrl, "brokerUrl");
        Objects.requireNonNull(lastError, "lastError");
    }
}
