package io.tollgate.sync.internal;

import io.tollgate.metering.MeteringException;
import io.tollgate.metering.UsageJournal;
import io.tollgate.metering.UsageRecord;
import io.tollgate.sync.SyncStatus.LinkState;
import java.io.IOException;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.eclipse.paho.mqttv5.client.IMqttToken;
import org.eclipse.paho.mqttv5.client.MqttActionListener;
import org.eclipse.paho.mqttv5.client.MqttAsyncClient;
import org.eclipse.paho.mqttv5.client.MqttCallback;
import org.eclipse.paho.mqttv5.client.MqttConnectionOptions;
import org.eclipse.paho.mqttv5.client.MqttDisconnectResponse;
import org.eclipse.paho.mqttv5.client.persist.MemoryPersistence;
import org.eclipse.paho.mqttv5.common.MqttException;
import org.eclipse.paho.mqttv5.common.MqttMessage;
import org.eclipse.paho.mqttv5.common.MqttSubscription;
import org.eclipse.paho.mqttv5.common.packet.MqttProperties;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The uplink's one thread, {@code tollgate-sync-sender}: connects (with back-off and jitter), tails the journal from
 * the ack cursor, publishes batches (QoS 1, a bounded number in flight), and handles acks and resend requests.
 * Paho's threads only put {@link Event}s on a queue; everything else, the MQTT client included, belongs to the
 * sender thread. Nothing is lost when the link is down: the journal is the store, and every (re)connect starts
 * again from the persisted ack + 1.
 */
final class UsageSender {
    private static final Logger LOG = LoggerFactory.getLogger(UsageSender.class);

    /** Paho's "Too many publishes in progress" (MqttClientException.REASON_CODE_MAX_INFLIGHT). */
    private static final int PAHO_MAX_INFLIGHT = 32202;
    private static final long CONNECT_TIMEOUT_MS = 10_000;
    private static final long CLOSE_TIMEOUT_MS = 2_000;
    private static final long INFLIGHT_RETRY_PAUSE_MS = 20;
    private static final int INFLIGHT_RETRIES = 50;

    /** What Paho's threads hand to the sender thread. */
    private sealed interface Event permits Arrived, LinkLost, Published, Stop {
    }

    private record Arrived(String topic, byte[] payload) implements Event {
    }

    private record LinkLost(long generation, String why) implements Event {
    }

    private record Published(long generation, long firstSeq, int records, int bytes, String error) implements Event {
    }

    private record Stop() implements Event {
    }

    private final UsageJournal journal;
    private final UplinkOptions o;
    private final AckedSeqFile cursor;
    private final UnackedAge unackedAge;
    private final String version;
    private final BatchEncoder encoder;
    private final BlockingQueue<Event> events = new LinkedBlockingQueue<>();
    private final Thread thread;
    private final String usageTopic;
    private final String ackTopic;
    private final String resendTopic;
    private final String statusTopic;

    // Read by other threads (status); written by the sender thread only.
    private volatile boolean stopping;
    private volatile LinkState link = LinkState.CONNECTING;
    private volatile long ackedSeq;
    private volatile long lastAckEpochMs;
    private volatile long lastCloudTimeNanos;
    private volatile long connects;
    private volatile String lastError = "";
    private final AtomicLong bytesSent = new AtomicLong();
    private final AtomicLong recordsSent = new AtomicLong();
    private final AtomicLong batchesSent = new AtomicLong();

    // The sender thread's own state.
    private MqttAsyncClient client;
    /** Incremented with every new client and every lost link: events of an older one are stale. */
    private long generation;
    private int inFlight;
    private long nextSeq;
    private long sentUpTo;
    /** When the cloud last showed progress (connect, ack, resend) while records were outstanding. */
    private long progressNanos;
    private long nextStatusNanos;
    private long pausedUntilNanos;
    private int failedAttempts;
    private long heldSeq = -1;
    private long heldWallMs;

    UsageSender(UsageJournal journal, UplinkOptions options, AckedSeqFile cursor, long ackedSeq, UnackedAge unackedAge,
                String version) {
        this.journal = journal;
        this.o = options;
        this.cursor = cursor;
        this.ackedSeq = ackedSeq;
        this.unackedAge = unackedAge;
        this.version = version;
        this.encoder = new BatchEncoder(options.encoding());
        this.usageTopic = options.topic("usage");
        this.ackTopic = options.topic("ack");
        this.resendTopic = options.topic("resend");
        this.statusTopic = options.topic("status");
        this.thread = new Thread(this::run, "tollgate-sync-sender");
        thread.setDaemon(true);
    }

