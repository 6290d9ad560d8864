package io.tollgate.cloud;

import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Locale;

/**
 * How to run the billing endpoint.
 *
 * @param dataDir       holds the cloud key ({@code cloud/}) and, by default, the embedded ledger
 * @param mqttUri       broker, e.g. {@code tcp://127.0.0.1:1883}; null runs without MQTT (API only)
 * @param jdbcUrl       ledger database; null = embedded H2 under {@code dataDir}
 * @param httpHost      address the HTTP API binds
 * @param httpPort      HTTP API port; 0 = any free port, -1 = no HTTP API
 * @param pricesFile    price list JSON loaded into the ledger at start; null keeps the ledger's prices
 * @param clientId      MQTT client id (unique per instance; instances share the subscription group); null = the
 *                      stable default {@link #mqttClientId()} derives from the host, the data folder and the HTTP port
 * @param resendDelayMs how long a gap may stay open before the device is asked to resend
 * @param mqttUsername  broker username (e.g. {@code tollgate-billing}); null connects without one
 * @param mqttPasswordFile file holding the broker password (mode 0600 or 0400); null = no password
 * @param httpTlsCert   PEM certificate chain of the HTTP API (HTTPS); null = plain HTTP
 * @param httpTlsKey    PKCS#8 PEM private key of {@code httpTlsCert}; null exactly when it is null
 * @param dbPassword    the ledger database's password (from {@code --db-password-file}); null = none or the URL's
 */
public record BillingOptions(Path dataDir, String mqttUri, String jdbcUrl, String httpHost, int httpPort,
                             Path pricesFile, String clientId, long resendDelayMs, String mqttUsername,
                             Path mqttPasswordFile, Path httpTlsCert, Path httpTlsKey, String dbPassword) {

    /** HTTP API on 127.0.0.1:8080, no MQTT, embedded H2. */
    public static BillingOptions defaults(Path dataDir) {
        return new BillingOptions(dataDir, null, null, "127.0.0.1", 8080, null, null, 1000, null, null, null, null,
                null);
    }

    /**
     * The MQTT client id: {@code clientId} when set, else {@code tollgate-billing-<host>-<8 hex>} where the hex is
     * the start of SHA-256(absolute data folder + ":" + HTTP port). It is the same at every start of the same
     * instance, so the broker resumes its persistent session (batches that arrived while it was down are delivered,
     * none is left behind in an orphan session of the shared group). Two instances on one host with the same data
     * folder and HTTP port (e.g. both {@code --http-port -1}) must be given distinct ids.
     */
    public String mqttClientId() {
        if (clientId != null) {
            return clientId;
        }
        String host = hostName().toLowerCase(Locale.ROOT).replaceAll("[^a-z0-9._-]", "-");
        if (host.length() > 32) {
            host = host.substring(0, 32);
        }
        try {
            byte[] digest = MessageDigest.getInstance("SHA-256").digest(
                    (dataDir.toAbsolutePath().normalize() + ":" + httpPort).getBytes(StandardCharsets.UTF_8));
            return "tollgate-billing-" + host + "-" + HexFormat.of().formatHex(digest, 0, 4);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is missing from this JVM", e);
        }
    }

    private static String hostName() {
        String env = System.getenv("HOSTNAME");
        if (env != null && !env.isBlank()) {
            return env;
        }
        try {
            return InetAddress.getLocalHost().getHostName();
        } catch (java.io.IOException e) {
            return "localhost";
        }
    }

    public BillingOptions withMqtt(String uri) {
        return new BillingOptions(dataDir, uri, jdbcUrl, httpHost, httpPort, pricesFile, clientId, resendDelayMs,
                mqttUsername, mqttPasswordFile, httpTlsCert, httpTlsKey, dbPassword);
    }

    public BillingOptions withJdbcUrl(String url) {
        return new BillingOptions(dataDir, mqttUri, url, httpHost, httpPort, pricesFile, clientId, resendDelayMs,
                mqttUsername, mqttPasswordFile, httpTlsCert, httpTlsKey, dbPassword);
    }

    public BillingOptions withHttp(String host, int port) {
        return new BillingOptions(dataDir, mqttUri, jdbcUrl, host, port, pricesFile, clientId, resendDelayMs,
                mqttUsername, mqttPasswordFile, httpTlsCert, httpTlsKey, dbPassword);
    }

    public BillingOptions withPrices(Path file) {
        return new BillingOptions(dataDir, mqttUri, jdbcUrl, httpHost, httpPort, file, clientId, resendDelayMs,
                mqttUsername, mqttPasswordFile, httpTlsCert, httpTlsKey, dbPassword);
    }

    public BillingOptions withClientId(String id) {
        return new BillingOptions(dataDir, mqttUri, jdbcUrl, httpHost, httpPort, pricesFile, id, resendDelayMs,
                mqttUsername, mqttPasswordFile, httpTlsCert, httpTlsKey, dbPassword);
    }

    public BillingOptions withResendDelayMs(long ms) {
        return new BillingOptions(dataDir, mqttUri, jdbcUrl, httpHost, httpPort, pricesFile, clientId, ms,
                mqttUsername, mqttPasswordFile, httpTlsCert, httpTlsKey, dbPassword);
    }

    /** Connect to the broker as {@code username} with the password in {@code passwordFile} (null: none). */
    public BillingOptions withMqttLogin(String username, Path passwordFile) {
        return new BillingOptions(dataDir, mqttUri, jdbcUrl, httpHost, httpPort, pricesFile, clientId, resendDelayMs,
                username, passwordFile, httpTlsCert, httpTlsKey, dbPassword);
    }

    /** Serve the HTTP API over TLS with this PEM certificate chain and PKCS#8 key. */
    public BillingOptions withHttpTls(Path cert, Path key) {
        return new BillingOptions(dataDir, mqttUri, jdbcUrl, httpHost, httpPort, pricesFile, clientId, resendDelayMs,
                mqttUsername, mqttPasswordFile, cert, key, dbPassword);
    }

    public BillingOptions withDbPassword(String password) {
        return new BillingOptions(dataDir, mqttUri, jdbcUrl, httpHost, httpPort, pricesFile, clientId, resendDelayMs,
                mqttUsername, mqttPasswordFile, httpTlsCert, httpTlsKey, password);
    }

    @Override
    public String toString() { // never the password
        return "BillingOptions[dataDir=" + dataDir + ", mqttUri=" + mqttUri + ", jdbcUrl=" + jdbcUrl + ", http="
                + httpHost + ":" + httpPort + ", prices=" + pricesFile + ", clientId=" + clientId + ", resendDelayMs="
                + resendDelayMs + ", mqttUsername=" + mqttUsername + ", mqttPasswordFile=" + mqttPasswordFile
                + ", httpTls=" + (httpTlsCert != null) + ", dbPassword=" + (dbPassword == null ? "none" : "***") + "]";
    }
}
