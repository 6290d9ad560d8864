package io.tollgate.sync.internal;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.bouncycastle.crypto.params.Ed25519PrivateKeyParameters;
import org.bouncycastle.crypto.signers.Ed25519Signer;
import org.eclipse.paho.mqttv5.client.IMqttToken;
import org.eclipse.paho.mqttv5.client.MqttAsyncClient;
import org.eclipse.paho.mqttv5.client.MqttCallback;
import org.eclipse.paho.mqttv5.client.MqttConnectionOptions;
import org.eclipse.paho.mqttv5.client.MqttDisconnectResponse;
import org.eclipse.paho.mqttv5.client.persist.MemoryPersistence;
import org.eclipse.paho.mqttv5.common.MqttException;
import org.eclipse.paho.mqttv5.common.MqttMessage;
import org.eclipse.paho.mqttv5.common.packet.MqttProperties;

/**
 * The cloud in a test: a plain Paho v5 client that takes the device's batches, decodes them with
 * {@link BatchDecoder}, stores records by seq (a duplicate must be byte-identical), acks the contiguous prefix
 * (when auto-ack is on), and asks for a resend when a batch starts beyond the prefix + 1.
 */
final class FakeCloud implements AutoCloseable {
    private static final AtomicInteger IDS = new AtomicInteger();

    private final String url;
    private final String device;
    private final Ed25519PrivateKeyParameters signingKey;
    private volatile boolean autoAck;
    private volatile MqttAsyncClient client;

    final ConcurrentSkipListMap<Long, byte[]> records = new ConcurrentSkipListMap<>();
    final Map<Long, AtomicInteger> timesSeen = new ConcurrentHashMap<>();
    /** Every record seq in the order it arrived (duplicates included). */
    final List<Long> arrivals = new CopyOnWriteArrayList<>();
    final List<Long> batchFirstSeqs = new CopyOnWriteArrayList<>();
    final List<String> statusPayloads = new CopyOnWriteArrayList<>();
    final List<String> problems = new CopyOnWriteArrayList<>();
    /** Acks and resend requests that could not be published because the broker was gone (not a problem). */
    final AtomicInteger lostWhileDisconnected = new AtomicInteger();
    final AtomicLong payloadBytes = new AtomicLong();
    final AtomicInteger resendsSent = new AtomicInteger();
    private volatile long lastResendFrom = -1;
    private volatile long lastResendNanos;
    private long lastAckedPrefix;
    private long lastAckNanos;
    /**
     * Acks and resend requests are published from this thread, never from Paho's callback thread: a QoS 1 publish
     * that waits for a free in-flight slot there blocks Paho's receiver too (its callback queue is full), so the
     * PUBACK that would free the slot is never read — the broker then queues and drops the next batches and the
     * test measures that deadlock instead of the device. The billing service does the same
     * (cloud's {@code ReplyPublisher}).
     */
    private final java.util.concurrent.ExecutorService replies = java.util.concurrent.Executors.newSingleThreadExecutor(
            r -> {
                Thread t = new Thread(r, "fake-cloud-replies");
                t.setDaemon(true);
                return t;
            });

    FakeCloud(String url, String device, boolean autoAck, Ed25519PrivateKeyParameters signingKey) throws MqttException {
        this.url = url;
        this.device = device;
        this.autoAck = autoAck;
        this.signingKey = signingKey;
        connect();
    }

    void setAutoAck(boolean on) {
        autoAck = on;
    }

    /** (Re)connects and subscribes; after a broker restart without persistence the subscriptions must be made again. */
    synchronized void connect() throws MqttException {
        if (client != null) {
            closeQuietly();
        }
        MqttAsyncClient c = new MqttAsyncClient(url, "fake-cloud-" + IDS.incrementAndGet(), new MemoryPersistence());
        c.setCallback(new MqttCallback() {
            @Override
            public void disconnected(MqttDisconnectResponse r) {
            }

            @Override
            public void mqttErrorOccurred(MqttException e) {
            }

            @Override
            public void messageArrived(String topic, MqttMessage m) {
                if (topic.endsWith("/usage")) {
                    onBatch(m.getPayload());
                } else if (topic.endsWith("/status")) {
                    statusPayloads.add(new String(m.getPayload(), StandardCharsets.UTF_8));
                }
            }

            @Override
            public void deliveryComplete(IMqttToken t) {
            }

            @Override
            public void connectComplete(boolean reconnect, String uri) {
            }

            @Override
            public void authPacketArrived(int code, MqttProperties p) {
            }
        });
        MqttConnectionOptions o = new MqttConnectionOptions();
        o.setCleanStart(true);
        c.connect(o).waitForCompletion(5000);
        c.subscribe(new String[] {"tollgate/v1/" + device + "/usage", "tollgate/v1/" + device + "/status"},
                new int[] {1, 1}).waitForCompletion(5000);
        client = c;
    }