    void start() {
        thread.start();
    }

    /** Stops the thread: it publishes the offline status and disconnects cleanly when it can. */
    void stop(long timeoutMs) {
        stopping = true;
        events.add(new Stop());
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
        return link;
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

    long bytesSent() {
        return bytesSent.get();
    }

    long recordsSent() {
        return recordsSent.get();
    }

    long batchesSent() {
        return batchesSent.get();
    }

    long connects() {
        return connects;
    }

    String lastError() {
        return lastError;
    }

    // ---- the loop ------------------------------------------------------------------------------------

    private void run() {
        LOG.info("Usage uplink to {} as {} starting from acked seq {}", o.brokerUrl(), o.clientId(), ackedSeq);
        try {
            while (!stopping) {
                try {
                    if (client == null) {
                        if (!connect()) {
                            backOff();
                        }
                    } else {
                        step();
                    }
                } catch (InterruptedException e) {
                    throw e;
                } catch (RuntimeException | MeteringException e) {
                    LOG.error("Usage uplink step failed; dropping the connection and starting over from the ack", e);
                    dropConnection(String.valueOf(e));
                    backOff();
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            closeClient(true);
            link = LinkState.STOPPED;
            LOG.info("Usage uplink stopped at acked seq {}", ackedSeq);
        }
    }

    /** One turn while connected: send what is due, keep the status fresh, wait for the next event. */
    private void step() throws InterruptedException, MeteringException {
        if (!client.isConnected()) {
            dropConnection("the connection was lost");
            backOff();
            return;
        }
        long now = System.nanoTime();
        long last = journal.status().lastSeq();
        if (sentUpTo > ackedSeq && now - progressNanos > TimeUnit.MILLISECONDS.toNanos(o.ackTimeoutMs())) {
            LOG.info("No ack for {} ms with records up to seq {} sent: sending again from seq {}", o.ackTimeoutMs(),
                    sentUpTo, ackedSeq + 1);
            rewindTo(ackedSeq + 1);
            progressNanos = now;
        }
        if (now - nextStatusNanos >= 0) {
            publishStatus(last);
        }
        long waitMs = o.maxDelayMs();
        boolean mayPublish = nextSeq <= last && inFlight < o.maxInFlight() && now - pausedUntilNanos >= 0
                && nextSeq <= ackedSeq + o.maxUnackedRecords();
        if (mayPublish) {
            long dueMs = last - nextSeq + 1 >= o.maxRecords() ? 0 : msUntilDue(nextSeq);
            if (dueMs <= 0) {
                publishBatch();
                drainEvents();
                return;
            }
            waitMs = dueMs;
        } else if (now - pausedUntilNanos < 0) {
            waitMs = Math.max(1, Math.min(waitMs, TimeUnit.NANOSECONDS.toMillis(pausedUntilNanos - now)));
        }
        awaitEvent(waitMs);
    }

    /**
     * How long until a batch starting at {@code seq} is due: it waits at most max.delay.ms after its first record
     * was written (by the record's wall time, so records that waited while the link was down go at once).
     */
    private long msUntilDue(long seq) throws MeteringException {
        if (heldSeq != seq) {
            List<UsageRecord> first = journal.readFrom(seq, 1);
            if (first.isEmpty()) {
                return o.maxDelayMs();
            }
            heldSeq = seq;
            heldWallMs = first.get(0).wallTimeNanos() / 1_000_000;
        }
        long age = System.currentTimeMillis() - heldWallMs;
        return Math.max(0, Math.min(o.maxDelayMs(), o.maxDelayMs() - age));
    }

    private void publishBatch() throws MeteringException, InterruptedException {
        List<UsageRecord> records = journal.readFrom(nextSeq, o.maxRecords());
        if (records.isEmpty()) {
            return;
        }
        byte[] payload = encoder.encode(records);
        while (payload == null && records.size() > 1) {
            records = records.subList(0, records.size() / 2);
            payload = encoder.encode(records);
        }
        if (payload == null) {
            // One record over the body limit cannot be split; the cloud decides what to do with it.
            payload = encoder.encodeUnbounded(records);
            LOG.warn("Usage record seq {} alone exceeds the batch body limit of {} bytes; sending it anyway",
                    records.get(0).seq(), BatchEncoder.MAX_BODY_BYTES);
        }
        long first = records.get(0).seq();
        long lastInBatch = first + records.size() - 1;
        MqttMessage m = new MqttMessage(payload);
        m.setQos(1);
        m.setRetained(false);
        Published template = new Published(generation, first, records.size(), payload.length, null);
        if (!publish(usageTopic, m, listener(template))) {
            return;
        }
        if (sentUpTo <= ackedSeq) {
            progressNanos = System.nanoTime();
        }
        inFlight++;
        nextSeq = lastInBatch + 1;
        sentUpTo = Math.max(sentUpTo, lastInBatch);
        LOG.debug("Published seq {}..{} ({} bytes)", first, lastInBatch, payload.length);
    }

    /**
     * Publishes, retrying Paho's "Too many publishes in progress" after a short pause (Paho can report it while
     * its own count lags behind completed tokens). Returns false when Paho stayed busy; drops the link on other
     * errors.
     */
    private boolean publish(String topic, MqttMessage m, MqttActionListener listener) throws InterruptedException {
        for (int attempt = 0; ; attempt++) {
            try {
                client.publish(topic, m, null, listener);
                return true;
            } catch (MqttException e) {
                if (e.getReasonCode() == PAHO_MAX_INFLIGHT && attempt < INFLIGHT_RETRIES) {
                    Thread.sleep(INFLIGHT_RETRY_PAUSE_MS);
                    continue;
                }
                if (e.getReasonCode() == PAHO_MAX_INFLIGHT) {
                    return false;
                }
                dropConnection("publish to " + topic + " failed: " + describe(e));
                return false;
            }
        }
    }

    private MqttActionListener listener(Published ok) {
        return new MqttActionListener() {
            @Override
            public void onSuccess(IMqttToken token) {
                int[] codes = token.getReasonCodes();
                if (codes != null) {
                    for (int c : codes) {
                        if (c >= 0x80) {
                            events.add(new Published(ok.generation(), ok.firstSeq(), ok.records(), ok.bytes(),
                                    "the broker refused the batch with reason code 0x" + Integer.toHexString(c)));
                            return;
                        }
                    }
                }
                events.add(ok);
            }

            @Override
            public void onFailure(IMqttToken token, Throwable error) {
                events.add(new Published(ok.generation(), ok.firstSeq(), ok.records(), ok.bytes(),
                        String.valueOf(error)));
            }
        };
    }

    private void publishStatus(long lastSeq) {
        nextStatusNanos = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(o.statusIntervalMs());
        if (client == null) {
            return;
        }
        long acked = ackedSeq;
        MqttMessage m = new MqttMessage(CloudMessages.onlineStatus(version, lastSeq, acked,
                unackedAge.ageMs(acked, lastSeq), Instant.now()));
        m.setQos(1);
        m.setRetained(true);
        try {
            client.publish(statusTopic, m);
        } catch (MqttException e) {
            // the next interval tries again; a busy client is no reason to drop the link
            LOG.debug("Status not published: {}", describe(e));
        }
    }

    // ---- events --------------------------------------------------------------------------------------

    private void awaitEvent(long ms) throws InterruptedException, MeteringException {
        Event e = events.poll(Math.max(1, ms), TimeUnit.MILLISECONDS);
        if (e != null) {
            handle(e);
            drainEvents();
        }
    }

    private void drainEvents() throws MeteringException {
        Event e;
        while ((e = events.poll()) != null) {
            handle(e);
        }
    }

    private void handle(Event e) throws MeteringException {
        if (e instanceof Arrived a) {
            if (a.topic().equals(ackTopic)) {
                onAck(a.payload());
            } else if (a.topic().equals(resendTopic)) {
                onResend(a.payload());
            } else {
                LOG.debug("Ignored a message on {}", a.topic());
            }
        } else if (e instanceof Published p) {
            if (p.generation() != generation) {
                return;
            }
            inFlight--;
            if (p.error() == null) {
                bytesSent.addAndGet(p.bytes());
                recordsSent.addAndGet(p.records());
                batchesSent.incrementAndGet();
            } else {
                lastError = "batch from seq " + p.firstSeq() + ": " + p.error();
                LOG.warn("Usage batch from seq {} ({} records) was not delivered: {}; sending again from there after "
                        + "{} ms", p.firstSeq(), p.records(), p.error(), o.reconnectMinMs());
                rewindTo(Math.min(nextSeq, p.firstSeq()));
                pausedUntilNanos = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(o.reconnectMinMs());
            }
        } else if (e instanceof LinkLost l) {
            if (l.generation() == generation && client != null) {
                dropConnection(l.why());
            }
        }
    }

    private void onAck(byte[] payload) throws MeteringException {
        CloudMessages.Ack ack;
        try {
            ack = CloudMessages.parseAck(payload);
        } catch (IllegalArgumentException ex) {
            LOG.warn("Ignored an ack on {}: {}", ackTopic, ex.getMessage());
            return;
        }
        if (!ack.device().equals(o.deviceId())) {
            LOG.warn("Ignored an ack for device '{}' on this device's topic {}", ack.device(), ackTopic);
            return;
        }
        if (o.ackVerifier() != null && !o.ackVerifier().verify(ack)) {
            LOG.warn("Ignored an ack up to seq {}: its signature is missing or does not verify with "
                    + "cloud.public.key.file", ack.ackedSeq());
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
            lastError = "cannot persist the ack cursor: " + ex;
            LOG.error("Could not persist acked seq {} to {}; the records stay on the device and the ack is ignored",
                    ack.ackedSeq(), cursor.path(), ex);
            return;
        }
        ackedSeq = ack.ackedSeq();
        lastAckEpochMs = System.currentTimeMillis();
        if (ack.hasCloudTime()) {
            lastCloudTimeNanos = ack.cloudTimeNanos();
        }
        progressNanos = System.nanoTime();
        if (nextSeq <= ackedSeq) {
            nextSeq = ackedSeq + 1;
        }
        try {
            journal.releaseUpTo(ackedSeq);
        } catch (MeteringException ex) {
            LOG.warn("The journal did not take the release up to seq {}: {}", ackedSeq, ex.getMessage());
        }
    }

    private void onResend(byte[] payload) throws MeteringException {
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
        rewindTo(r.fromSeq());
        progressNanos = System.nanoTime();
    }

    private void rewindTo(long seq) {
        nextSeq = seq;
        heldSeq = -1;
    }

    // ---- connection ----------------------------------------------------------------------------------

    /** One connection attempt; true when connected and subscribed. */
    private boolean connect() throws InterruptedException {
        link = LinkState.CONNECTING;
        long gen = ++generation;
        MqttAsyncClient c = null;
        try {
            c = new MqttAsyncClient(o.brokerUrl(), o.clientId(), new MemoryPersistence());
            c.setCallback(callback(gen));
            c.connect(connectionOptions()).waitForCompletion(CONNECT_TIMEOUT_MS);
            IMqttToken sub = c.subscribe(new MqttSubscription[] {new MqttSubscription(ackTopic, 1),
                    new MqttSubscription(resendTopic, 1)});
            sub.waitForCompletion(CONNECT_TIMEOUT_MS);
            int[] granted = sub.getReasonCodes();
            if (granted != null) {
                for (int g : granted) {
                    if (g >= 0x80) {
                        throw new IllegalStateException("the broker refused the subscription to " + ackTopic + " / "
                                + resendTopic + " (reason code 0x" + Integer.toHexString(g) + "); check its ACLs");
                    }
                }
            }
        } catch (MqttException | IllegalStateException e) {
            String why = e instanceof MqttException me ? describe(me) : e.getMessage();
            failedAttempts++;
            lastError = "connect to " + o.brokerUrl() + ": " + why;
            if (failedAttempts == 1 || failedAttempts % 10 == 0) {
                LOG.warn("Cannot connect to {} (attempt {}): {}; records stay in the journal, retrying with back-off",
                        o.brokerUrl(), failedAttempts, why);
            } else {
                LOG.debug("Cannot connect to {} (attempt {}): {}", o.brokerUrl(), failedAttempts, why);
            }
            closeQuietly(c);
            return false;
        }
        client = c;
        inFlight = 0;
        rewindTo(ackedSeq + 1);
        sentUpTo = ackedSeq;
        progressNanos = System.nanoTime();
        pausedUntilNanos = progressNanos;
        failedAttempts = 0;
        connects++;
        lastError = "";
        link = LinkState.ONLINE;
        LOG.info("Connected to {} as {}; sending usage records from seq {}", o.brokerUrl(), o.clientId(), nextSeq);
        try {
            publishStatus(journal.status().lastSeq());
        } catch (RuntimeException e) {
            LOG.debug("Status not published after connect", e);
        }
        return true;
    }

    private MqttConnectionOptions connectionOptions() {
        MqttConnectionOptions opts = new MqttConnectionOptions();
        opts.setCleanStart(false);
        opts.setSessionExpiryInterval(o.sessionExpirySeconds());
        opts.setAutomaticReconnect(false);
        opts.setKeepAliveInterval(30);
        opts.setConnectionTimeout((int) (CONNECT_TIMEOUT_MS / 1000));
        MqttMessage will = new MqttMessage(CloudMessages.offlineStatus());
        will.setQos(1);
        will.setRetained(true);
        opts.setWill(statusTopic, will);
        if (o.socketFactory() != null) {
            opts.setSocketFactory(o.socketFactory());
            opts.setHttpsHostnameVerificationEnabled(true);
        }
        return opts;
    }

    private MqttCallback callback(long gen) {
        return new MqttCallback() {
            @Override
            public void disconnected(MqttDisconnectResponse response) {
                events.add(new LinkLost(gen, "disconnected: " + response));
            }

            @Override
            public void mqttErrorOccurred(MqttException exception) {
                events.add(new LinkLost(gen, "MQTT error: " + describe(exception)));
            }

            @Override
            public void messageArrived(String topic, MqttMessage message) {
                events.add(new Arrived(topic, message.getPayload()));
            }

            @Override
            public void deliveryComplete(IMqttToken token) {
                // batches complete through their own listener
            }

            @Override
            public void connectComplete(boolean reconnect, String serverURI) {
                // the sender thread waits for the connect token itself
            }

            @Override
            public void authPacketArrived(int reasonCode, MqttProperties properties) {
                // no enhanced authentication
            }
        };
    }

    private void dropConnection(String why) {
        if (client != null) {
            LOG.warn("Lost the connection to {}: {}; reconnecting with back-off (records stay in the journal)",
                    o.brokerUrl(), why);
        }
        closeClient(false);
        generation++;
        inFlight = 0;
        lastError = why;
        link = LinkState.CONNECTING;
        failedAttempts = Math.max(failedAttempts, 1);
    }

    /** Sleeps reconnect.min.ms × 2^(failures − 1), at most reconnect.max.ms, jittered to 50–100%; handles events. */
    private void backOff() throws InterruptedException {
        long delay = o.reconnectMinMs();
        for (int i = 1; i < failedAttempts && delay < o.reconnectMaxMs(); i++) {
            delay *= 2;
        }
        delay = Math.min(delay, o.reconnectMaxMs());
        long jittered = delay / 2 + ThreadLocalRandom.current().nextLong(delay / 2 + 1);
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(jittered);
        while (!stopping) {
            long left = TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime());
            if (left <= 0) {
                return;
            }
            try {
                awaitEvent(left);
            } catch (MeteringException e) {
                LOG.warn("Handling a message while disconnected failed: {}", e.getMessage());
            }
        }
    }

    private void closeClient(boolean graceful) {
        MqttAsyncClient c = client;
        client = null;
        if (c == null) {
            return;
        }
        if (graceful && c.isConnected()) {
            try {
                MqttMessage offline = new MqttMessage(CloudMessages.offlineStatus());
                offline.setQos(1);
                offline.setRetained(true);
                c.publish(statusTopic, offline).waitForCompletion(CLOSE_TIMEOUT_MS);
                c.disconnect(CLOSE_TIMEOUT_MS).waitForCompletion(CLOSE_TIMEOUT_MS);
            } catch (MqttException e) {
                LOG.debug("Clean disconnect failed: {}", describe(e));
            }
        }
        closeQuietly(c);
    }

    private static void closeQuietly(MqttAsyncClient c) {
        if (c == null) {
            return;
        }
        try {
            if (c.isConnected()) {
                c.disconnectForcibly(0, 100, false);
            }
        } catch (MqttException e) {
            // closing anyway
        }
        try {
            c.close(true);
        } catch (MqttException e) {
            LOG.debug("Closing the MQTT client failed: {}", describe(e));
        }
    }

    static String describe(MqttException e) {
        String msg = e.getMessage();
        Throwable cause = e.getCause();
        return (msg == null ? "reason code " + e.getReasonCode() : msg + " (" + e.getReasonCode() + ")")
                + (cause == null ? "" : ": " + cause);
    }
}
