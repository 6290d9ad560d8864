package io.tollgate.sync.internal;

import io.tollgate.metering.MeteringException;
import io.tollgate.metering.UsageJournal;
import java.io.IOException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Acts on what the cloud sends back (docs/sync-protocol.md, "Ack" and "Resend"). An ack is ignored when unparsable,
 * unsigned or badly signed (always checked: anyone who can publish on the ack topic could otherwise make the device
 * delete records the cloud never received), for another device, not beyond the persisted ack, or beyond the
 * journal's head; otherwise it is persisted to the ack cursor file first and then releases the journal up to it
 * (retention), so the device never deletes what the cloud does not hold. Acks that fail the signature check are
 * counted ({@link #acksRejected()}) and logged at most once a minute. A resend rewinds the send window.
 *
 * <p>Threads: messages are handled on the sender thread only; the acked seq, the ack times and the rejected count
 * are volatile for status callers on other threads.
 */
final class CloudReplies {
    private static final Logger LOG = LoggerFactory.getLogger(CloudReplies.class);
    private static final long REJECT_LOG_INTERVAL_NANOS = 60_000_000_000L;

    private final UsageJournal journal;
    private final UplinkOptions o;
    private final AckedSeqFile cursor;
    private final SendWindow window;
    private final SenderStats stats;
    private final String ackTopic;
    private final String resendTopic;
    private volatile long ackedSeq;
    private volatile long lastAckEpochMs;
    private volatile long lastCloudTimeNanos;
    private volatile long acksRejected;
    private long rejectedSinceLog;
    private long nextRejectLogNanos = System.nanoTime();

    /** @param ackedSeq the persisted ack this run starts from */
    CloudReplies(UsageJournal journal, UplinkOptions o, AckedSeqFile cursor, long ackedSeq, SendWindow window,
                 SenderStats stats) {
        this.journal = journal;
        this.o = o;
        this.cursor = cursor;
        this.ackedSeq = ackedSeq;
        this.window = window;
        this.stats = stats;
        this.ackTopic = o.topic("ack");
        this.resendTopic = o.topic("resend");
    }

    long ackedSeq() {
        return ackedSeq;
    }

    long lastAckEpochMs() {
        return lastAckEpochMs;
    }

    long lastCloudTimeNanos() {
        return lastCloudTimeNanos;
    }

    /** Acks ignored because their signature was missing or did not verify with the cloud key, this run. */
    long acksRejected() {
        return acksRejected;
    }

    /** A message arrived on {@code topic}. */
    void handle(String topic, byte[] payload) {
        if (topic.equals(ackTopic)) {
            onAck(payload);
        } else if (topic.equals(resendTopic)) {
            onResend(payload);
        } else {
            LOG.debug("Ignored a message on {}", topic);
        }
    }

    private void onAck(byte[] payload) {
        CloudMessages.Ack ack;
        try {
            ack = CloudMessages.parseAck(payload);
        } catch (IllegalArgumentException ex) {
            LOG.warn("Ignored an ack on {}: {}", ackTopic, ex.getMessage());
            return;
        }
        if (!o.ackVerifier().verify(ack)) {
            rejected(ack);
            return;
        }
        if (!ack.device().equals(o.deviceId())) {
            LOG.warn("Ignored an ack for device '{}' on this device's topic {}", ack.device(), ackTopic);
            return;
        }
        if (ack.ackedSeq() <= ackedSeq) {
            LOG.debug("Ack up to seq {} is not beyond the persisted {}", ack.ackedSeq(), ackedSeq);
            return;
        }
        long head = journal.status().lastSeq();
        if (ack.ackedSeq() > head) {
            LOG.warn("Ignored an ack up to seq {}: this device's journal ends at seq {} (was the journal replaced?)",
                    ack.ackedSeq(), head);
            return;
        }
        try {
            cursor.write(ack.ackedSeq());
        } catch (IOException ex) {
            stats.error("cannot persist the ack cursor: " + ex);
            LOG.error("Could not persist acked seq {} to {}; the records stay on the device and the ack is ignored",
                    ack.ackedSeq(), cursor.path(), ex);
            return;
        }
        ackedSeq = ack.ackedSeq();
        lastAckEpochMs = System.currentTimeMillis();
        if (ack.hasCloudTime()) {
            lastCloudTimeNanos = ack.cloudTimeNanos();
        }
        window.acked(ackedSeq, System.nanoTime());
        try {
            journal.releaseUpTo(ackedSeq);
        } catch (MeteringException ex) {
            LOG.warn("The journal did not take the release up to seq {}: {}", ackedSeq, ex.getMessage());
        }
    }

    /** Counts an unverified ack; logs the first and then at most one line a minute (a flood must not fill the log). */
    private void rejected(CloudMessages.Ack ack) {
        acksRejected++;
        rejectedSinceLog++;
        long now = System.nanoTime();
        if (now - nextRejectLogNanos >= 0) {
            LOG.warn("Ignored {} ack(s) whose signature is missing or does not verify with cloud.public.key.file "
                    + "(latest: up to seq {} for device '{}'); nothing was released. Someone other than the cloud "
                    + "publishes on {}: check the broker's ACLs ({} rejected this run)", rejectedSinceLog,
                    ack.ackedSeq(), ack.device(), ackTopic, acksRejected);
            rejectedSinceLog = 0;
            nextRejectLogNanos = now + REJECT_LOG_INTERVAL_NANOS;
        }
    }

    private void onResend(byte[] payload) {
        CloudMessages.Resend r;
        try {
            r = CloudMessages.parseResend(payload);
        } catch (IllegalArgumentException ex) {
            LOG.warn("Ignored a resend request on {}: {}", resendTopic, ex.getMessage());
            return;
        }
        long head = journal.status().lastSeq();
        if (r.fromSeq() > head + 1) {
            LOG.warn("Ignored a resend request from seq {}: this device's journal ends at seq {}", r.fromSeq(), head);
            return;
        }
        if (r.fromSeq() <= ackedSeq) {
            LOG.warn("The cloud asks for records from seq {} although it acknowledged up to {}; sending what the "
                    + "journal still holds", r.fromSeq(), ackedSeq);
        }
        LOG.info("The cloud asks for records from seq {} ({}); sending from there", r.fromSeq(), r.reason());
        window.resend(r.fromSeq(), System.nanoTime());
    }
}
