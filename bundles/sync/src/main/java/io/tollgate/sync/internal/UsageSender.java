package io.tollgate.sync.internal;

import io.tollgate.metering.MeteringException;
import io.tollgate.metering.UsageJournal;
import io.tollgate.sync.SyncStatus.LinkState;
import io.tollgate.sync.internal.ReconnectStateMachine.BackingOff;
import io.tollgate.sync.internal.ReconnectStateMachine.Online;
import io.tollgate.sync.internal.SenderEvent.Arrived;
import io.tollgate.sync.internal.SenderEvent.LinkLost;
import io.tollgate.sync.internal.SenderEvent.Published;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.eclipse.paho.mqttv5.common.MqttException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The uplink's one thread, {@code tollgate-sync-sender}, and its loop: each turn either makes a connection attempt,
 * waits out a back-off, or (online) publishes the batch that is due, refreshes the status and waits for the next
 * event. The jobs are classes of their own: {@link ReconnectStateMachine} (the link's states),
 * {@link BrokerConnection} (one Paho client), {@link SendWindow} (what to send when), {@link BatchAssembler} (read +
 * encode), {@link CloudReplies} (acks and resends), {@link StatusReporter}, {@link SenderStats}.
 *
 * <p>Threads: everything here, the MQTT client included, belongs to the sender thread. Paho's threads only put
 * {@link SenderEvent}s on {@link #events}; status callers read volatile snapshots. Nothing is lost when the link is
 * down: the journal is the store, and every (re)connect starts again from the persisted ack + 1.
 */
final class UsageSender {
    private static final Logger LOG = LoggerFactory.getLogger(UsageSender.class);

    private final UsageJournal journal;
    private final UplinkOptions o;
    private final String usageTopic;
    private final BlockingQueue<SenderEvent> events = new LinkedBlockingQueue<>();
    private final SenderStats stats = new SenderStats();
    private final ReconnectStateMachine link;
    private final SendWindow window;
    private final BatchAssembler batches;
    private final CloudReplies replies;
    private final StatusReporter status;
    private final Thread thread;
    private final UplinkNoteFile notes;
    private final CloudCommands commands;
    private final String cmdTopic;
    private boolean cmdRefusalLogged;
    private volatile boolean stopping;

    /** @param licensesDir where license files from the cloud go (tollgate.licenses); null: they are dropped */
    UsageSender(UsageJournal journal, UplinkOptions options, AckedSeqFile cursor, long ackedSeq, UnackedAge unackedAge,
                String version, java.nio.file.Path licensesDir) {
        this.journal = journal;
        this.o = options;
        this.usageTopic = options.topic("usage");
        this.link = new ReconnectStateMachine(options, events, stats);
        this.window = new SendWindow(journal, options);
        this.batches = new BatchAssembler(journal, options);
        this.replies = new CloudReplies(journal, options, cursor, ackedSeq, window, stats);
        this.status = new StatusReporter(options, unackedAge, version);
        this.notes = new UplinkNoteFile(options.directory());
        this.cmdTopic = options.topic("cmd");
        this.commands = new CloudCommands(licensesDir, cmdTopic);
        this.thread = new Thread(this::run, "tollgate-sync-sender");
        thread.setDaemon(true);
    }

    void start() {
        thread.start();
    }

    /** Stops the thread: it publishes the offline status and disconnects cleanly when it can. */
    void stop(long timeoutMs) {
        stopping = true;
        events.add(new SenderEvent.Stop());
        try {
            thread.join(timeoutMs);
            if (thread.isAlive()) {
                LOG.warn("The sync sender did not stop within {} ms; interrupting it", timeoutMs);
                thread.interrupt();
                thread.join(timeoutMs);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    LinkState link() {
        return link.link();
    }

    long ackedSeq() {
        return replies.ackedSeq();
    }

    long lastAckEpochMs() {
        return replies.lastAckEpochMs();
    }

    long lastCloudTimeNanos() {
        return replies.lastCloudTimeNanos();
    }

    long acksRejected() {
        return replies.acksRejected();
    }

    long bytesSent() {
        return stats.bytesSent();
    }

    long recordsSent() {
        return stats.recordsSent();
    }

    long batchesSent() {
        return stats.batchesSent();
    }

    long connects() {
        return stats.connects();
    }

    String lastError() {
        return stats.lastError();
    }

    long maxPacketBytes() {
        return stats.maxPacketBytes();
    }

    String sizeLimit() {
        return stats.sizeLimit();
    }

    long disconnectsAfterPublish() {
        return stats.disconnectsAfterPublish();
    }

    /** Command messages handled this run, by "command result" ({@link CloudCommands#counts()}). */
    java.util.Map<String, Long> commandCounts() {
        return commands.counts();
    }

    /** The command handler (tests). */
    CloudCommands commands() {
        return commands;
    }

    /** Sets what the broker's limit does to sending, and keeps it in the sync folder for `sync status`. */
    private boolean sizeLimit(String note) {
        if (!stats.sizeLimit(note)) {
            return false;
        }
        try {
            notes.write(note);
        } catch (java.io.IOException e) {
            LOG.warn("Cannot write {}: {}", notes.path(), e.getMessage());
        }
        return true;
    }

    // ---- the loop ------------------------------------------------------------------------------------

    private void run() {
        LOG.info("Usage uplink to {} as {} (user {}{}) starting from acked seq {}; acks are verified with the cloud "
                + "key", o.brokerUrl(), o.clientId(), o.mqttUsername(), o.mqttPasswordFile() == null ? ", no password"
                : ", password from " + o.mqttPasswordFile(), replies.ackedSeq());
        try {
            notes.write(""); // a note of an earlier run is history until this run finds it again
        } catch (java.io.IOException e) {
            LOG.warn("Cannot remove {}: {}", notes.path(), e.getMessage());
        }
        try {
            while (!stopping) {
                try {
                    ReconnectStateMachine.State s = link.state();
                    if (s instanceof Online on) {
                        step(on.connection());
                    } else if (s instanceof BackingOff b) {
                        waitOut(b);
                    } else {
                        connect();
                    }
                } catch (InterruptedException e) {
                    throw e;
                } catch (RuntimeException | MeteringException e) {
                    LOG.error("Usage uplink step failed; dropping the connection and starting over from the ack", e);
                    link.failed(String.valueOf(e));
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            link.stop(replies.ackedSeq());
        }
    }

    private void connect() {
        long acked = replies.ackedSeq();
        BrokerConnection c = link.attempt(acked + 1);
        if (c == null) {
            return;
        }
        stats.maxPacketBytes(c.maxPacketBytes());
        if (c.cmdRefused() != 0 && !cmdRefusalLogged) {
            cmdRefusalLogged = true;
            LOG.warn("The broker refused the subscription to {} (reason code 0x{}): licenses from the cloud do not "
                    + "arrive; usage sync goes on. Check the broker's ACLs (tollgate-billing broker-config writes them)",
                    cmdTopic, Integer.toHexString(c.cmdRefused()));
        }
        sizeLimit(""); // each connection finds out again what its broker's limit does (it may have been raised)
        if (c.maxPacketBytes() > 0) {
            LOG.info("The broker's maximum packet size is {} bytes: batches are at most {} bytes", c.maxPacketBytes(),
                    c.maxPayloadBytes(usageTopic));
        }
        window.restart(acked, System.nanoTime());
        try {
            status.publish(c, journal.status().lastSeq(), acked);
        } catch (RuntimeException e) {
            LOG.debug("Status not published after connect", e);
        }
    }

    /** Waits for the back-off to pass, handling the events that arrive meanwhile (acks may still come in). */
    private void waitOut(BackingOff b) throws InterruptedException {
        long left = TimeUnit.NANOSECONDS.toMillis(b.untilNanos() - System.nanoTime());
        if (left <= 0) {
            link.waited();
            return;
        }
        awaitEvent(left);
    }

    /** One turn while connected: send what is due, keep the status fresh, wait for the next event. */
    private void step(BrokerConnection c) throws InterruptedException, MeteringException {
        if (!c.isConnected()) {
            link.failed("the connection was lost");
            return;
        }
        long now = System.nanoTime();
        long last = journal.status().lastSeq();
        long acked = replies.ackedSeq();
        window.rewindIfAckOverdue(acked, now);
        if (status.due(now)) {
            status.publish(c, last, acked);
        }
        long waitMs = window.msUntilNextBatch(last, acked, now, System.currentTimeMillis());
        if (waitMs == 0) {
            publishBatch(c);
            drainEvents();
            return;
        }
        awaitEvent(waitMs);
    }

    private void publishBatch(BrokerConnection c) throws MeteringException, InterruptedException {
        int max = c.maxPayloadBytes(usageTopic);
        BatchAssembler.Batch b = batches.next(window.nextSeq(), max);
        if (b == null) {
            return;
        }
        if (b.tooLarge()) {
            // the broker drops the connection on an over-size PUBLISH: sending it would loop forever (issue 8)
            long need = (long) b.bytes() + c.maxPacketBytes() - max;
            if (sizeLimit("usage record seq " + b.firstSeq() + " needs a packet of " + need + " bytes, over the "
                    + "broker maximum packet size " + c.maxPacketBytes() + " bytes: sending is held at seq "
                    + b.firstSeq() + "; raise the broker's limit (mosquitto: max_packet_size) to at least " + need)) {
                LOG.warn("Usage uplink: {}", stats.sizeLimit());
            }
            window.hold(o.reconnectMaxMs(), System.nanoTime());
            return;
        }
        if (b.split() && sizeLimit("broker maximum packet size " + c.maxPacketBytes() + " bytes: batches are split "
                + "to fit it")) {
            LOG.info("Usage uplink: the broker's maximum packet size is {} bytes; batches are split to fit it (this "
                    + "one: {} records, {} bytes)", c.maxPacketBytes(), b.records(), b.bytes());
        }
        try {
            if (!c.publishBatch(usageTopic, b.payload(), b.firstSeq(), b.records())) {
                return;
            }
        } catch (MqttException e) {
            link.lost("publish to " + usageTopic + " failed: " + BrokerConnection.describe(e));
            return;
        }
        link.published();
        window.published(b.firstSeq(), b.lastSeq(), replies.ackedSeq(), System.nanoTime());
        LOG.debug("Published seq {}..{} ({} bytes)", b.firstSeq(), b.lastSeq(), b.payload().length);
    }

    // ---- events --------------------------------------------------------------------------------------

    private void awaitEvent(long ms) throws InterruptedException {
        SenderEvent e = events.poll(Math.max(1, ms), TimeUnit.MILLISECONDS);
        if (e != null) {
            handle(e);
            drainEvents();
        }
    }

    private void drainEvents() {
        SenderEvent e;
        while ((e = events.poll()) != null) {
            handle(e);
        }
    }

    private void handle(SenderEvent e) {
        if (e instanceof Arrived a) {
            if (a.topic().equals(cmdTopic)) {
                commands.handle(a.payload());
            } else {
                replies.handle(a.topic(), a.payload());
            }
        } else if (e instanceof Published p) {
            if (!link.isCurrent(p.connection())) {
                return;
            }
            if (p.error() == null) {
                link.delivered();
                window.delivered();
                stats.batchDelivered(p.bytes(), p.records());
            } else {
                stats.error("batch from seq " + p.firstSeq() + ": " + p.error());
                LOG.warn("Usage batch from seq {} ({} records) was not delivered: {}; sending again from there after "
                        + "{} ms", p.firstSeq(), p.records(), p.error(), o.reconnectMinMs());
                window.notDelivered(p.firstSeq(), System.nanoTime());
            }
        } else if (e instanceof LinkLost l) {
            if (link.isCurrent(l.connection())) {
                    link.lost(l.why());
            }
        }
    }
}
