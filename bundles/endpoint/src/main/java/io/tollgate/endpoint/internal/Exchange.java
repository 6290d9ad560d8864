package io.tollgate.endpoint.internal;

import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.util.concurrent.EventExecutor;

/**
 * One request as the routes see it. The request (and its body) may only be read during the synchronous part of
 * a route: it is released when the route returns. {@link #requestId} is the client's id once known (the infer
 * body's {@code id}), else the endpoint's own.
 */
final class Exchange {
    final FullHttpRequest request;
    final String method;
    final String path;
    /** The channel's event loop: where responses are encoded and written. */
    final EventExecutor eventLoop;
    volatile String requestId;

    Exchange(FullHttpRequest request, String method, String path, EventExecutor eventLoop, String requestId) {
        this.request = request;
        this.method = method;
        this.path = path;
        this.eventLoop = eventLoop;
        this.requestId = requestId;
    }

    /** "POST /v2/models/m/infer", for logs and messages. */
    String line() {
        return method + " " + path;
    }
}
