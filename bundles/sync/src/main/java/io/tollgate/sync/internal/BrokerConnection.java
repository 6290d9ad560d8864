package io.tollgate.sync.internal;

import io.tollgate.sync.internal.SenderEvent.Arrived;
import io.tollgate.sync.internal.SenderEvent.LinkLost;
import io.tollgate.sync.internal.SenderEvent.Published;
import java.util.Queue;
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
 * One connection to the broker: a new Paho client (with in-memory persistence: the journal is the store) for each
 * attempt, clean start off with the session expiry and the retained "offline" last will, subscribed to {@code ack},
 * {@code resend} and {@code cmd} (docs/sync-protocol.md; a refused cmd subscription does not fail the connection). Publishes batches and the status, and closes.
 *
 * <p>Threads: opened, used and closed by the sender thread only. Paho's threads only call the callbacks made here,
 * which put {@link SenderEvent}s naming this connection on the sender's queue.
 */
final class BrokerConnection {
    private static final Logger LOG = LoggerFactory.getLogger(BrokerConnection.class);
    /** Paho's "Too many publishes in progress" (MqttClientException.REASON_CODE_MAX_INFLIGHT). */
    private static final int PAHO_MAX_INFLIGHT = 32202;
    private static final long CONNECT_TIMEOUT_MS = 10_000;
    private static final long CLOSE_TIMEOUT_MS = 2_000;
    private static final long INFLIGHT_RETRY_PAUSE_MS = 20;
    private static final int INFLIGHT_RETRIES = 50;

    /**
     * Bytes of a PUBLISH besides its payload, at most: fixed header (1 + a remaining length of up to 4), topic length
     * (2), packet id (2), properties length (1: Paho sends no properties on our batches), plus a margin of 8.
     */
    static final int PUBLISH_OVERHEAD_BYTES = 1 + 4 + 2 + 2 + 1 + 8;

    private final MqttAsyncClient client;
    private final Queue<SenderEvent> events;
    private final String statusTopic;
    /** The reason code the broker refused the cmd subscription with; 0 when it granted it. */
    private volatile int cmdRefused;
    /** The server's Maximum Packet Size from CONNACK (MQTT 5, 3.2.2.3.6); 0 when it stated none. */
    private volatile long maxPacketBytes;

    /** Wraps {@code client}; {@link #open} connects it. Package-private for tests, which wrap an unconnected one. */
    BrokerConnection(MqttAsyncClient client, Queue<SenderEvent> events, String statusTopic) {
        this.client = client;
        this.events = events;
        this.statusTopic = statusTopic;
    }

    /** The reason code of a refused subscription to the cmd topic (licenses from the cloud); 0 when granted. */
    int cmdRefused() {
        return cmdRefused;
    }

    /** The broker's maximum packet size from CONNACK, bytes; 0 when it stated none (then only the protocol's limit). */
    long maxPacketBytes() {
        return maxPacketBytes;
    }

    void maxPacketBytes(long bytes) {
        this.maxPacketBytes = Math.max(0, bytes);
    }

    /**
     * The largest batch payload a PUBLISH on {@code topic} may carry on this connection; {@link Integer#MAX_VALUE}
     * when the broker stated no maximum packet size. Paho 1.2.5 does not enforce the server's limit itself (its
     * {@code ClientState} swaps the incoming and outgoing maxima), and a broker such as mosquitto answers an
     * over-size PUBLISH by dropping the connection, so the sender must (issue 8).
     */
    int maxPayloadBytes(String topic) {
        long max = maxPacketBytes;
        if (max <= 0) {
            return Integer.MAX_VALUE;
        }
        long room = max - PUBLISH_OVERHEAD_BYTES - topic.getBytes(java.nio.charset.StandardCharsets.UTF_8).length;
        return (int) Math.max(0, Math.min(Integer.MAX_VALUE, room));
    }

    /**
     * Connects and subscribes, waiting up to 10 s for each.
     *
     * @throws MqttException         when the broker cannot be reached or refuses the connection
     * @throws IllegalStateException when the broker refuses the subscription, or the password file cannot be read
     */
    static BrokerConnection open(UplinkOptions o, Queue<SenderEvent> events) throws MqttException {
        String ackTopic = o.topic("ack");
        String resendTopic = o.topic("resend");
        MqttAsyncClient c = new MqttAsyncClient(o.brokerUrl(), o.clientId(), new MemoryPersistence());
        BrokerConnection conn = new BrokerConnection(c, events, o.topic("status"));
        try {
            c.setCallback(conn.callback());
            IMqttToken connected = c.connect(conn.connectionOptions(o));
            connected.waitForCompletion(CONNECT_TIMEOUT_MS);
            MqttProperties connack = connected.getResponseProperties();
            Long max = connack == null ? null : connack.getMaximumPacketSize();
            conn.maxPacketBytes(max == null ? 0 : max);
            String cmdTopic = o.topic("cmd");
            IMqttToken sub = c.subscribe(new MqttSubscription[] {new MqttSubscription(ackTopic, 1),
                    new MqttSubscription(resendTopic, 1), new MqttSubscription(cmdTopic, 1)});
            sub.waitForCompletion(CONNECT_TIMEOUT_MS);
            int[] granted = sub.getReasonCodes();
            if (granted != null) {
                for (int i = 0; i < granted.length; i++) {
                    if (granted[i] < 0x80) {
                        continue;
                    }
                    if (i == 2) {
                        // usage sync does not depend on commands: a broker without the cmd ACL still gets the usage
                        conn.cmdRefused = granted[i];
                        continue;
                    }
                    throw new IllegalStateException("the broker refused the subscription to " + ackTopic + " / "
                            + resendTopic + " (reason code 0x" + Integer.toHexString(granted[i]) + "); check its ACLs");
                }
            }
        } catch (MqttException | RuntimeException e) {
            closeQuietly(c);
            throw e;
        }
        return conn;
    }

