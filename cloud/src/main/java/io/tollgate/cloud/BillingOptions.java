package io.tollgate.cloud;

import java.nio.file.Path;
import java.util.UUID;

/**
 * How to run the billing endpoint.
 *
 * @param dataDir       holds the cloud key ({@code cloud/}) and, by default, the embedded ledger
 * @param mqttUri       broker, e.g. {@code tcp://127.0.0.1:1883}; null runs without MQTT (API only)
 * @param jdbcUrl       ledger database; null = embedded H2 under {@code dataDir}
 * @param httpHost      address the HTTP API binds
 * @param httpPort      HTTP API port; 0 = any free port, -1 = no HTTP API
 * @param pricesFile    price list JSON loaded into the ledger at start; null keeps the ledger's prices
 * @param clientId      MQTT client id (unique per instance; instances share the subscription group)
 * @param resendDelayMs how long a gap may stay open before the device is asked to resend
 */
public record BillingOptions(Path dataDir, String mqttUri, String jdbcUrl, String httpHost, int httpPort,
                             Path pricesFile, String clientId, long resendDelayMs) {

    public static BillingOptions defaults(Path dataDir) {
        return new BillingOptions(dataDir, null, null, "0.0.0.0", 8080, null,
                "tollgate-billing-" + UUID.randomUUID().toString().substring(0, 8), 1000);
    }

    public BillingOptions withMqtt(String uri) {
        return new BillingOptions(dataDir, uri, jdbcUrl, httpHost, httpPort, pricesFile, clientId, resendDelayMs);
    }

    public BillingOptions withJdbcUrl(String url) {
        return new BillingOptions(dataDir, mqttUri, url, httpHost, httpPort, pricesFile, clientId, resendDelayMs);
    }

    public BillingOptions withHttp(String host, int port) {
        return new BillingOptions(dataDir, mqttUri, jdbcUrl, host, port, pricesFile, clientId, resendDelayMs);
    }

    public BillingOptions withPrices(Path file) {
        return new BillingOptions(dataDir, mqttUri, jdbcUrl, httpHost, httpPort, file, clientId, resendDelayMs);
    }

    public BillingOptions withClientId(String id) {
        return new BillingOptions(dataDir, mqttUri, jdbcUrl, httpHost, httpPort, pricesFile, id, resendDelayMs);
    }

    public BillingOptions withResendDelayMs(long ms) {
        return new BillingOptions(dataDir, mqttUri, jdbcUrl, httpHost, httpPort, pricesFile, clientId, ms);
    }
}
