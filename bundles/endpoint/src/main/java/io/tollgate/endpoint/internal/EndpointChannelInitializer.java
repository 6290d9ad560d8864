package io.tollgate.endpoint.internal;

import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.socket.SocketChannel;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpServerKeepAliveHandler;
import io.netty.handler.flow.FlowControlHandler;
import io.netty.handler.ssl.SslContext;

/**
 * The pipeline of one connection: on a TLS port first TLS ({@link HttpsOnlyHandler}: plain HTTP there gets a 400),
 * then the same handlers with and without TLS: HTTP codec, keep-alive, the access check on the headers (a refused
 * caller's body is never buffered), body aggregation with the 413 limit, flow control (holds a pipelined request while one is answered) and the router. Every connection joins
 * {@code channels} so shutdown can close the ones left after draining.
 */
final class EndpointChannelInitializer extends ChannelInitializer<SocketChannel> {
    private final int maxBodyBytes;
    private final EndpointMetrics metrics;
    private final RequestRouter router;
    private final ChannelGroup channels;
    private final SslContext tls;

    /** @param tls the TLS context, or null for plain HTTP */
    EndpointChannelInitializer(int maxBodyBytes, EndpointMetrics metrics, RequestRouter router, ChannelGroup channels,
                               SslContext tls) {
        this.maxBodyBytes = maxBodyBytes;
        this.metrics = metrics;
        this.router = router;
        this.channels = channels;
        this.tls = tls;
    }

    @Override
    protected void initChannel(SocketChannel ch) {
        channels.add(ch);
        ChannelPipeline p = ch.pipeline();
        if (tls != null) {
            p.addLast("tls", new HttpsOnlyHandler(tls, metrics, router.requestIds()));
        }
        p.addLast("http", new HttpServerCodec());
        p.addLast("keep-alive", new HttpServerKeepAliveHandler());
        p.addLast("access", new AccessPrecheck(router.guard()));
        p.addLast("aggregator", new BodyLimitAggregator(maxBodyBytes, metrics, router.requestIds()));
        p.addLast("flow", new FlowControlHandler());
        p.addLast("router", router);
    }
}
