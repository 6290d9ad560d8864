package io.tollgate.cloud.mqtt;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
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
 * Keeps the consumer connected and subscribed to {@link UsageTopics#shared} (group {@link BrokerLogin#shareGroup}). Every connection attempt uses a NEW
 * {@link MqttAsyncClient} with a new {@link MemoryPersistence}, Paho's automatic reconnect off, and subscribes
 * again. The client id stays the same and the session is persistent (clean start off, session expiry 1 h), so the
 * broker keeps the subscription and the batches it could not deliver while we were away, and re-delivers the ones
 * we had not PUBACKed — but no Paho-side state survives a connection: Paho 1.2.5 re-sent a stale in-flight publish
 * (an ack carrying only a topic alias) on its own reconnect and the broker dropped the connection for a protocol
 * error, forever (eclipse-paho/paho.mqtt.java#916, #1104; docs/decisions.md, 2026-11-23 "The billing consumer owns
 * its reconnects"). Back-off between attempts: 200 ms doubling to 30 s, jittered to 50–100%.
 *
 * <p>Threads: {@link #run()} is the {@code tollgate-billing-mqtt} thread, the only one that connects and closes
 * clients. Paho's callback thread hands each batch to {@code deliveries} and reports a lost connection;
 * {@link #current()} is read from any thread.
 */
final class ReconnectLoop implements Runnable {
    private static final Logger LOG = LoggerFactory.getLogger(ReconnectLoop.class);
    static final long CONNECT_TIMEOUT_MS = 10_000;
    private static final long RECONNECT_MIN_MS = 200;
    private static final long RECONNECT_MAX_MS = 30_000;
    private static final long SESSION_EXPIRY_SECONDS = 3600;
    private static final int RECEIVE_MAXIMUM = 16;

    private final String brokerUri;
    private final String clientId;
    private final BrokerLogin login;
    private final String subscription;
    private final StopSignal stop;
    private final UsageConsumer.Stats stats;
    private final Consumer<Delivery> deliveries;
    private final Runnable connected;
    private final CompletableFuture<Void> firstConnection = new CompletableFuture<>();
    private volatile BrokerLink current;
    private long generation;

    /**
     * @param deliveries where Paho's callback thread puts each batch
     * @param connected  runs after every successful connection (publishes the acks left pending); must not block
     */
    ReconnectLoop(String brokerUri, String clientId, BrokerLogin login, StopSignal stop, UsageConsumer.Stats stats,
                  Consumer<Delivery> deliveries, Runnable connected) {
        this.brokerUri = brokerUri;
        this.clientId = clientId;
        this.login = login;
        this.subscription = UsageTopics.shared(login == null ? "tollgate-billing" : login.shareGroup());
        this.stop = stop;
        this.stats = stats;
        this.deliveries = deliveries;
        this.connected = connected;
    }

    /** Completes on the first connection (connect + subscribe); fails if that first attempt fails. */
    CompletableFuture<Void> firstConnection() {
        return firstConnection;
    }

    /** The topic filter it subscribes to: the usage of every device, in its shared group. */
    String subscription() {
        return subscription;
    }

    /** The connection in use, or null between connections. */
    BrokerLink current() {
        return current;
    }

    @Override
    public void run() {
        int failures = 0;
        try {
            while (!stop.stopped()) {
                BrokerLink link;
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
                            clientId, failures, subscription);
                }
                failures = 0;
                current = link;
                stats.connects.incrementAndGet();
                firstConnection.complete(null);
                connected.run();
                while (!stop.stopped() && link.up()) {
                    link.lost().await(1, TimeUnit.SECONDS);
                }
                current = null;
                if (stop.stopped()) {
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
            BrokerLink link = current;
            current = null;
            if (link != null) {
                closeQuietly(link.client());
            }
            firstConnection.completeExceptionally(new MqttException(MqttClientException.REASON_CODE_CLIENT_CLOSED));
        }
    }

    /** One attempt: a new client with fresh in-memory persistence, connected and subscribed. */
    private BrokerLink connect() throws MqttException {
        MqttAsyncClient client = new MqttAsyncClient(brokerUri, clientId, new MemoryPersistence());
        BrokerLink link = new BrokerLink(client, ++generation, new CountDownLatch(1));
        try {
            client.setManualAcks(true);
            client.setCallback(callback(link));
            client.connect(connectionOptions()).waitForCompletion(CONNECT_TIMEOUT_MS + 1_000);
            IMqttToken sub = client.subscribe(new MqttSubscription(subscription, 1));
            sub.waitForCompletion(CONNECT_TIMEOUT_MS);
            int[] granted = sub.getReasonCodes();
            if (granted != null) {
                for (int g : granted) {
                    if (g >= 0x80) {
                        throw new MqttException(g, new IllegalStateException("the broker refused the subscription to "
                                + subscription + " (reason code 0x" + Integer.toHexString(g) + "); check its ACLs"));
                    }
                }
            }
            return link;
        } catch (MqttException | RuntimeException e) {
            closeQuietly(client);
            throw e;
        }
    }

    private MqttConnectionOptions connectionOptions() {
        MqttConnectionOptions options = new MqttConnectionOptions();
        if (login != null) {
            options.setUserName(login.username());
            options.setPassword(login.password().getBytes(java.nio.charset.StandardCharsets.UTF_8));
        }
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

    private MqttCallback callback(BrokerLink link) {
        return new MqttCallback() {
            @Override
            public void messageArrived(String topic, MqttMessage message) {
                deliveries.accept(new Delivery(link, topic, message));
            }

            @Override
            public void disconnected(MqttDisconnectResponse response) {
                if (!stop.stopped()) {
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
        stop.pause(delay / 2 + ThreadLocalRandom.current().nextLong(delay / 2 + 1));
    }

    private static void disconnect(BrokerLink link) {
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

    private static String describe(Exception e) {
        String msg = e.getMessage();
        String code = e instanceof MqttException me ? " (" + me.getReasonCode() + ")" : "";
        Throwable cause = e.getCause();
        return (msg == null ? e.getClass().getSimpleName() : msg) + code + (cause == null ? "" : ": " + cause);
    }
}
