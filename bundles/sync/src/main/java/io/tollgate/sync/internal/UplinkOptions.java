package io.tollgate.sync.internal;

import java.io.IOException;
import java.net.InetAddress;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.UnknownHostException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.Locale;
import javax.net.SocketFactory;

/**
 * Validated uplink settings. {@code brokerUrl} is "" when sync is disabled; then {@code ackVerifier} is null, and
 * only then: with a broker, acks are always verified (decisions.md, 2026-11-30 "Acks are always verified").
 * {@code socketFactory} is null for plain TCP; {@code mqttPasswordFile} is null when the device connects without a
 * password.
 */
record UplinkOptions(String brokerUrl, String clientId, String deviceId, long sessionExpirySeconds, int maxRecords,
                     long maxDelayMs, int encoding, int maxInFlight, int maxUnackedRecords, long ackTimeoutMs,
                     long reconnectMinMs, long reconnectMaxMs, long statusIntervalMs, SocketFactory socketFactory,
                     AckSignatureVerifier ackVerifier, Path directory, String mqttUsername, Path mqttPasswordFile) {

    /** What to do when {@code cloud.public.key.file} is missing: the message names the key and the command. */
    static final String CLOUD_KEY_REQUIRED = "cloud.public.key.file is required when broker.url is set: the device "
            + "deletes usage records the cloud acknowledged, so every ack must carry the cloud's signature. Run "
            + "'bin/tollgate device enroll --billing URL --token T' (it pins the cloud's key in conf/cloud.pub.pem), "
            + "or set cloud.public.key.file to the PEM that 'tollgate-billing cloud pubkey' prints";

    boolean enabled() {
        return !brokerUrl.isEmpty();
    }

    String topic(String leaf) {
        return "tollgate/v1/" + deviceId + "/" + leaf;
    }

    /**
     * Checks {@code c} and loads the TLS and key files it names.
     *
     * @param dataDir the appliance's data directory (used when {@code directory} is empty)
     * @throws IllegalArgumentException with a message naming the key that is wrong and what to do
     */
    static UplinkOptions from(SyncConfig c, String deviceId, Path dataDir) throws IOException {
        String url = c.broker_url().trim();
        Path dir = c.directory().isBlank() ? dataDir.resolve("sync") : Paths.get(c.directory().trim());
        String clientId = c.client_id().trim().replace("{device}", deviceId);
        if (clientId.isEmpty() || clientId.length() > 128) {
            throw new IllegalArgumentException("client.id must be 1 to 128 characters but is '" + clientId + "'");
        }
        positive("session.expiry.s", c.session_expiry_s());
        if (c.session_expiry_s() > 0xFFFF_FFFFL) {
            throw new IllegalArgumentException("session.expiry.s must be at most 4294967295 but is " + c.session_expiry_s());
        }
        positive("max.records", c.max_records());
        positive("max.delay.ms", c.max_delay_ms());
        positive("max.in.flight", c.max_in_flight());
        positive("ack.timeout.ms", c.ack_timeout_ms());
        positive("reconnect.min.ms", c.reconnect_min_ms());
        positive("status.interval.ms", c.status_interval_ms());
        if (c.max_unacked_records() < c.max_records()) {
            throw new IllegalArgumentException("max.unacked.records (" + c.max_unacked_records()
                    + ") must be at least max.records (" + c.max_records() + ")");
        }
        if (c.reconnect_max_ms() < c.reconnect_min_ms()) {
            throw new IllegalArgumentException("reconnect.max.ms (" + c.reconnect_max_ms()
                    + ") must be at least reconnect.min.ms (" + c.reconnect_min_ms() + ")");
        }
        if (c.encoding() < 0 || c.encoding() > 2) {
            throw new IllegalArgumentException("encoding must be 0 (raw), 1 (deflate) or 2 (deflate with hash "
                    + "elision) but is " + c.encoding());
        }
        String username = c.mqtt_username().trim().replace("{device}", deviceId);
        if (username.isEmpty()) {
            username = deviceId;
        }
        SocketFactory sockets = null;
        AckSignatureVerifier verifier = null;
        Path passwordFile = null;
        if (!url.isEmpty()) {
            URI uri;
            try {
                uri = new URI(url);
            } catch (URISyntaxException e) {
                throw new IllegalArgumentException("broker.url '" + url + "' is not a URL: " + e.getMessage());
            }
            String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
            // The same rule checks bin/tollgate run --mqtt (runtime's BrokerUrls): change both together.
            if (uri.getHost() == null || !(scheme.equals("tcp") || scheme.equals("ssl"))) {
                throw new IllegalArgumentException("broker.url '" + url + "' must look like ssl://host:8883 (or "
                        + "tcp://127.0.0.1:1883 on loopback)");
            }
            if (uri.getPort() == 0 || uri.getPort() > 65535) {
                throw new IllegalArgumentException("broker.url '" + url + "' has port " + uri.getPort()
                        + "; a port is 1 to 65535");
            }
            boolean tlsFiles = !c.tls_ca_file().isBlank() || !c.tls_cert_file().isBlank() || !c.tls_key_file().isBlank();
            if (scheme.equals("tcp")) {
                if (tlsFiles) {
                    throw new IllegalArgumentException("tls.* files are set but broker.url '" + url + "' is plain "
                            + "tcp://; use ssl://");
                }
                if (!c.allow_plain() && !isLoopback(uri.getHost())) {
                    throw new IllegalArgumentException("broker.url '" + url + "' is plain TCP to a host that is not "
                            + "loopback: usage records would cross the network unencrypted; use ssl:// (with "
                            + "tls.ca.file) or set allow.plain=true");
                }
            } else {
                sockets = PemTls.socketFactory(file(c.tls_ca_file(), "tls.ca.file"),
                        file(c.tls_cert_file(), "tls.cert.file"), file(c.tls_key_file(), "tls.key.file"));
            }
            Path cloudKey = file(c.cloud_public_key_file(), "cloud.public.key.file");
            if (cloudKey == null) {
                throw new IllegalArgumentException(CLOUD_KEY_REQUIRED);
            }
            verifier = AckSignatureVerifier.fromPemFile(cloudKey);
            if (!c.mqtt_password_file().isBlank()) {
                passwordFile = Paths.get(c.mqtt_password_file().trim());
                MqttPasswordFile.check(passwordFile);
            }
        }
        return new UplinkOptions(url, clientId, deviceId, c.session_expiry_s(), c.max_records(), c.max_delay_ms(),
                c.encoding(), c.max_in_flight(), c.max_unacked_records(), c.ack_timeout_ms(), c.reconnect_min_ms(),
                c.reconnect_max_ms(), c.status_interval_ms(), sockets, verifier, dir, username, passwordFile);
    }

    private static void positive(String key, long v) {
        if (v < 1) {
            throw new IllegalArgumentException(key + " must be at least 1 but is " + v);
        }
    }

    private static Path file(String value, String key) {
        if (value == null || value.isBlank()) {
            return null;
        }
        Path p = Paths.get(value.trim());
        if (!Files.isReadable(p)) {
            throw new IllegalArgumentException(key + " " + p + " does not exist or is not readable");
        }
        return p;
    }

    /** True for "localhost" and loopback IP literals; never asks DNS. */
    static boolean isLoopback(String host) {
        String h = host.startsWith("[") && host.endsWith("]") ? host.substring(1, host.length() - 1) : host;
        if (h.equalsIgnoreCase("localhost")) {
            return true;
        }
        if (!h.contains(":") && !h.matches("[0-9.]+")) {
            return false;
        }
        try {
            return InetAddress.getByName(h).isLoopbackAddress();
        } catch (UnknownHostException e) {
            return false;
        }
    }
}
