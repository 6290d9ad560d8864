package io.tollgate.endpoint.internal;

import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.socket.SocketChannel;
import io.netty.handler.codec.compression.StandardCompressionOptions;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpContentCompressor;
import io.netty.handler.codec.http.HttpContentDecompressor;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpServerKeepAliveHandler;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.flow.FlowControlHandler;
import io.netty.handler.ssl.SslContext;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The pipeline of one connection: first the lingering close ({@link LingeringClose}: a refused client still
 * sending its body reads the answer, not a reset), on a TLS port then TLS ({@link HttpsOnlyHandler}: plain HTTP there gets a 400),
 * then the same handlers with and without TLS: the read deadlines ({@link ReadDeadlines}, around the codec), the
 * HTTP codec (request line and header limits), keep-alive, response compression, the access and content-encoding check on the headers (a
 * refused caller's body is never buffered), gzip/deflate request decompression, the bytes of bodies held at once ({@link BodyBudgetGate}), body aggregation with the 413 limit
 * (counted after decompression, so a zip bomb is a 413), flow control (holds a pipelined
 * request while one is answered) and the router. Every connection joins {@code channels} so shutdown can close the
 * ones left after draining. A connection over {@code max.connections} gets a 503 at once and is closed.
 */
final class EndpointChannelInitializer extends ChannelInitializer<SocketChannel> {
    private static final Logger LOG = LoggerFactory.getLogger(EndpointChannelInitializer.class);
    private static final long REFUSAL_LOG_INTERVAL_NANOS = TimeUnit.SECONDS.toNanos(10);

    private final ConnectionLimits limits;
    private final EndpointMetrics metrics;
    private final RequestRouter router;
    private final ChannelGroup channels;
    private final SslContext tls;
    /** Open connections per client address ({@code max.connections.per.client}). */
    private final java.util.concurrent.ConcurrentHashMap<java.net.InetAddress, Integer> perClient =
            new java.util.concurrent.ConcurrentHashMap<>();
    private final AtomicLong lastRefusalLog = new AtomicLong(System.nanoTime() - REFUSAL_LOG_INTERVAL_NANOS);

    /** @param tls the TLS context, or null for plain HTTP */
    EndpointChannelInitializer(ConnectionLimits limits, EndpointMetrics metrics, RequestRouter router,
                               ChannelGroup channels, SslContext tls) {
        this.limits = limits;
        this.metrics = metrics;
        this.router = router;
        this.channels = channels;
        this.tls = tls;
    }

    @Override
    protected void initChannel(SocketChannel ch) {
        channels.add(ch);
        int open = metrics.connectionOpened();
        ch.closeFuture().addListener(f -> metrics.connectionClosed());
        java.net.InetAddress client = ch.remoteAddress() == null ? null : ch.remoteAddress().getAddress();
        int fromClient = 0;
        if (client != null) {
            fromClient = perClient.merge(client, 1, Integer::sum);
            ch.closeFuture().addListener(f -> perClient.computeIfPresent(client, (k, n) -> n <= 1 ? null : n - 1));
        }
        ChannelPipeline p = ch.pipeline();
        p.addLast("linger", new LingeringClose());
        if (tls != null) {
            p.addLast("tls", new HttpsOnlyHandler(tls, metrics, router.requestIds()));
        }
        if (open > limits.maxConnections() || fromClient > limits.maxConnectionsPerClient()) {
            p.addLast("http", new HttpServerCodec());
            p.addLast("over-limit", new OverLimit(open, fromClient > limits.maxConnectionsPerClient() ? client : null));
            return;
        }
        requestHandlers(p, limits, metrics, router);
    }

    /**
     * The handlers from the read deadlines to the router, the same with and without TLS; also the pipeline of the
     * endpoint's warm-up ({@link EndpointWarmup}), so that it runs exactly what a connection runs.
     */
    static void requestHandlers(ChannelPipeline p, ConnectionLimits limits, EndpointMetrics metrics,
                                RequestRouter router) {
        ReadDeadlines deadlines = new ReadDeadlines(limits, metrics, router.requestIds());
        p.addLast("read-deadlines", deadlines.bytes());
        p.addLast("http", new HttpServerCodec(limits.maxLineBytes(), limits.maxHeaderBytes(), 65536));
        p.addLast("phases", deadlines.messages());
        p.addLast("keep-alive", new HttpServerKeepAliveHandler());
        if (limits.compressionMinBytes() > 0) {
            // next to the codec: it must see every request head (it queues each one's Accept-Encoding) before any
            // handler behind it answers, a refusal or a 413 included
            p.addLast("deflate", new HttpContentCompressor(limits.compressionMinBytes(),
                    StandardCompressionOptions.gzip(), StandardCompressionOptions.deflate()));
        }
        p.addLast("access", new AccessPrecheck(router.guard()));
        // maxAllocation: one inflated chunk never exceeds the body limit; the aggregator bounds their sum
        p.addLast("inflate", new HttpContentDecompressor(false, limits.maxBodyBytes()));
        // a route's own smaller limit (POST /admin/licenses: 1 MiB) while reading, before any of it is held
        p.addLast("route-body-limit", new RouteBodyLimit(metrics, router.requestIds()));
        p.addLast("body-budget", new BodyBudgetGate(router.bodies(), limits.maxBodyBytes(), metrics,
                router.requestIds()));
        p.addLast("aggregator", new BodyLimitAggregator(limits.maxBodyBytes(), metrics, router.requestIds()));
        p.addLast("flow", new FlowControlHandler());
        p.addLast("router", router);
    }

    /** Answers a connection over {@code max.connections} with 503 + Retry-After and closes it. */
    private final class OverLimit extends ChannelInboundHandlerAdapter {
        private final int open;
        /** The client over its own limit, or null when the endpoint as a whole is full. */
        private final java.net.InetAddress client;

        OverLimit(int open, java.net.InetAddress client) {
            this.open = open;
            this.client = client;
        }

        @Override
        public void channelActive(ChannelHandlerContext ctx) {
            metrics.connectionRefused();
            long now = System.nanoTime();
            long last = lastRefusalLog.get();
            if (now - last >= REFUSAL_LOG_INTERVAL_NANOS && lastRefusalLog.compareAndSet(last, now)) {
                if (client != null) {
                    LOG.warn("refusing connections from {} over max.connections.per.client = {} (logged once per "
                            + "10 s; tollgate_http_connections_refused_total counts them)", client.getHostAddress(),
                            limits.maxConnectionsPerClient());
                } else {
                    LOG.warn("refusing connections over max.connections = {} ({} open); raise max.connections in the "
                            + "io.tollgate.endpoint configuration if this is expected load (logged once per 10 s; "
                            + "tollgate_http_connections_refused_total counts them)", limits.maxConnections(), open - 1);
                }
            }
            String why = client != null
                    ? "this client has " + limits.maxConnectionsPerClient() + " connections open "
                            + "(max.connections.per.client); reuse them, or retry after a second"
                    : "the endpoint has " + limits.maxConnections() + " connections open (max.connections); retry "
                            + "after a second";
            HttpReply reply = ErrorMapper.reply(new RequestException(RequestException.Kind.BUSY, why),
                    router.requestIds().next(), "connection from " + ctx.channel().remoteAddress());
            metrics.response(reply.status().code());
            FullHttpResponse response = RequestRouter.toResponse(HttpVersion.HTTP_1_1, reply);
            HttpUtil.setKeepAlive(response, false);
            ctx.writeAndFlush(response).addListener(ChannelFutureListener.CLOSE);
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            io.netty.util.ReferenceCountUtil.release(msg);
        }
    }
}
