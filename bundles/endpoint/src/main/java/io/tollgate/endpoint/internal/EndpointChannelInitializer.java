package io.tollgate.endpoint.internal;

import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.socket.SocketChannel;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpServerKeepAliveHandler;
import io.netty.handler.flow.FlowControlHandler;

/**
 * The pipeline of one connection: HTTP codec, keep-alive, body aggregation with the 413 limit, flow control
 * (holds a pipelined request while one is answered) and the router. Every connection joins {@code channels} so
 * shutdown can close the ones left after draining.
 */
final class EndpointChannelInitializer extends ChannelInitializer<SocketChannel> {
    private final int maxBodyBytes;
    private final EndpointMetrics metrics;
    private final RequestRouter router;
    private final ChannelGroup channels;

    EndpointChannelInitializer(int maxBodyBytes, EndpointMetrics metrics, RequestRouter router, ChannelGroup channels) {
        this.maxBodyBytes = maxBodyBytes;
        this.metrics = metrics;
        this.router = router;
        this.channels = channels;
    }

    @Override
    protected void initChannel(SocketChannel ch) {
        channels.add(ch);
        ChannelPipeline p = ch.pipeline();
        p.addLast("http", new HttpServerCodec());
        p.addLast("keep-alive", new HttpServerKeepAliveHandler());
        p.addLast("aggregator", new BodyLimitAggregator(maxBodyBytes, metrics, router.requestIds()));
        p.addLast("flow", new FlowControlHandler());
        p.addLast("router", router);
    }
}
