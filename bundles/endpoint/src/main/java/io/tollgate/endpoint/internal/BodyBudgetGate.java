package io.tollgate.endpoint.internal;

import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Counts each request body against the {@link BodyBudget} as it arrives (after decompression, before aggregation).
 * A body with a Content-Length reserves it all from its headers, so a refusal comes before the body is read (and
 * instead of "100 Continue"); a chunked or decompressed body reserves chunk by chunk. Over the budget: 503 +
 * {@code Retry-After: 1}, the rest of the body discarded and the connection closed. One instance per connection.
 */
final class BodyBudgetGate extends ChannelInboundHandlerAdapter {
    private static final Logger LOG = LoggerFactory.getLogger(BodyBudgetGate.class);
    private static final long LOG_INTERVAL_NANOS = TimeUnit.SECONDS.toNanos(10);
    private static final AtomicLong LAST_LOG = new AtomicLong(System.nanoTime() - LOG_INTERVAL_NANOS);

    private final BodyBudget budget;
    private final int maxBodyBytes;
    private final EndpointMetrics metrics;
    private final RequestIdGenerator requestIds;
    /** The current request's body was counted from its Content-Length: its chunks are not counted again. */
    private boolean prepaid;
    private boolean refused;

    BodyBudgetGate(BodyBudget budget, int maxBodyBytes, EndpointMetrics metrics, RequestIdGenerator requestIds) {
        this.budget = budget;
        this.maxBodyBytes = maxBodyBytes;
        this.metrics = metrics;
        this.requestIds = requestIds;
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        ctx.channel().closeFuture().addListener(f -> budget.closed(ctx.channel()));
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) throws Exception {
        if (refused) {
            ReferenceCountUtil.release(msg);
            return;
        }
        if (msg instanceof HttpRequest head) {
            long declared = BodyLimitAggregator.declaredLength(head);
            // a body over max.body.bytes is the aggregator's 413, whatever the budget holds
            prepaid = declared >= 0 && declared <= maxBodyBytes && !HttpUtil.isTransferEncodingChunked(head);
            if (prepaid) {
                if (!budget.reserve(ctx.channel(), declared, true)) {
                    refuse(ctx, msg, declared);
                    return;
                }
            } else {
                budget.begin(ctx.channel());
            }
        }
        if (!prepaid && msg instanceof HttpContent content && content.content().readableBytes() > 0
                && !budget.reserve(ctx.channel(), content.content().readableBytes(), false)) {
            refuse(ctx, msg, -1);
            return;
        }
        ctx.fireChannelRead(msg);
    }

    private void refuse(ChannelHandlerContext ctx, Object msg, long declared) {
        refused = !(msg instanceof LastHttpContent);
        ReferenceCountUtil.release(msg);
        metrics.bodyRefused();
        long now = System.nanoTime();
        long last = LAST_LOG.get();
        if (now - last >= LOG_INTERVAL_NANOS && LAST_LOG.compareAndSet(last, now)) {
            LOG.warn("request bodies refused: {} bytes are held, max.inflight.body.bytes = {} (logged once per 10 s; "
                    + "tollgate_http_bodies_refused_total counts them)", budget.held(), budget.max());
        }
        String message = (declared >= 0 ? "a body of " + declared + " bytes" : "this body")
                + " would take the request bodies held at once past max.inflight.body.bytes = " + budget.max()
                + "; retry after a second";
        HttpReply reply = ErrorMapper.reply(new RequestException(RequestException.Kind.BUSY, message),
                requestIds.next(), "request from " + ctx.channel().remoteAddress());
        metrics.response(reply.status().code());
        FullHttpResponse response = RequestRouter.toResponse(HttpVersion.HTTP_1_1, reply);
        HttpUtil.setKeepAlive(response, false);
        response.headers().set("Connection", "close");
        ctx.writeAndFlush(response).addListener(ChannelFutureListener.CLOSE);
    }
}
