package io.tollgate.sync.internal;

import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;

/**
 * Configuration of the usage uplink (PID {@code io.tollgate.sync}). Following the DS rules, a method name's
 * "_" is a "." in the property key: {@code broker_url} is the key {@code broker.url}. An empty
 * {@code broker.url} means "not configured": records stay on the device.
 */
@ObjectClassDefinition(name = "Tollgate usage uplink",
        description = "Ships usage records from the journal to the cloud over MQTT 5 (docs/sync-protocol.md)")
public @interface SyncConfig {
    @AttributeDefinition(name = "Broker URL",
            description = "tcp://host:port or ssl://host:port; empty = sync disabled, records stay on the device")
    String broker_url() default "";

    @AttributeDefinition(name = "Client id", description = "MQTT client id; {device} is replaced by the device id")
    String client_id() default "tollgate-{device}";

    @AttributeDefinition(name = "Session expiry (s)",
            description = "How long the broker keeps the session (subscriptions, queued acks) while the device is away")
    long session_expiry_s() default 604_800;

    @AttributeDefinition(name = "Records per batch", description = "At most this many records per MQTT message")
    int max_records() default 2000;

    @AttributeDefinition(name = "Batch delay (ms)",
            description = "A batch waits at most this long after its first record; also how often the journal is polled")
    long max_delay_ms() default 200;

    @AttributeDefinition(name = "Encoding", description = "0 raw, 1 deflate, 2 deflate with hash elision")
    int encoding() default 2;

    @AttributeDefinition(name = "Batches in flight", description = "Published batches awaiting the broker's PUBACK")
    int max_in_flight() default 2;

    @AttributeDefinition(name = "Records ahead of the ack",
            description = "Stop sending when this many records were sent beyond the cloud's ack (flow control)")
    int max_unacked_records() default 50_000;

    @AttributeDefinition(name = "Ack timeout (ms)",
            description = "Records sent but not acknowledged for this long are sent again from the ack")
    long ack_timeout_ms() default 30_000;

    @AttributeDefinition(name = "Reconnect back-off min (ms)")
    long reconnect_min_ms() default 1000;

    @AttributeDefinition(name = "Reconnect back-off max (ms)")
    long reconnect_max_ms() default 60_000;

    @AttributeDefinition(name = "Status interval (ms)", description = "How often the retained status is refreshed")
    long status_interval_ms() default 30_000;

    @AttributeDefinition(name = "CA file", description = "PEM CA certificate(s) the broker's certificate must chain "
            + "to (ssl://); empty = the JVM's trust store")
    String tls_ca_file() default "";

    @AttributeDefinition(name = "Client certificate file", description = "PEM client certificate (chain) for ssl://")
    String tls_cert_file() default "";

    @AttributeDefinition(name = "Client key file", description = "PEM PKCS#8 private key of the client certificate")
    String tls_key_file() default "";

    @AttributeDefinition(name = "Allow plain TCP",
            description = "tcp:// to a host other than loopback is refused unless this is true")
    boolean allow_plain() default false;

    @AttributeDefinition(name = "Cloud public key file",
            description = "PEM Ed25519 public key of the cloud; REQUIRED with a broker.url: every ack must carry a "
                    + "valid signature, others are ignored (bin/tollgate device enroll pins it)")
    String cloud_public_key_file() default "";

    @AttributeDefinition(name = "MQTT user name", description = "User name at the broker; empty or {device} = the "
            + "device id")
    String mqtt_username() default "{device}";

    @AttributeDefinition(name = "MQTT password file", description = "File holding the broker password (mode 0600 or "
            + "0400, read again at every connect); empty = no password")
    String mqtt_password_file() default "";

    @AttributeDefinition(name = "Directory",
            description = "Where the ack cursor (acked-seq) lives; empty = <tollgate.data>/sync, or data/sync")
    String directory() default "";
}
