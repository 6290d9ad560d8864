package io.tollgate.endpoint.internal;

import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpResponseEncoder;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.ssl.OptionalSslHandler;
import io.netty.handler.ssl.SslContext;
import io.netty.util.ReferenceCountUtil;

/**
 * The first handler of a TLS port. It looks at the first bytes of a connection: a TLS record goes on to an
 * {@code SslHandler} (and the HTTP handlers behind it, the same ones as without TLS); anything else — a client
 * speaking plain HTTP to the HTTPS port — gets one 400 saying to use https, and the connection is closed. Nothing
 * is ever served in clear on a TLS port.
 */
final class HttpsOnlyHandler extends OptionalSslHandler {
    private final EndpointMetrics metrics;
    private final RequestIdGenerator requestIds;

    HttpsOnlyHandler(SslContext tls, EndpointMetrics metrics, RequestIdGenerator requestIds) {
        super(tls);
        this.metrics = metrics;
        this.requestIds = requestIds;
    }

    @Override
    protected ChannelHandler newNonSslHandler(ChannelHandlerContext ctx) {
        return new PlainHttpRefusal();
    }

    /** Answers the first plain-text bytes with a 400 and closes; reads nothing further. */
    private final class PlainHttpRefusal extends ChannelInboundHandlerAdapter {
        private boolean answered;

        @Override
        public void handlerAdded(ChannelHandlerContext ctx) {
            ctx.pipeline().addBefore(ctx.name(), "plain-http-encoder", new HttpResponseEncoder());
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            ReferenceCountUtil.release(msg);
            if (answered) {
                return;
            }
            answered = true;
            HttpReply reply = ErrorMapper.reply(RequestException.badRequest("this port speaks HTTPS only; plain HTTP "
                    + "is refused: use https:// with the same host and port"), requestIds.next(),
                    "plain HTTP on the TLS port from " + ctx.channel().remoteAddress());
            metrics.response(reply.status().code());
            FullHttpResponse response = RequestRouter.toResponse(HttpVersion.HTTP_1_1, reply);
            HttpUtil.setKeepAlive(response, false);
            ctx.writeAndFlush(response).addListener(ChannelFutureListener.CLOSE);
        }
    }
}
