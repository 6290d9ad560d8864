package io.tollgate.cloud;

import io.tollgate.cloud.auth.ApiTokenGate;
import io.tollgate.cloud.auth.AuthFiles;
import io.tollgate.cloud.billing.PriceList;
import io.tollgate.cloud.http.ApiServer;
import io.tollgate.cloud.http.ApiTls;
import io.tollgate.cloud.ledger.BatchIngest;
import io.tollgate.cloud.ledger.Database;
import io.tollgate.cloud.ledger.Ledger;
import io.tollgate.cloud.ledger.LedgerException;
import io.tollgate.cloud.mqtt.BrokerLogin;
import io.tollgate.cloud.mqtt.UsageConsumer;
import java.io.IOException;
import java.net.InetAddress;
import java.nio.file.Files;
import org.eclipse.paho.mqttv5.common.MqttException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The cloud billing endpoint as one object: ledger database (migrated), cloud key, MQTT consumer and HTTP API.
 * {@code bin/tollgate-billing run} uses it, and so can the appliance's demo mode, in-process:
 * <pre>try (BillingService billing = BillingService.start(BillingOptions.defaults(dir).withMqtt(uri).withHttp("127.0.0.1", 0))) {
 *     int port = billing.httpPort();
 * }</pre>
 */
public final class BillingService implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(BillingService.class);

    private final Database db;
    private final Ledger ledger;
    private final CloudKey key;
    private final UsageConsumer consumer;
    private final ApiServer api;

    private BillingService(Database db, Ledger ledger, CloudKey key, UsageConsumer consumer, ApiServer api) {
        this.db = db;
        this.ledger = ledger;
        this.key = key;
        this.consumer = consumer;
        this.api = api;
    }

    public static BillingService start(BillingOptions options) throws BillingException {
        Database db = null;
        UsageConsumer consumer = null;
        try {
            DataDirectory.ensure(options.dataDir());
            String url = options.jdbcUrl() != null ? options.jdbcUrl() : Database.defaultUrl(options.dataDir());
            db = Database.open(url, options.dbPassword());
            Ledger ledger = new Ledger(db);
            if (options.pricesFile() != null) {
                PriceList prices = PriceList.read(options.pricesFile());
                ledger.replacePrices(prices.rows());
                LOG.info("Loaded {} prices ({}) from {}", prices.rows().size(), prices.currency(),
                        options.pricesFile());
            }
            CloudKey key = CloudKey.loadOrCreate(options.dataDir());
            if (options.mqttUri() != null) {
                consumer = new UsageConsumer(options.mqttUri(), options.mqttClientId(), brokerLogin(options),
                        new BatchIngest(db), ledger, key, options.resendDelayMs());
                try {
                    consumer.start();
                } catch (MqttException e) {
                    throw new BillingException("cannot connect to the MQTT broker at " + options.mqttUri() + ": "
                            + e.getMessage() + " (start the broker or fix --mqtt)", e);
                }
            }
            UsageConsumer c = consumer;
            ApiServer api = null;
            if (options.httpPort() >= 0) {
                javax.net.ssl.SSLContext tls = options.httpTlsCert() == null ? null
                        : ApiTls.context(options.httpTlsCert(), options.httpTlsKey());
                if (tls == null) {
                    warnIfExposed(options.httpHost());
                }
                api = new ApiServer(options.httpHost(), options.httpPort(), ledger, () -> c,
                        new ApiTokenGate(options.dataDir()), options.dataDir(), tls, key.publicPem());
            }
            LOG.info("Tollgate billing started: ledger {}, MQTT {}, HTTP {}", db.url(),
                    options.mqttUri() == null ? "off" : options.mqttUri() + " as " + options.mqttClientId()
                            + (options.mqttUsername() == null ? "" : " (user " + options.mqttUsername() + ")"),
                    api == null ? "off" : (options.httpTlsCert() == null ? "http://" : "https://") + options.httpHost() + ":"
                            + api.port());
            return new BillingService(db, ledger, key, consumer, api);
        } catch (LedgerException e) {
            cleanup(consumer, db);
            throw new BillingException(e.getMessage(), e);
        } catch (IOException e) {
            cleanup(consumer, db);
            throw new BillingException(e.getMessage(), e);
        } catch (MqttException e) {
            cleanup(consumer, db);
            throw new BillingException("cannot create the MQTT client for " + options.mqttUri() + ": "
                    + e.getMessage(), e);
        } catch (BillingException | RuntimeException e) {
            cleanup(consumer, db);
            throw e;
        }
    }

    /** The broker identity of --mqtt-username / --mqtt-password-file, or null without a username. */
    private static BrokerLogin brokerLogin(BillingOptions options) throws BillingException {
        if (options.mqttUsername() == null) {
            return null;
        }
        String password = "";
        if (options.mqttPasswordFile() != null) {
            try {
                password = AuthFiles.readSecret(options.mqttPasswordFile(), "the MQTT password file");
            } catch (IOException e) {
                throw new BillingException("cannot read the MQTT password file " + options.mqttPasswordFile() + ": "
                        + e.getMessage(), e);
            } catch (IllegalArgumentException e) {
                throw new BillingException(e.getMessage(), e);
            }
        }
        return new BrokerLogin(options.mqttUsername(), password);
    }

    /**
     * The API's bearer tokens travel in clear text over plain HTTP: listening beyond loopback is allowed (a TLS proxy
     * may sit in front), but said loudly (docs/decisions.md, 2026-11-30 "Billing API tokens").
     */
    private static void warnIfExposed(String host) {
        boolean loopback;
        try {
            loopback = InetAddress.getByName(host).isLoopbackAddress();
        } catch (java.net.UnknownHostException e) {
            loopback = false;
        }
        if (!loopback) {
            LOG.warn("The billing HTTP API listens on {} without TLS: API tokens cross the network in clear text. Put "
                    + "a TLS-terminating proxy in front of it, give --http-tls-cert/--http-tls-key, or bind 127.0.0.1 "
                    + "(--http-host)", host);
        }
    }

    private static void cleanup(UsageConsumer consumer, Database db) {
        if (consumer != null) {
            consumer.close();
        }
        if (db != null) {
            db.close();
        }
    }

    /** The HTTP API's port (useful with port 0), or -1 without an API. */
    public int httpPort() {
        return api == null ? -1 : api.port();
    }

    public Ledger ledger() {
        return ledger;
    }

    public CloudKey cloudKey() {
        return key;
    }

    /** The MQTT consumer, or null when running without MQTT. */
    public UsageConsumer consumer() {
        return consumer;
    }

    @Override
    public void close() {
        if (api != null) {
            api.close();
        }
        if (consumer != null) {
            consumer.close();
        }
        db.close();
        LOG.info("Tollgate billing stopped");
    }
}
