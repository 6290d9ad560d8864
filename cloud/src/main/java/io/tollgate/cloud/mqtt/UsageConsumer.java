package io.tollgate.cloud.mqtt;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.tollgate.cloud.CloudKey;
import io.tollgate.cloud.billing.Period;
import io.tollgate.cloud.ledger.BatchIngest;
import io.tollgate.cloud.ledger.IngestResult;
import io.tollgate.cloud.ledger.Ledger;
import io.tollgate.cloud.ledger.LedgerException;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.Set;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import org.eclipse.paho.mqttv5.client.IMqttToken;
import org.eclipse.paho.mqttv5.client.MqttAsyncClient;
import org.eclipse.paho.mqttv5.client.MqttCallback;
import org.eclipse.paho.mqttv5.client.MqttClientException;
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
 * The MQTT side of the billing endpoint: a Paho v5 client on the shared subscription
 * {@code $share/tollgate-billing/tollgate/v1/+/usage}.
 *
 * <p>Connections: the consumer runs its own reconnect loop on one thread, {@code tollgate-billing-mqtt}. Every
 * connection attempt uses a NEW {@link MqttAsyncClient} with a new {@link MemoryPersistence}, Paho's automatic
 * reconnect off, and subscribes again. The client id stays the same and the session is persistent
 * (clean start off, session expiry 1 h), so the broker keeps the subscription and the batches it could not deliver
 * while we were away, and re-delivers the ones we had not PUBACKed — but no Paho-side state survives a connection:
 * Paho 1.2.5 re-sent a stale in-flight publish (an ack carrying only a topic alias) on its own reconnect and the
 * broker dropped the connection for a protocol error, forever (eclipse-paho/paho.mqtt.java#916, #1104). Back-off
 * between attempts: 200 ms doubling to 30 s, jittered to 50–100%.
 *
 * <p>Batches: Paho's callback thread only queues them; the {@code tollgate-billing-ingest} thread verifies and
 * commits each one ({@link BatchIngest}), retrying with back-off while the database is down, and only then PUBACKs
 * it (manual acks) on the connection it came in on, so a batch the broker considers delivered is in the ledger. A
 * batch from a connection that died before its commit cannot be PUBACKed any more; the broker re-delivers it on the
 * next connection and it is absorbed as a duplicate. The queue is bounded by the receive maximum (16) per connection.
 *
 * <p>Acks and resend requests: one {@code tollgate-billing-publisher} thread publishes them, one at a time (Paho
 * 1.2.5 throws "Too many publishes in progress" with several in flight, so it waits for each and retries that
 * error); acks of one device are coalesced to the newest. An ack that could not be published stays pending and is
 * published again on the next connection (acks are idempotent). Resend requests wait {@code resendDelayMs} and are
 * sent only if the gap is still open then — with several instances, a batch often overtakes its predecessor that
 * another instance is committing.
 */
public final class UsageConsumer implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(UsageConsumer.class);
    public static final String SHARED_TOPIC = "$share/tollgate-billing/tollgate/v1/+/usage";
    private static final String PREFIX = "tollgate/v1/";
    /** Paho's "Too many publishes in progress" (MqttClientException.REASON_CODE_MAX_INFLIGHT). */
    private static final int TOO_MANY_PUBLISHES = 32202;
    private static final long CONNECT_TIMEOUT_MS = 10_000;
    private static final long RECONNECT_MIN_MS = 200;
    private static final long RECONNECT_MAX_MS = 30_000;
    private static final long SESSION_EXPIRY_SECONDS = 3600;
    private static final int RECEIVE_MAXIMUM = 16;
    private static final ObjectMapper JSON = new ObjectMapper();

    /** Counters since start. */
    public static final class Stats {
        public final AtomicLong batches = new AtomicLong();
        public final AtomicLong stored = new AtomicLong();
        public final AtomicLong duplicates = new AtomicLong();
        public final AtomicLong quarantined = new AtomicLong();
        public final AtomicLong acks = new AtomicLong();
        public final AtomicLong resends = new AtomicLong();
        public final AtomicLong dbRetries = new AtomicLong();
        /** Successful connections (connect + subscribe) to the broker. */
        public final AtomicLong connects = new AtomicLong();
    }

    /** One connection: its own client; {@code lost} opens when Paho reports the connection gone. */
    private record Link(MqttAsyncClient client, long generation, CountDownLatch lost) {
        boolean up() {
            return lost.getCount() > 0 && client.isConnected();
        }
    }

    /** A batch as Paho handed it over, with the connection it must be PUBACKed on. */
    private record Delivery(Link link, String topic, MqttMessage message) {
    }

    private final String brokerUri;
    private final String clientId;
    private final BatchIngest ingest;
    private final Ledger ledger;
    private final CloudKey key;
    private final long resendDelayMs;
    private final ScheduledExecutorService publisher;
    private final Thread connector;
    private final Thread ingester;
    private final BlockingQueue<Delivery> deliveries = new LinkedBlockingQueue<>();
    private final Map<String, Long> pendingAcks = new ConcurrentHashMap<>();
    private final Set<String> resendScheduled = ConcurrentHashMap.newKeySet();
    private final Stats stats = new Stats();
    private final CountDownLatch closing = new CountDownLatch(1);
    private final CompletableFuture<Void> firstConnection = new CompletableFuture<>();
    private volatile Link current;
    private volatile boolean closed;
    private long generation;

    public UsageConsumer(String brokerUri, String clientId, BatchIngest ingest, Ledger ledger, CloudKey key,
                         long resendDelayMs) throws MqttException {
        // fails early on a malformed URI or client id, like the clients of the connections will
        new MqttAsyncClient(brokerUri, clientId, new MemoryPersistence()).close(true);
        this.brokerUri = brokerUri;
        this.clientId = clientId;
        this.ingest = ingest;
        this.ledger = ledger;
        this.key = key;
        this.resendDelayMs = resendDelayMs;
        this.publisher = Executors.newSingleThreadScheduledExecutor(r -> daemon(r, "tollgate-billing-publisher"));
        this.connector = daemon(this::connectLoop, "tollgate-billing-mqtt");
        this.ingester = daemon(this::ingestLoop, "tollgate-billing-ingest");
    }

    private static Thread daemon(Runnable r, String name) {
        Thread t = new Thread(r, name);
        t.setDaemon(true);
        return t;
    }

    /**
     * Starts the threads and waits for the first connection (connect + subscribe); fails if that first attempt
     * fails, e.g. the broker cannot be reached within the connection timeout. Later losses are reconnected.
     */
    public void start() throws MqttException {
        ingester.start();
        connector.start();
        try {
            firstConnection.get(CONNECT_TIMEOUT_MS * 2 + 5_000, TimeUnit.MILLISECONDS);
        } catch (ExecutionException e) {
            close();
            throw e.getCause() instanceof MqttException me ? me : new MqttException(e.getCause());
        } catch (TimeoutException e) {
            close();
            throw new MqttException(MqttClientException.REASON_CODE_CLIENT_TIMEOUT, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            close();
            throw new MqttException(MqttException.REASON_CODE_CLIENT_EXCEPTION, e);
        }
        LOG.info("Billing consumer {} subscribed to {} on {}", clientId, SHARED_TOPIC, brokerUri);
    }

    public Stats stats() {
        return stats;
    }

    /** Connected and subscribed. */
    public boolean connected() {
        Link link = current;
        return link != null && link.up();
    }

    public String clientId() {
        return clientId;
    }

    /** The device id of {@code tollgate/v1/{device}/usage}, or null for any other topic. */
    static String deviceOf(String topic) {
        if (!topic.startsWith(PREFIX) || !topic.endsWith("/usage")) {
            return null;
        }
        String device = topic.substring(PREFIX.length(), topic.length() - "/usage".length());
        return device.isEmpty() || device.contains("/") ? null : device;
    }

    // ---- connections -----------------------------------------------------------------------------------

    private void connectLoop() {
        int failures = 0;
        try {
            while (!closed) {
                Link link;
                try {
                    link = connect();
                } catch (MqttException | RuntimeException e) {
                    if (!firstConnection.isDone()) {
                        firstConnection.completeExceptionally(e);
                        return;
                    }
                    failures++;
                    if (failures == 1 || failures % 10 == 0) {
                        LOG.warn("Cannot connect to {} as {} (attempt {}): {}; batches wait in the broker's session, "
                                + "retrying with back-off", brokerUri, clientId, failures, describe(e));
                    } else {
                        LOG.debug("Cannot connect to {} (attempt {}): {}", brokerUri, failures, describe(e));
                    }
                    pause(failures);
                    continue;
                }
                if (firstConnection.isDone()) {
                    LOG.info("Reconnected to {} as {} after {} failed attempt(s); subscribed to {}", brokerUri,
                            clientId, failures, SHARED_TOPIC);
                }
                failures = 0;
                current = link;
                stats.connects.incrementAndGet();
                firstConnection.complete(null);
                publisher.execute(this::publishPendingAcks);
                while (!closed && link.up()) {
                    link.lost.await(1, TimeUnit.SECONDS);
                }
                current = null;
                if (closed) {
                    disconnect(link);
                    return;
                }
                LOG.warn("Lost the connection to {}; reconnecting with a new client (unacknowledged batches are "
                        + "re-delivered by the broker)", brokerUri);
                closeQuietly(link.client());
                pause(1);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            Link link = current;
            current = null;
            if (link != null) {
                closeQuietly(link.client());
            }
            firstConnection.completeExceptionally(new MqttException(MqttClientException.REASON_CODE_CLIENT_CLOSED));
        }
    }

    /** One attempt: a new client with fresh in-memory persistence, connected and subscribed. */
    private Link connect() throws MqttException {
        MqttAsyncClient client = new MqttAsyncClient(brokerUri, clientId, new MemoryPersistence());
        Link link = new Link(client, ++generation, new CountDownLatch(1));
        try {
            client.setManualAcks(true);
            client.setCallback(callback(link));
            client.connect(connectionOptions()).waitForCompletion(CONNECT_TIMEOUT_MS + 1_000);
            IMqttToken sub = client.subscribe(new MqttSubscription(SHARED_TOPIC, 1));
            sub.waitForCompletion(CONNECT_TIMEOUT_MS);
            int[] granted = sub.getReasonCodes();
            if (granted != null) {
                for (int g : granted) {
                    if (g >= 0x80) {
                        throw new MqttException(g, new IllegalStateException("the broker refused the subscription to "
                                + SHARED_TOPIC + " (reason code 0x" + Integer.toHexString(g) + "); check its ACLs"));
                    }
                }
            }
            return link;
        } catch (MqttException | RuntimeException e) {
            closeQuietly(client);
            throw e;
        }
    }

    private static MqttConnectionOptions connectionOptions() {
        MqttConnectionOptions options = new MqttConnectionOptions();
        // A persistent session on the broker (same client id): batches the broker sent but we did not PUBACK come
        // again after a reconnect, and batches published while we were away wait for us.
        options.setCleanStart(false);
        options.setSessionExpiryInterval(SESSION_EXPIRY_SECONDS);
        options.setAutomaticReconnect(false);
        options.setKeepAliveInterval(30);
        options.setConnectionTimeout((int) (CONNECT_TIMEOUT_MS / 1000));
        options.setReceiveMaximum(RECEIVE_MAXIMUM);
        return options;
    }

    private MqttCallback callback(Link link) {
        return new MqttCallback() {
            @Override
            public void messageArrived(String topic, MqttMessage message) {
                deliveries.add(new Delivery(link, topic, message));
            }

            @Override
            public void disconnected(MqttDisconnectResponse response) {
                if (!closed) {
                    LOG.warn("Disconnected from the broker: {}", response);
                }
                link.lost().countDown();
            }

            @Override
            public void mqttErrorOccurred(MqttException exception) {
                LOG.warn("MQTT error: {}", describe(exception));
            }

            @Override
            public void deliveryComplete(IMqttToken token) {
                // acks and resend requests: the publisher waits on their tokens
            }

            @Override
            public void connectComplete(boolean reconnect, String serverUri) {
                // the connect loop waits for the connect token itself
            }

            @Override
            public void authPacketArrived(int reasonCode, MqttProperties properties) {
                // no enhanced authentication
            }
        };
    }

    /** Sleeps 200 ms × 2^(failures − 1), at most 30 s, jittered to 50–100%; returns early on close. */
    private void pause(int failures) throws InterruptedException {
        long delay = RECONNECT_MIN_MS;
        for (int i = 1; i < failures && delay < RECONNECT_MAX_MS; i++) {
            delay *= 2;
        }
        delay = Math.min(delay, RECONNECT_MAX_MS);
        closing.await(delay / 2 + ThreadLocalRandom.current().nextLong(delay / 2 + 1), TimeUnit.MILLISECONDS);
    }

    private static void disconnect(Link link) {
        try {
            if (link.client().isConnected()) {
                link.client().disconnect(5_000).waitForCompletion(6_000);
            }
        } catch (MqttException e) {
            LOG.debug("Disconnect: {}", describe(e));
        }
        closeQuietly(link.client());
    }

    private static void closeQuietly(MqttAsyncClient client) {
        try {
            if (client.isConnected()) {
                client.disconnectForcibly(0, 100, false);
            }
        } catch (MqttException | RuntimeException e) {
            // closing anyway
        }
        try {
            client.close(true);
        } catch (MqttException | RuntimeException e) {
            LOG.debug("Closing the MQTT client failed: {}", e.getMessage());
        }
    }

    // ---- batches -------------------------------------------------------------------------------------

    private void ingestLoop() {
        try {
            while (!closed) {
                Delivery d = deliveries.poll(500, TimeUnit.MILLISECONDS);
                if (d != null) {
                    handle(d);
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (RuntimeException e) {
            LOG.error("The billing ingest thread failed; batches are no longer stored — restart the endpoint", e);
        }
    }

    private void handle(Delivery d) throws InterruptedException {
        String device = deviceOf(d.topic());
        if (device == null) {
            LOG.warn("Ignoring a message on unexpected topic {}", d.topic());
            complete(d);
            return;
        }
        IngestResult result = null;
        long backoff = 200;
        while (result == null && !closed) {
            try {
                result = ingest.ingest(device, d.message().getPayload());
            } catch (Exception e) {
                stats.dbRetries.incrementAndGet();
                LOG.error("Cannot store a batch of {} ({}); retrying in {} ms. The batch is not acknowledged until "
                        + "it is stored.", device, e.getMessage(), backoff);
                closing.await(backoff, TimeUnit.MILLISECONDS);
                backoff = Math.min(backoff * 2, 30_000);
            }
        }
        if (result == null) {
            return; // closing: not PUBACKed, the broker re-delivers it to this group
        }
        complete(d);
        stats.batches.incrementAndGet();
        stats.stored.addAndGet(result.stored());
        stats.duplicates.addAndGet(result.duplicates());
        stats.quarantined.addAndGet(result.quarantined());
        if (result.quarantined() > 0) {
            LOG.warn("Batch from {}: {} record(s) quarantined, never billed (GET /v1/quarantine?device={})", device,
                    result.quarantined(), device);
        }
        LOG.debug("Batch from {}: {}", device, result);
        if (result.knownDevice() && result.ackedSeq() > 0) {
            pendingAcks.merge(device, result.ackedSeq(), Math::max);
            submit(() -> publishAck(device));
        }
        String gapReason = result.gapReason();
        if (result.hasGap() && resendScheduled.add(device)) {
            try {
                publisher.schedule(() -> resendIfStillMissing(device, gapReason), resendDelayMs,
                        TimeUnit.MILLISECONDS);
            } catch (java.util.concurrent.RejectedExecutionException closing) {
                resendScheduled.remove(device);
            }
        }
    }

    /** PUBACKs the batch on the connection it came in on; after that connection died the broker re-delivers it. */
    private void complete(Delivery d) {
        MqttMessage message = d.message();
        if (message.getQos() == 0) {
            return;
        }
        Link link = d.link();
        if (!link.up()) {
            LOG.debug("Batch {} came on connection {} which is gone; the broker re-delivers it", message.getId(),
                    link.generation());
            return;
        }
        try {
            link.client().messageArrivedComplete(message.getId(), message.getQos());
        } catch (MqttException | RuntimeException e) {
            LOG.debug("PUBACK of batch {} failed ({}); the broker re-delivers it", message.getId(), e.getMessage());
        }
    }

    // ---- acks and resend requests ----------------------------------------------------------------------

    private void submit(Runnable task) {
        try {
            publisher.execute(task);
        } catch (java.util.concurrent.RejectedExecutionException closing) {
            // stopping; the device gets its ack with its next batch after a restart
        }
    }

    private void publishPendingAcks() {
        List<String> devices = List.copyOf(pendingAcks.keySet());
        if (!devices.isEmpty()) {
            LOG.info("Publishing {} pending ack(s) on the new connection", devices.size());
        }
        devices.forEach(this::publishAck);
    }

    private void publishAck(String device) {
        Long acked = pendingAcks.remove(device);
        if (acked == null) {
            return;
        }
        long cloudTime = Period.nanos(Instant.now());
        ObjectNode ack = JSON.createObjectNode();
        ack.put("device", device);
        ack.put("acked_seq", acked);
        ack.put("cloud_time_nanos", cloudTime);
        ack.put("signature", key.signAck(device, acked, cloudTime));
        if (publish(PREFIX + device + "/ack", ack.toString())) {
            stats.acks.incrementAndGet();
        } else {
            pendingAcks.merge(device, acked, Math::max); // published on the next connection
        }
    }

    private void resendIfStillMissing(String device, String reason) {
        resendScheduled.remove(device);
        try {
            long head = ledger.device(device).map(d -> d.brokenAtSeq() > 0 ? -1 : d.headSeq()).orElse(-1L);
            OptionalLong firstPending = ledger.firstPending(device);
            if (head < 0 || firstPending.isEmpty() || firstPending.getAsLong() <= head + 1) {
                return; // the gap closed meanwhile (or the chain is broken: resending would not help)
            }
            ObjectNode resend = JSON.createObjectNode();
            resend.put("from_seq", head + 1);
            resend.put("reason", "gap: have up to " + head + ", got " + firstPending.getAsLong());
            if (publish(PREFIX + device + "/resend", resend.toString())) {
                stats.resends.incrementAndGet();
                LOG.info("Asked {} to resend from seq {} ({})", device, head + 1, reason);
            }
        } catch (LedgerException e) {
            LOG.warn("Cannot check the gap of {}: {}", device, e.getMessage());
        }
    }

    /**
     * Publishes QoS 1 on the current connection and waits for the PUBACK; retries Paho's in-flight limit. False
     * when there is no connection or it gave up.
     */
    private boolean publish(String topic, String json) {
        byte[] payload = json.getBytes(StandardCharsets.UTF_8);
        for (int attempt = 0; attempt < 50 && !closed; attempt++) {
            Link link = current;
            if (link == null || !link.up()) {
                LOG.debug("Not connected: {} waits for the next connection", topic);
                return false;
            }
            try {
                IMqttToken token = link.client().publish(topic, payload, 1, false);
                token.waitForCompletion(10_000);
                int[] codes = token.getReasonCodes();
                if (codes != null && codes.length > 0 && codes[0] >= 0x80) {
                    LOG.warn("The broker refused the publish to {} (reason code 0x{}); check its ACLs", topic,
                            Integer.toHexString(codes[0]));
                    return false;
                }
                return true;
            } catch (MqttException e) {
                if (e.getReasonCode() != TOO_MANY_PUBLISHES && !link.up()) {
                    LOG.info("Cannot publish to {} while disconnected ({}); trying again on the next connection",
                            topic, e.getMessage());
                    return false;
                }
                try {
                    Thread.sleep(e.getReasonCode() == TOO_MANY_PUBLISHES ? 20 : 200);
                } catch (InterruptedException ie) {
                    Thread.currentThread().interrupt();
                    return false;
                }
            }
        }
        if (!closed) {
            LOG.warn("Gave up publishing to {}", topic);
        }
        return false;
    }

    private static String describe(Exception e) {
        String msg = e.getMessage();
        String code = e instanceof MqttException me ? " (" + me.getReasonCode() + ")" : "";
        Throwable cause = e.getCause();
        return (msg == null ? e.getClass().getSimpleName() : msg) + code + (cause == null ? "" : ": " + cause);
    }

    // ---- stop ----------------------------------------------------------------------------------------

    /**
     * Stops: the batch being stored is finished (and PUBACKed) or abandoned un-PUBACKed (the broker re-delivers it),
     * then the connection is closed cleanly. The broker keeps the session for the next start.
     */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        closing.countDown();
        join(ingester, 10_000);
        publisher.shutdown();
        try {
            publisher.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        join(connector, 10_000);
    }

    private static void join(Thread t, long ms) {
        if (t.getState() == Thread.State.NEW) {
            return;
        }
        try {
            t.join(ms);
            if (t.isAlive()) {
                LOG.warn("{} did not stop within {} ms; interrupting it", t.getName(), ms);
                t.interrupt();
                t.join(ms);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
