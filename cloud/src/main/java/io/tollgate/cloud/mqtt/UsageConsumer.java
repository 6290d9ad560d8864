package io.tollgate.cloud.mqtt;

import io.tollgate.cloud.CloudKey;
import io.tollgate.cloud.ledger.BatchIngest;
import io.tollgate.cloud.ledger.Ledger;
import io.tollgate.cloud.ledger.Licenses;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import org.eclipse.paho.mqttv5.client.MqttAsyncClient;
import org.eclipse.paho.mqttv5.client.MqttClientException;
import org.eclipse.paho.mqttv5.client.persist.MemoryPersistence;
import org.eclipse.paho.mqttv5.common.MqttException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The MQTT side of the billing endpoint, assembled: a Paho v5 client on the shared subscription
 * {@code $share/tollgate-billing/tollgate/v1/+/usage} that stores every batch before it PUBACKs it and answers
 * devices with acks and resend requests. Each job is a class of its own:
 * <ul>
 *   <li>{@link ReconnectLoop}: stays connected and subscribed, a new Paho client per connection;</li>
 *   <li>{@link BatchWorker}: stores each delivered batch ({@link BatchIngest}), then PUBACKs it;</li>
 *   <li>{@link AckPublisher}: signed acks, coalesced per device, kept for the next connection;</li>
 *   <li>{@link ResendRequester}: asks for what is missing when a gap stays open;</li>
 *   <li>{@link LicensePusher}: delivers queued license files and revocation lists to devices' cmd topics;</li>
 *   <li>{@link ReplyPublisher}: publishes those replies (and deliveries) one at a time.</li>
 * </ul>
 *
 * <p>Threads it owns: {@code tollgate-billing-mqtt} (the reconnect loop), {@code tollgate-billing-ingest} (stores
 * batches), {@code tollgate-billing-publisher} (acks and resend requests); Paho's own callback thread only queues.
 * {@link #start} and {@link #close} from the caller's thread; the queries from any thread.
 */
public final class UsageConsumer implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(UsageConsumer.class);
    public static final String SHARED_TOPIC = UsageTopics.SHARED;

    /** Counters since start. */
    public static final class Stats {
        public final AtomicLong batches = new AtomicLong();
        public final AtomicLong stored = new AtomicLong();
        public final AtomicLong duplicates = new AtomicLong();
        public final AtomicLong quarantined = new AtomicLong();
        public final AtomicLong acks = new AtomicLong();
        public final AtomicLong resends = new AtomicLong();
        public final AtomicLong dbRetries = new AtomicLong();
        /** Batches that failed deterministically and were stored record by record, refused records quarantined. */
        public final AtomicLong salvaged = new AtomicLong();
        /** Batches that failed deterministically even record by record: kept whole in quarantined_batches. */
        public final AtomicLong poisonBatches = new AtomicLong();
        /** Successful connections (connect + subscribe) to the broker. */
        public final AtomicLong connects = new AtomicLong();
        /** License files and revocation lists the broker took for a device's cmd topic (PUBACK). */
        public final AtomicLong licensePushes = new AtomicLong();
    }

    private final String brokerUri;
    private final String clientId;
    private final Stats stats = new Stats();
    private final StopSignal stop = new StopSignal();
    private final ReplyPublisher publisher;
    private final ReconnectLoop connection;
    private final Thread connector;
    private final Thread ingester;
    private final LicensePusher pusher;
    /** How often the ledger is polled for license deliveries, ms. */
    public static final long LICENSE_POLL_MS = 2_000;

    public UsageConsumer(String brokerUri, String clientId, BatchIngest ingest, Ledger ledger, CloudKey key,
                         long resendDelayMs) throws MqttException {
        this(brokerUri, clientId, null, ingest, ledger, key, resendDelayMs);
    }

    /** @param login the broker identity to connect as, or null to connect without a username */
    public UsageConsumer(String brokerUri, String clientId, BrokerLogin login, BatchIngest ingest, Ledger ledger,
                         CloudKey key, long resendDelayMs) throws MqttException {
        // fails early on a malformed URI or client id, like the clients of the connections will
        new MqttAsyncClient(brokerUri, clientId, new MemoryPersistence()).close(true);
        this.brokerUri = brokerUri;
        this.clientId = clientId;
        this.publisher = new ReplyPublisher(this::currentLink, stop);
        AckPublisher acks = new AckPublisher(publisher, key, stats);
        BatchWorker worker = new BatchWorker(ingest, stop, stats, acks,
                new ResendRequester(publisher, ledger, resendDelayMs, stats));
        this.pusher = new LicensePusher(publisher, new Licenses(ledger.database()), LICENSE_POLL_MS, stats,
                this::connected);
        this.connection = new ReconnectLoop(brokerUri, clientId, login, stop, stats, worker::accept, () -> {
            acks.connected();
            pusher.connected();
        });
        this.connector = daemon(connection, "tollgate-billing-mqtt");
        this.ingester = daemon(worker, "tollgate-billing-ingest");
    }

    private static Thread daemon(Runnable r, String name) {
        Thread t = new Thread(r, name);
        t.setDaemon(true);
        return t;
    }

    private BrokerLink currentLink() {
        return connection.current();
    }

    /**
     * Starts the threads and waits for the first connection (connect + subscribe); fails if that first attempt
     * fails, e.g. the broker cannot be reached within the connection timeout. Later losses are reconnected.
     */
    public void start() throws MqttException {
        ingester.start();
        connector.start();
        try {
            connection.firstConnection().get(ReconnectLoop.CONNECT_TIMEOUT_MS * 2 + 5_000, TimeUnit.MILLISECONDS);
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
        pusher.start();
        LOG.info("Billing consumer {} subscribed to {} on {}", clientId, connection.subscription(), brokerUri);
    }

    public Stats stats() {
        return stats;
    }

    /** Connected and subscribed. */
    public boolean connected() {
        BrokerLink link = connection.current();
        return link != null && link.up();
    }

    public String clientId() {
        return clientId;
    }

    /**
     * Stops: the batch being stored is finished (and PUBACKed) or abandoned un-PUBACKed (the broker re-delivers it),
     * then the connection is closed cleanly. The broker keeps the session for the next start.
     */
    @Override
    public void close() {
        if (stop.stopped()) {
            return;
        }
        stop.stop();
        join(ingester, 10_000);
        publisher.close();
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
