package io.tollgate.endpoint.internal;

import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPipeline;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpMessage;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.util.ReferenceCountUtil;

/**
 * Aggregates a request's body up to {@code max.body.bytes} and answers a larger one with a JSON 413, then closes
 * the connection (the rest of the body may already be on its way and cannot be told apart from a next request
 * cheaply). Covers the three ways a body can be too large: a Content-Length above the limit, the same with
 * {@code Expect: 100-continue} (answered instead of "100 Continue", before the client sends the body), and a
 * chunked body that grows past the limit.
 */
final class BodyLimitAggregator extends HttpObjectAggregator {
    private final int maxBodyBytes;
    private final EndpointMetrics metrics;
    private final RequestIdGenerator requestIds;

    BodyLimitAggregator(int maxBodyBytes, EndpointMetrics metrics, RequestIdGenerator requestIds) {
        super(maxBodyBytes, true); // close after a refused expectation
        this.maxBodyBytes = maxBodyBytes;
        this.metrics = metrics;
        this.requestIds = requestIds;
    }

    /**
     * The body length a request's headers declare, in bytes: -1 when there is no Content-Length, or when its head did
     * not decode (a Content-Length that is not a number is such a failure: the router answers it 400 and closes).
     * Netty's {@code HttpUtil.getContentLength} throws NumberFormatException on such a value; a handler that called
     * it closed the connection without an answer.
     */
    static long declaredLength(HttpMessage m) {
        if (!m.decoderResult().isSuccess()) {
            return -1;
        }
        try {
            return HttpUtil.getContentLength(m, -1L);
        } catch (NumberFormatException e) {
            return -1;
        }
    }

    @Override
    protected Object newContinueResponse(HttpMessage start, int maxContentLength, ChannelPipeline pipeline) {
        if (!start.decoderResult().isSuccess()) {
            // a head that did not decode (a Content-Length that is not a number...) gets no 100 Continue: the router
            // answers it 400 and closes (Netty's own check reads the length and would throw, or invite the body)
            return null;
        }
        Object response = super.newContinueResponse(start, maxContentLength, pipeline);
        if (response instanceof HttpResponse r
                && r.status().code() == HttpResponseStatus.REQUEST_ENTITY_TOO_LARGE.code()) {
            ReferenceCountUtil.release(response);
            return tooLarge(start);
        }
        return response;
    }

    @Override
    protected void handleOversizedMessage(ChannelHandlerContext ctx, HttpMessage oversized) throws Exception {
        if (!(oversized instanceof HttpRequest)) {
            super.handleOversizedMessage(ctx, oversized);
            return;
        }
        ctx.writeAndFlush(tooLarge(oversized)).addListener(ChannelFutureListener.CLOSE);
    }

    private FullHttpResponse tooLarge(HttpMessage request) {
        long declared = declaredLength(request);
        String message = "the request body " + (declared >= 0 ? "(" + declared + " bytes) " : "")
                + "is larger than max.body.bytes = " + maxBodyBytes + "; send a smaller request, or raise "
                + "max.body.bytes in the io.tollgate.endpoint configuration";
        HttpReply reply = ErrorMapper.reply(new RequestException(RequestException.Kind.BODY_TOO_LARGE, message),
                requestIds.next(), request instanceof HttpRequest r ? r.method() + " " + r.uri() : "request");
        metrics.response(reply.status().code());
        FullHttpResponse response = RequestRouter.toResponse(HttpVersion.HTTP_1_1, reply);
        HttpUtil.setKeepAlive(response, false);
        return response;
    }
}
