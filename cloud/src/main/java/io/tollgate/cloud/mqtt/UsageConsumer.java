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
import java.util.Map;
import java.util.OptionalLong;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.eclipse.paho.mqttv5.client.IMqttToken;
import org.eclipse.paho.mqttv5.client.MqttAsyncClient;
import org.eclipse.paho.mqttv5.client.MqttCallback;
import org.eclipse.paho.mqttv5.client.MqttConnectionOptions;
import org.eclipse.paho.mqttv5.client.MqttDisconnectResponse;
import org.eclipse.paho.mqttv5.client.persist.MemoryPersistence;
import org.eclipse.paho.mqttv5.common.MqttException;
import org.eclipse.paho.mqttv5.common.MqttMessage;
import org.eclipse.paho.mqttv5.common.MqttSubscription;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The MQTT side of the billing endpoint: one Paho v5 client on the shared subscription
 * {@code $share/tollgate-billing/tollgate/v1/+/usage}.
 *
 * <p>Threads: Paho's callback thread runs {@link #messageArrived} — it verifies and commits the batch
 * ({@link BatchIngest}), retrying with back-off while the database is down, and only then PUBACKs it (manual acks),
 * so a batch the broker considers delivered is in the ledger. One "publisher" thread publishes acks and resend
 * requests, one at a time (Paho 1.2.5 throws "Too many publishes in progress" with several in flight, so it
 * waits for each and retries that error); acks of one device are coalesced to the newest. Resend requests wait
 * {@code resendDelayMs} and are sent only if the gap is still open then — with several instances, a batch often
 * overtakes its predecessor that another instance is committing.
 */
