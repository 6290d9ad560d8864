package io.tollgate.endpoint.internal;

import io.netty.handler.codec.http.HttpResponseStatus;
import java.nio.charset.StandardCharsets;
import java.util.Map;

/**
 * What a route answers, before it becomes a Netty response on the channel's event loop.
 *
 * @param status      HTTP status
 * @param contentType Content-Type header value
 * @param body        the whole body
 * @param headers     further headers (e.g. Allow, Retry-After, Inference-Header-Content-Length)
 */
record HttpReply(HttpResponseStatus status, String contentType, byte[] body, Map<String, String> headers) {
    static final String JSON = "application/json";
    static final String OCTET_STREAM = "application/octet-stream";
    static final String PROMETHEUS_TEXT = "text/plain; version=0.0.4; charset=utf-8";

    HttpReply {
        headers = Map.copyOf(headers);
    }

    static HttpReply json(HttpResponseStatus status, byte[] body) {
        return new HttpReply(status, JSON, body, Map.of());
    }

    static HttpReply text(HttpResponseStatus status, String contentType, String body) {
        return new HttpReply(status, contentType, body.getBytes(StandardCharsets.UTF_8), Map.of());
    }
}
