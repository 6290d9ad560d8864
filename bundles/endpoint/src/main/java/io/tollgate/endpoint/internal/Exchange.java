package io.tollgate.endpoint.internal;

import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.util.concurrent.EventExecutor;
import java.net.SocketAddress;

/**
 * One request as the routes see it. The request (and its body) may only be read during the synchronous part of
 * a route: it is released when the route returns. {@link #requestId} is the id the endpoint generated for the
 * request until the infer route has read and checked the client's own (the body's {@code id}); from then on it is
 * the client's. Logs, error bodies and the serving layer all take it from here.
 */
final class Exchange {
    final FullHttpRequest request;
    final String method;
    final String path;
    /** The channel's event loop: where responses are encoded and written. */
    final EventExecutor eventLoop;
    /** When the router took the request, from {@link System#nanoTime()}. */
    final long startNanos = System.nanoTime();
    volatile String requestId;
    /** The TCP peer. */
    final SocketAddress remote;
    /** SHA-256 of the TLS client certificate the connection presented (verified), or null. */
    final String clientCertSha256;
    /** Who the request is from, once {@link AccessGuard} has let it through: its tenant is the one billed. */
    volatile AccessGuard.Caller caller = AccessGuard.Caller.ANONYMOUS;

    Exchange(FullHttpRequest request, String method, String path, EventExecutor eventLoop, String requestId,
             SocketAddress remote, String clientCertSha256) {
        this.request = request;
        this.method = method;
        this.path = path;
        this.eventLoop = eventLoop;
        this.requestId = requestId;
        this.remote = remote;
        this.clientCertSha256 = clientCertSha256;
    }

    /** "POST /v2/models/m/infer", for logs and messages. */
    String line() {
        return method + " " + path;
    }
}
