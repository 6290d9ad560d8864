package io.tollgate.endpoint.internal;

import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;

/**
 * Configuration of the HTTP endpoint, PID {@code io.tollgate.endpoint}. Property keys are the method names with
 * "_" read as "." (DS name mapping): {@code port}, {@code host}, {@code max.body.bytes}, {@code io.threads},
 * {@code native.transport}, {@code drain.timeout.ms}.
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
}