    boolean isConnected() {
        return client.isConnected();
    }

    /**
     * Publishes a batch at QoS 1; its PUBACK or failure comes back as a {@link Published} event. Retries Paho's "Too
     * many publishes in progress" after a short pause (Paho can report it while its own count lags behind completed
     * tokens). Returns false when Paho stayed busy.
     *
     * @throws MqttException on any other error (the link is to be dropped)
     */
    boolean publishBatch(String topic, byte[] payload, long firstSeq, int records) throws MqttException,
            InterruptedException {
        MqttMessage m = new MqttMessage(payload);
        m.setQos(1);
        m.setRetained(false);
        MqttActionListener listener = batchListener(firstSeq, records, payload.length);
        for (int attempt = 0; ; attempt++) {
            try {
                client.publish(topic, m, null, listener);
                return true;
            } catch (MqttException e) {
                if (e.getReasonCode() != PAHO_MAX_INFLIGHT) {
                    throw e;
                }
                if (attempt >= INFLIGHT_RETRIES) {
                    return false;
                }
                Thread.sleep(INFLIGHT_RETRY_PAUSE_MS);
            }
        }
    }

    /** Publishes the retained status; a busy client is no reason to drop the link, the next interval tries again. */
    void publishStatus(byte[] payload) {
        MqttMessage m = new MqttMessage(payload);
        m.setQos(1);
        m.setRetained(true);
        try {
            client.publish(statusTopic, m);
        } catch (MqttException e) {
            LOG.debug("Status not published: {}", describe(e));
        }
    }

    /**
     * Closes the client; {@code graceful} first replaces the retained status with "offline" and disconnects cleanly
     * (the last will covers the other cases).
     */
    void close(boolean graceful) {
        if (graceful && client.isConnected()) {
            try {
                MqttMessage offline = new MqttMessage(CloudMessages.offlineStatus());
                offline.setQos(1);
                offline.setRetained(true);
                client.publish(statusTopic, offline).waitForCompletion(CLOSE_TIMEOUT_MS);
                client.disconnect(CLOSE_TIMEOUT_MS).waitForCompletion(CLOSE_TIMEOUT_MS);
            } catch (MqttException e) {
                LOG.debug("Clean disconnect failed: {}", describe(e));
            }
        }
        closeQuietly(client);
    }

    private MqttConnectionOptions connectionOptions(UplinkOptions o) {
        MqttConnectionOptions opts = new MqttConnectionOptions();
        opts.setUserName(o.mqttUsername());
        if (o.mqttPasswordFile() != null) {
            try {
                // read at every connect: a rotated password (device enroll again) needs no restart
                opts.setPassword(MqttPasswordFile.read(o.mqttPasswordFile()));
            } catch (java.io.IOException e) {
                throw new IllegalStateException("cannot read the MQTT password: " + e.getMessage(), e);
            }
        }
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

    private MqttActionListener batchListener(long firstSeq, int records, int bytes) {
        return new MqttActionListener() {
            @Override
            public void onSuccess(IMqttToken token) {
                int[] codes = token.getReasonCodes();
                if (codes != null) {
                    for (int c : codes) {
                        if (c >= 0x80) {
                            events.add(new Published(BrokerConnection.this, firstSeq, records, bytes,
                                    "the broker refused the batch with reason code 0x" + Integer.toHexString(c)));
                            return;
                        }
                    }
                }
                events.add(new Published(BrokerConnection.this, firstSeq, records, bytes, null));
            }

            @Override
            public void onFailure(IMqttToken token, Throwable error) {
                events.add(new Published(BrokerConnection.this, firstSeq, records, bytes, String.valueOf(error)));
            }
        };
    }

    private MqttCallback callback() {
        return new MqttCallback() {
            @Override
            public void disconnected(MqttDisconnectResponse response) {
                events.add(new LinkLost(BrokerConnection.this, "disconnected: " + response));
            }

            @Override
            public void mqttErrorOccurred(MqttException exception) {
                events.add(new LinkLost(BrokerConnection.this, "MQTT error: " + describe(exception)));
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

    private static void closeQuietly(MqttAsyncClient c) {
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
