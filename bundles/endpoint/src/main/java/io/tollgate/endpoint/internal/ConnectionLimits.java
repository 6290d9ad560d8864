package io.tollgate.endpoint.internal;

/**
 * The per-connection limits of the endpoint, from {@link EndpointConfig}: sizes in bytes, times in milliseconds
 * (0 = that deadline is off). docs/operations.md lists each with its default and why.
 *
 * @param maxBodyBytes        largest request body, after decompression ({@code max.body.bytes}); larger: 413
 * @param maxConnections      open connections at most ({@code max.connections}); one more: 503 and close
 * @param idleTimeoutMs       keep-alive connection without a request ({@code idle.timeout.ms}): closed
 * @param headerTimeoutMs     from a request's first byte to its last header byte ({@code header.timeout.ms}): 408
 * @param bodyTimeoutMs       between two reads of a body ({@code body.timeout.ms}): 408
 * @param maxLineBytes        longest request line ({@code max.line.bytes}): 414
 * @param maxHeaderBytes      largest header section ({@code max.header.bytes}): 431
 * @param compressionMinBytes smallest response compressed for a client that accepts it; 0 = never
 * @param maxConnectionsPerClient open connections from one client address ({@code max.connections.per.client})
 */
record ConnectionLimits(int maxBodyBytes, int maxConnections, long idleTimeoutMs, long headerTimeoutMs,
                        long bodyTimeoutMs, int maxLineBytes, int maxHeaderBytes, int compressionMinBytes,
                        int maxConnectionsPerClient) {

    static ConnectionLimits of(EndpointConfig c) {
        return new ConnectionLimits(c.max_body_bytes(), c.max_connections(), c.idle_timeout_ms(),
                c.header_timeout_ms(), c.body_timeout_ms(), c.max_line_bytes(), c.max_header_bytes(),
                c.compression_min_bytes(), c.max_connections_per_client());
    }
}
