package io.tollgate.endpoint.internal;

import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.QueryStringDecoder;
import io.netty.util.ReferenceCountUtil;

/**
 * A route's own body limit, below {@code max.body.bytes}, applied while the body is read: {@code POST /admin/licenses}
 * takes at most {@link LicenseRoutes#MAX_BODY_BYTES} (a license file's limit). A Content-Length above it is answered
 * 413 from the headers (before the body is read, and instead of "100 Continue"); a chunked or compressed body as soon
 * as it grows past it. Then the rest is discarded and the connection closed, as {@link BodyLimitAggregator} does for
 * {@code max.body.bytes}: nothing beyond the route's limit is buffered or counted against
 * {@code max.inflight.body.bytes}. Sits after the decompressor (the limit counts the body as the route reads it) and
 * before the body budget. One instance per connection, on its event loop.
 */
final class RouteBodyLimit extends ChannelInboundHandlerAdapter {
    private final EndpointMetrics metrics;
    private final RequestIdGenerator requestIds;
    /** The current request's limit in bytes, or -1 when its route has none of its own. */
    private long limit = -1;
    private long seen;
    private String line = "";
    /** A request was refused: everything until the connection closes is dropped. */
    private boolean refused;

    RouteBodyLimit(EndpointMetrics metrics, RequestIdGenerator requestIds) {
        this.metrics = metrics;
        this.requestIds = requestIds;
    }

    /** The body limit of {@code head}'s route in bytes, or -1 when only {@code max.body.bytes} applies. */
    static long limitOf(HttpRequest head) {
        if (!"POST".equals(head.method().name())) {
            return -1;
        }
        String path;
        try {
            path = new QueryStringDecoder(head.uri()).path();
        } catch (IllegalArgumentException e) {
            return -1;     // the router answers 400
        }
        RequestRouter.Match m = RequestRouter.match(RequestRouter.segments(path));
        return m != null && m.route() == RequestRouter.Route.ADMIN_LICENSES ? LicenseRoutes.MAX_BODY_BYTES : -1;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (refused) {
            ReferenceCountUtil.release(msg);
            return;
        }
        if (msg instanceof AccessPrecheck.Refused) {
            limit = -1;         // refused from its headers already; its body is discarded before this handler
            ctx.fireChannelRead(msg);
            return;
        }
        if (msg instanceof HttpRequest head) {
            limit = head.decoderResult().isSuccess() ? limitOf(head) : -1;
            seen = 0;
            line = head.method() + " " + head.uri();
            long declared = BodyLimitAggregator.declaredLength(head);
            if (limit >= 0 && declared > limit) {
                refuse(ctx, msg, declared);
                return;
            }
        }
        if (limit >= 0 && msg instanceof HttpContent content) {
            seen += content.content().readableBytes();
            if (seen > limit) {
                refuse(ctx, msg, -1);
                return;
            }
        }
        ctx.fireChannelRead(msg);
    }

    private void refuse(ChannelHandlerContext ctx, Object msg, long declared) {
        refused = true;
        ReferenceCountUtil.release(msg);
        String message = "the request body " + (declared >= 0 ? "(" + declared + " bytes) " : "") + "is larger than "
                + "POST /admin/licenses takes: " + limit + " bytes (a license file or revocation "
                + "list is at most 1 MiB); POST the .lic file as the vendor issued it";
        HttpReply reply = ErrorMapper.reply(new RequestException(RequestException.Kind.BODY_TOO_LARGE, message),
                requestIds.next(), line);
        metrics.response(reply.status().code());
        FullHttpResponse response = RequestRouter.toResponse(HttpVersion.HTTP_1_1, reply);
        HttpUtil.setKeepAlive(response, false);
        ctx.writeAndFlush(response).addListener(ChannelFutureListener.CLOSE);
    }
}
