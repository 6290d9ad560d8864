package io.tollgate.endpoint.internal;

import java.lang.annotation.Annotation;

/** An {@link EndpointConfig} for tests, with settable values; by default a free port on 127.0.0.1 and no key file. */
final class TestConfig implements EndpointConfig {
    int port;
    String host = "127.0.0.1";
    int maxBodyBytes = 64 * 1024;
    int ioThreads = 2;
    boolean nativeTransport = true;
    long drainTimeoutMs = 5_000;
    /** A path where there is no file: protected mode unless a test writes one there. */
    String keysFile = System.getProperty("java.io.tmpdir") + "/tollgate-no-such-dir/api-keys.json";
    long keysPollMs = 1000;
    String tlsCertFile = "";
    String tlsKeyFile = "";
    String tlsClientAuth = "none";
    String tlsClientCaFile = "";
    int maxConnections = 1024;
    long idleTimeoutMs = 60_000;
    long headerTimeoutMs = 30_000;
    long bodyTimeoutMs = 30_000;
    int maxLineBytes = 8192;
    int maxHeaderBytes = 16384;
    int compressionMinBytes = 1024;
    long maxInflightBodyBytes = 0;
    int maxConnectionsPerClient = 128;
    double tenantRatePerSecond = 0;
    int tenantRateBurst = 0;
    int tenantMaxConcurrent = 0;
    String tenantLimits = "";
    /** Off unless a test turns it on: the endpoint's warm-up has its own tests (EndpointWarmupTest). */
    long warmupMs = 0;

    @Override
    public Class<? extends Annotation> annotationType() {
        return EndpointConfig.class;
    }

    @Override
    public int port() {
        return port;
    }

    @Override
    public String host() {
        return host;
    }

    @Override
    public int max_body_bytes() {
        return maxBodyBytes;
    }

    @Override
    public int io_threads() {
        return ioThreads;
    }

    @Override
    public boolean native_transport() {
        return nativeTransport;
    }

    @Override
    public long drain_timeout_ms() {
        return drainTimeoutMs;
    }

    @Override
    public String keys_file() {
        return keysFile;
    }

    @Override
    public long keys_poll_ms() {
        return keysPollMs;
    }

    @Override
    public String tls_cert_file() {
        return tlsCertFile;
    }

    @Override
    public String tls_key_file() {
        return tlsKeyFile;
    }

    @Override
    public String tls_client_auth() {
        return tlsClientAuth;
    }

    @Override
    public String tls_client_ca_file() {
        return tlsClientCaFile;
    }

    @Override
    public int max_connections() {
        return maxConnections;
    }

    @Override
    public long idle_timeout_ms() {
        return idleTimeoutMs;
    }

    @Override
    public long header_timeout_ms() {
        return headerTimeoutMs;
    }

    @Override
    public long body_timeout_ms() {
        return bodyTimeoutMs;
    }

    @Override
    public int max_line_bytes() {
        return maxLineBytes;
    }

    @Override
    public int max_header_bytes() {
        return maxHeaderBytes;
    }

    @Override
    public int compression_min_bytes() {
        return compressionMinBytes;
    }

    @Override
    public long max_inflight_body_bytes() {
        return maxInflightBodyBytes;
    }

    @Override
    public int max_connections_per_client() {
        return maxConnectionsPerClient;
    }

    @Override
    public double tenant_rate_per_second() {
        return tenantRatePerSecond;
    }

    @Override
    public int tenant_rate_burst() {
        return tenantRateBurst;
    }

    @Override
    public int tenant_max_concurrent() {
        return tenantMaxConcurrent;
    }

    @Override
    public String tenant_limits() {
        return tenantLimits;
    }

    @Override
    public long warmup_ms() {
        return warmupMs;
    }
}
