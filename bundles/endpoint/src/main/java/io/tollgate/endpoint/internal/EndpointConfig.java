package io.tollgate.endpoint.internal;

import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;

/**
 * Configuration of the HTTP endpoint, PID {@code io.tollgate.endpoint}. Property keys are the method names with
 * "_" read as "." (DS name mapping): {@code port}, {@code host}, {@code max.body.bytes}, {@code io.threads},
 * {@code native.transport}, {@code drain.timeout.ms}, {@code keys.file}, {@code keys.poll.ms}, {@code tls.cert.file},
 * {@code tls.key.file}, {@code tls.client.auth}, {@code tls.client.ca.file}, {@code max.connections},
 * {@code idle.timeout.ms}, {@code header.timeout.ms}, {@code body.timeout.ms}, {@code max.line.bytes},
 * {@code max.header.bytes}, {@code compression.min.bytes}, {@code max.inflight.body.bytes}, {@code max.connections.per.client},
 * {@code tenant.rate.per.second}, {@code tenant.rate.burst}, {@code tenant.max.concurrent}, {@code tenant.limits}.
 */
@ObjectClassDefinition(name = "Tollgate HTTP endpoint",
        description = "Open Inference Protocol (KServe v2 REST) server, admin API and Prometheus metrics")
@interface EndpointConfig {
    @AttributeDefinition(description = "TCP port to listen on (0 picks a free port)")
    int port() default 8000;

    @AttributeDefinition(description = "Address to bind; 0.0.0.0 for every interface, 127.0.0.1 for local only")
    String host() default "0.0.0.0";

    @AttributeDefinition(description = "Largest request body accepted, in bytes; larger ones get 413")
    int max_body_bytes() default 67108864;

    @AttributeDefinition(description = "Netty I/O threads; 0 = Netty's default (twice the processors)")
    int io_threads() default 0;

    @AttributeDefinition(description = "Use epoll when the native transport is available, else NIO")
    boolean native_transport() default true;

    @AttributeDefinition(description = "On stop, how long to wait for requests in flight, in milliseconds")
    long drain_timeout_ms() default 30000;

    @AttributeDefinition(description = "The API key file (bin/tollgate keys manages it); empty = api-keys.json in the "
            + "configuration folder (system property tollgate.conf, else <tollgate.home>/conf, else conf)")
    String keys_file() default "";

    @AttributeDefinition(description = "How often the key file is checked for changes, in milliseconds")
    long keys_poll_ms() default 1000;

    @AttributeDefinition(description = "PEM certificate chain (server certificate first); empty = plain HTTP")
    String tls_cert_file() default "";

    @AttributeDefinition(description = "Unencrypted PKCS#8 PEM private key of the certificate")
    String tls_key_file() default "";

    @AttributeDefinition(description = "Client certificates: none, optional or require")
    String tls_client_auth() default "none";

    @AttributeDefinition(description = "PEM CA certificate(s) client certificates must be issued by")
    String tls_client_ca_file() default "";

    @AttributeDefinition(description = "Open connections at most; one more is answered 503 + Retry-After and closed")
    int max_connections() default 1024;

    @AttributeDefinition(description = "A keep-alive connection with no request for this long is closed, in "
            + "milliseconds (nginx keepalive_timeout)")
    long idle_timeout_ms() default 60000;

    @AttributeDefinition(description = "A request's headers must be complete this long after its first byte, in "
            + "milliseconds, else 408 and the connection is closed (nginx client_header_timeout)")
    long header_timeout_ms() default 30000;

    @AttributeDefinition(description = "A body that sends nothing for this long gets 408 and the connection is "
            + "closed, in milliseconds (nginx client_body_timeout: between two reads, not for the whole body)")
    long body_timeout_ms() default 30000;

    @AttributeDefinition(description = "Longest request line (method, path, version) in bytes; longer gets 414")
    int max_line_bytes() default 8192;

    @AttributeDefinition(description = "Largest header section in bytes; larger gets 431")
    int max_header_bytes() default 16384;

    @AttributeDefinition(description = "Responses of at least this many bytes are compressed when the client "
            + "accepts gzip or deflate; 0 = never compress")
    int compression_min_bytes() default 1024;

    @AttributeDefinition(description = "Bytes of request bodies held at once across all connections; a body that would "
            + "exceed it gets 503 + Retry-After; 0 = a quarter of the JVM's largest heap")
    long max_inflight_body_bytes() default 0;

    @AttributeDefinition(description = "Open connections from one client address at most; one more is answered 503 "
            + "+ Retry-After and closed, so one host cannot take every slot of max.connections")
    int max_connections_per_client() default 128;

    @AttributeDefinition(description = "Infer requests per second each tenant may send (a token bucket); 0 = no rate "
            + "limit. Over it: 429 + Retry-After")
    double tenant_rate_per_second() default 0;

    @AttributeDefinition(description = "Requests a tenant may send at once above its rate (the bucket's size); 0 = "
            + "the rate, rounded up")
    int tenant_rate_burst() default 0;

    @AttributeDefinition(description = "Infer requests of one tenant in flight at most; 0 = no limit. Over it: 429 + "
            + "Retry-After")
    int tenant_max_concurrent() default 0;

    @AttributeDefinition(description = "Per-tenant overrides of the three limits above: entries separated by ';', "
            + "each 'TENANT: rate=R burst=B concurrent=C' (unset ones are the defaults above), e.g. "
            + "'line7: rate=5 burst=10; line8: concurrent=2'")
    String tenant_limits() default "";

    @AttributeDefinition(description = "At activation, the endpoint runs synthetic infer requests (JSON and binary "
            + "tensors) through its own HTTP pipeline, one of each and then more for at most this many milliseconds before /v2/health/ready may "
            + "say ready, so the JIT has compiled the request path before the first clients come; the requests never "
            + "reach serving (not metered, not counted); 0 = off")
    long warmup_ms() default 250;
}