    private synchronized void onBatch(byte[] payload) {
        payloadBytes.addAndGet(payload.length);
        BatchDecoder.Batch b;
        try {
            b = BatchDecoder.decode(payload);
        } catch (RuntimeException e) {
            problems.add("undecodable batch: " + e);
            return;
        }
        batchFirstSeqs.add(b.firstSeq());
        long prefixBefore = prefix();
        for (byte[] r : b.records()) {
            long seq = BatchDecoder.seq(r);
            arrivals.add(seq);
            timesSeen.computeIfAbsent(seq, k -> new AtomicInteger()).incrementAndGet();
            byte[] old = records.putIfAbsent(seq, r);
            if (old != null && !Arrays.equals(old, r)) {
                problems.add("seq " + seq + " arrived twice with different bytes");
            }
            byte[] before = records.get(seq - 1);
            if (before != null && !Arrays.equals(BatchDecoder.prevHash(r), BatchDecoder.sha256(before))) {
                problems.add("seq " + seq + ": prev_hash does not match the hash of seq " + (seq - 1));
            }
        }
        if (b.firstSeq() > prefixBefore + 1) {
            long from = prefixBefore + 1;
            long now = System.nanoTime();
            if (from != lastResendFrom || now - lastResendNanos > 500_000_000L) {
                lastResendFrom = from;
                lastResendNanos = now;
                replies.execute(() -> resend(from, "gap: have up to " + prefixBefore + ", got " + b.firstSeq()));
            }
        }
        if (autoAck) {
            long p = prefix();
            long now = System.nanoTime();
            // ack progress at once; the same prefix again at most every 500 ms (an ack lost with the broker is
            // repeated, but duplicate batches after a resend do not each cost a publish: a publish that waits for a
            // free in-flight slot blocks this callback thread, the broker queues and then drops what comes next,
            // and the test measured that harness, not the device)
            if (p > 0 && (p > lastAckedPrefix || now - lastAckNanos > 500_000_000L)) {
                lastAckedPrefix = p;
                lastAckNanos = now;
                replies.execute(() -> ack(p));
            }
        }
    }

    /** Highest seq such that every record from the first stored one (seq 1 in these tests) up to it is stored. */
    long prefix() {
        if (records.isEmpty() || records.firstKey() != 1) {
            return 0;
        }
        long expected = 1;
        for (Long k : records.keySet()) {
            if (k != expected) {
                break;
            }
            expected++;
        }
        return expected - 1;
    }

    /** Walks every stored record from seq 1: consecutive, and each prev_hash is the hash of the one before. */
    String verifyChain() {
        long expected = 1;
        byte[] prev = null;
        for (Map.Entry<Long, byte[]> e : records.entrySet()) {
            if (e.getKey() != expected) {
                return "gap: seq " + (expected - 1) + " followed by " + e.getKey();
            }
            byte[] want = prev == null ? new byte[32] : BatchDecoder.sha256(prev);
            if (!Arrays.equals(BatchDecoder.prevHash(e.getValue()), want)) {
                return "seq " + e.getKey() + ": prev_hash does not match the hash of seq " + (expected - 1);
            }
            prev = e.getValue();
            expected++;
        }
        return "ok";
    }

    void ack(long ackedSeq) {
        ackAs(device, ackedSeq, signingKey);
    }

    void ackAs(String dev, long ackedSeq, Ed25519PrivateKeyParameters key) {
        long time = System.currentTimeMillis() * 1_000_000L;
        String sig = "";
        if (key != null) {
            byte[] msg = ("TG-ACK1|" + dev + "|" + ackedSeq + "|" + time).getBytes(StandardCharsets.US_ASCII);
            Ed25519Signer s = new Ed25519Signer();
            s.init(true, key);
            s.update(msg, 0, msg.length);
            sig = Base64.getEncoder().encodeToString(s.generateSignature());
        }
        String json = "{\"device\":\"" + dev + "\",\"acked_seq\":" + ackedSeq + ",\"cloud_time_nanos\":" + time
                + (sig.isEmpty() ? "" : ",\"signature\":\"" + sig + "\"") + "}";
        publish("tollgate/v1/" + device + "/ack", json);
    }

    void resend(long fromSeq, String reason) {
        resendsSent.incrementAndGet();
        publish("tollgate/v1/" + device + "/resend", "{\"from_seq\":" + fromSeq + ",\"reason\":\"" + reason + "\"}");
    }

    void publishRaw(String leaf, String payload) {
        publish("tollgate/v1/" + device + "/" + leaf, payload);
    }

    private void publish(String topic, String json) {
        MqttMessage m = new MqttMessage(json.getBytes(StandardCharsets.UTF_8));
        m.setQos(1);
        for (int i = 0; i < 200; i++) {
            try {
                client.publish(topic, m);
                return;
            } catch (MqttException e) {
                if (e.getReasonCode() == 32104 || e.getReasonCode() == 32109 || e.getReasonCode() == 32102) {
                    // not connected / connection lost / disconnecting (connect() replacing the client): the broker
                    // was killed under a batch being handled. A real cloud loses that ack too; the device sends
                    // again after its ack timeout.
                    lostWhileDisconnected.incrementAndGet();
                    return;
                }
                if (e.getReasonCode() != 32202) {
                    problems.add("publish to " + topic + " failed: " + e);
                    return;
                }
                try {
                    Thread.sleep(10);
                } catch (InterruptedException ie) {
                    Thread.currentThread().interrupt();
                    return;
                }
            }
        }
    }

    List<Long> seqsSeenMoreThanOnce() {
        List<Long> out = new ArrayList<>();
        timesSeen.forEach((k, v) -> {
            if (v.get() > 1) {
                out.add(k);
            }
        });
        out.sort(null);
        return out;
    }

    private void closeQuietly() {
        try {
            if (client.isConnected()) {
                client.disconnectForcibly(0, 500, false);
            }
        } catch (MqttException e) {
            // closing anyway
        }
        try {
            client.close(true);
        } catch (MqttException e) {
            // closed
        }
        client = null;
    }

    @Override
    public synchronized void close() {
        // the replies thread stays (a daemon): tests close the cloud and connect it again
        if (client != null) {
            closeQuietly();
        }
    }
}
