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
 * @param brokerMaxPacketBytes   the broker's maximum packet size from CONNACK, bytes (0: none stated, or not
 *                               connected yet); batches are sized to fit it; @since 1.2
 * @param sizeLimit              what that limit does to sending, one line for an operator ("" when nothing), e.g.
 *                               "broker maximum packet size 4096 bytes: batches are split to fit it" or a record
 *                               too large for it, which holds sending at its seq; @since 1.2
 * @param disconnectsAfterPublish connections the broker dropped after a publish before taking any batch on them,
 *                               this run (each one backs off longer); @since 1.2
 * @param commands               messages from the cloud's command topic ({@code tollgate/v1/{device}/cmd}: license
 *                               files, revocation lists) this run, by command and result (docs/sync-protocol.md,
 *                               "Commands"); empty when none; @since 1.3
 */
public record SyncStatus(LinkState link, String brokerUrl, long lastSeq, long ackedSeq, long backlog,
                         long oldestUnackedAgeMs, long lastAckEpochMs, long lastCloudTimeNanos, long bytesSent,
                         long recordsSent, long batchesSent, long connects, String lastError, long acksRejected,
                         long brokerMaxPacketBytes, String sizeLimit, long disconnectsAfterPublish,
                         java.util.List<CommandCount> commands) {

    /**
     * Messages of one command with one result.
     *
     * @param command {@code license}, {@code revocations} or {@code unknown} (not parsed, or not a known command)
     * @param result  {@code installed}, {@code duplicate}, {@code refused}, {@code disabled} (no licenses folder) or
     *                {@code failed} (the folder could not be written)
     * @param count   messages, this run
     * @since 1.3
     */
    public record CommandCount(String command, String result, long count) {
    }

    /** The 1.2 form, without {@code commands} (empty). */
    public SyncStatus(LinkState link, String brokerUrl, long lastSeq, long ackedSeq, long backlog,
                      long oldestUnackedAgeMs, long lastAckEpochMs, long lastCloudTimeNanos, long bytesSent,
                      long recordsSent, long batchesSent, long connects, String lastError, long acksRejected,
                      long brokerMaxPacketBytes, String sizeLimit, long disconnectsAfterPublish) {
        this(link, brokerUrl, lastSeq, ackedSeq, backlog, oldestUnackedAgeMs, lastAckEpochMs, lastCloudTimeNanos,
                bytesSent, recordsSent, batchesSent, connects, lastError, acksRejected, brokerMaxPacketBytes,
                sizeLimit, disconnectsAfterPublish, java.util.List.of());
    }

    /** The 1.1 form, without the broker packet limit's fields (0, "", 0). */
    public SyncStatus(LinkState link, String brokerUrl, long lastSeq, long ackedSeq, long backlog,
                      long oldestUnackedAgeMs, long lastAckEpochMs, long lastCloudTimeNanos, long bytesSent,
                      long recordsSent, long batchesSent, long connects, String lastError, long acksRejected) {
        this(link, brokerUrl, lastSeq, ackedSeq, backlog, oldestUnackedAgeMs, lastAckEpochMs, lastCloudTimeNanos,
                bytesSent, recordsSent, batchesSent, connects, lastError, acksRejected, 0, "", 0);
    }

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
        Objects.requireNonNull(sizeLimit, "sizeLimit");
        commands = java.util.List.copyOf(Objects.requireNonNull(commands, "commands"));
    }
}