public final class UsageConsumer implements MqttCallback, AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(UsageConsumer.class);
    public static final String SHARED_TOPIC = "$share/tollgate-billing/tollgate/v1/+/usage";
    private static final String PREFIX = "tollgate/v1/";
    private static final int TOO_MANY_PUBLISHES = 32202;
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
    }

    private final MqttAsyncClient client;
    private final MqttConnectionOptions options;
    private final BatchIngest ingest;
    private final Ledger ledger;
    private final CloudKey key;
    private final long resendDelayMs;
    private final ScheduledExecutorService publisher;
    private final Map<String, Long> pendingAcks = new ConcurrentHashMap<>();
    private final Set<String> resendScheduled = ConcurrentHashMap.newKeySet();
    private final Stats stats = new Stats();
    private volatile boolean closed;

    public UsageConsumer(String brokerUri, String clientId, BatchIngest ingest, Ledger ledger, CloudKey key,
                         long resendDelayMs) throws MqttException {
        this.client = new MqttAsyncClient(brokerUri, clientId, new MemoryPersistence());
        this.ingest = ingest;
        this.ledger = ledger;
        this.key = key;
        this.resendDelayMs = resendDelayMs;
        this.publisher = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "tollgate-billing-publisher");
            t.setDaemon(true);
            return t;
        });
        options = new MqttConnectionOptions();
        // A persistent session: batches the broker sent but we did not PUBACK come again after a reconnect.
        options.setCleanStart(false);
        options.setSessionExpiryInterval(3600L);
        options.setAutomaticReconnect(true);
        options.setAutomaticReconnectDelay(1, 30);
        options.setKeepAliveInterval(30);
        options.setConnectionTimeout(10);
        options.setReceiveMaximum(16);
        client.setManualAcks(true);
        client.setCallback(this);
    }

    /** Connects and subscribes; fails if the broker cannot be reached within the connection timeout. */
    public void start() throws MqttException {
        client.connect(options).waitForCompletion(15_000);
        subscribe();
        LOG.info("Billing consumer {} subscribed to {} on {}", client.getClientId(), SHARED_TOPIC,
                client.getServerURI());
    }

    private void subscribe() throws MqttException {
        client.subscribe(new MqttSubscription(SHARED_TOPIC, 1)).waitForCompletion(15_000);
    }

    public Stats stats() {
        return stats;
    }

    public boolean connected() {
        return client.isConnected();
    }

    /** The device id of {@code tollgate/v1/{device}/usage}, or null for any other topic. */
    static String deviceOf(String topic) {
        if (!topic.startsWith(PREFIX) || !topic.endsWith("/usage")) {
            return null;
        }
        String device = topic.substring(PREFIX.length(), topic.length() - "/usage".length());
        return device.isEmpty() || device.contains("/") ? null : device;
    }

    @Override
    public void messageArrived(String topic, MqttMessage message) throws Exception {
        String device = deviceOf(topic);
        if (device == null) {
            LOG.warn("Ignoring a message on unexpected topic {}", topic);
            complete(message);
            return;
        }
        IngestResult result = null;
        long backoff = 200;
        while (result == null && !closed) {
            try {
                result = ingest.ingest(device, message.getPayload());
            } catch (Exception e) {
                stats.dbRetries.incrementAndGet();
                LOG.error("Cannot store a batch of {} ({}); retrying in {} ms. The batch is not acknowledged until "
                        + "it is stored.", device, e.getMessage(), backoff);
                Thread.sleep(backoff);
                backoff = Math.min(backoff * 2, 30_000);
            }
        }
        if (result == null) {
            return; // closing: not PUBACKed, the broker re-delivers it to this group
        }
        complete(message);
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
            publisher.execute(() -> publishAck(device));
        }
        String gapReason = result.gapReason();
        if (result.hasGap() && resendScheduled.add(device)) {
            publisher.schedule(() -> resendIfStillMissing(device, gapReason), resendDelayMs,
                    TimeUnit.MILLISECONDS);
        }
    }

    private void complete(MqttMessage message) throws MqttException {
        if (message.getQos() > 0) {
            client.messageArrivedComplete(message.getId(), message.getQos());
        }
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

    /** Publishes QoS 1 and waits for the PUBACK; retries Paho's in-flight limit. False when it gave up. */
    private boolean publish(String topic, String json) {
        byte[] payload = json.getBytes(StandardCharsets.UTF_8);
        for (int attempt = 0; attempt < 50 && !closed; attempt++) {
            try {
                IMqttToken token = client.publish(topic, payload, 1, false);
                token.waitForCompletion(10_000);
                return true;
            } catch (MqttException e) {
                if (e.getReasonCode() != TOO_MANY_PUBLISHES && !client.isConnected()) {
                    LOG.warn("Cannot publish to {} while disconnected ({}); the device gets it with its next batch",
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
        LOG.warn("Gave up publishing to {}", topic);
        return false;
    }

    @Override
    public void connectComplete(boolean reconnect, String serverUri) {
        if (reconnect) {
            LOG.info("Reconnected to {}", serverUri);
            publisher.execute(() -> {
                try {
                    subscribe(); // the broker may have lost our session
                } catch (MqttException e) {
                    LOG.warn("Cannot re-subscribe after reconnecting: {}", e.getMessage());
                }
            });
        }
    }

    @Override
    public void disconnected(MqttDisconnectResponse response) {
        if (!closed) {
            LOG.warn("Disconnected from the broker ({}); reconnecting", response.getReasonString());
        }
    }

    @Override
    public void mqttErrorOccurred(MqttException exception) {
        LOG.warn("MQTT error: {}", exception.getMessage());
    }

    @Override
    public void deliveryComplete(IMqttToken token) {
        // acks and resend requests: the publisher waits on their tokens
    }

    @Override
    public void authPacketArrived(int reasonCode, org.eclipse.paho.mqttv5.common.packet.MqttProperties properties) {
        // no enhanced authentication
    }

    @Override
    public void close() {
        closed = true;
        publisher.shutdown();
        try {
            publisher.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        try {
            if (client.isConnected()) {
                client.disconnect(5_000).waitForCompletion(6_000);
            }
        } catch (MqttException e) {
            LOG.debug("Disconnect: {}", e.getMessage());
        }
        try {
            client.close();
        } catch (MqttException e) {
            LOG.debug("Close: {}", e.getMessage());
        }
    }
}
