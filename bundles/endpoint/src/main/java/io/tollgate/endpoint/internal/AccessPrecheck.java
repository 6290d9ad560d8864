package io.tollgate.endpoint.internal;

import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.EmptyHttpHeaders;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.codec.http.QueryStringDecoder;
import io.netty.util.ReferenceCountUtil;

/**
 * Asks {@link AccessGuard} as soon as a request's headers are in, before its body is read: a caller who may not ask
 * must not make the endpoint buffer up to {@code max.body.bytes} first. A refused request goes on as a
 * {@link Refused} request with no body (the router answers it with the refusal, through {@code ErrorMapper}, like
 * any other error); its body is discarded as it arrives, and when one was announced the connection is closed after
 * the answer. A request let through goes on untouched, and the router asks the guard again (the key file may have
 * changed meanwhile; the router's answer is the one that counts). One instance per connection, on its event loop.
 */
final class AccessPrecheck extends ChannelInboundHandlerAdapter {
    /** A request refused from its headers: no body, and the refusal to answer with. */
    static final class Refused extends DefaultFullHttpRequest {
        final RequestException refusal;

        Refused(HttpRequest head, RequestException refusal) {
            super(head.protocolVersion(), head.method(), head.uri(), Unpooled.EMPTY_BUFFER, head.headers().copy(),
                    EmptyHttpHeaders.INSTANCE);
            this.refusal = refusal;
            boolean body = HttpUtil.isTransferEncodingChunked(head) || BodyLimitAggregator.declaredLength(head) > 0
                    || HttpUtil.is100ContinueExpected(head);
            headers().remove(HttpHeaderNames.EXPECT);   // no "100 Continue" for a body nobody will read
            headers().remove(HttpHeaderNames.TRANSFER_ENCODING);
            headers().set(HttpHeaderNames.CONTENT_LENGTH, 0);
            if (body) {
                // the rest of its body may still come and cannot be told apart from a next request cheaply
                headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
            }
        }
    }

    private final AccessGuard guard;
    private boolean discarding;

    AccessPrecheck(AccessGuard guard) {
        this.guard = guard;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (msg instanceof HttpRequest head && head.decoderResult().isSuccess()) {
            RequestException refusal = check(ctx, head);
            if (refusal != null) {
                Refused refused = new Refused(head, refusal);
                ReferenceCountUtil.release(msg);   // a FullHttpRequest from upstream holds its body
                discarding = !(msg instanceof LastHttpContent);
                ctx.fireChannelRead(refused);
                return;
            }
        } else if (discarding && msg instanceof HttpContent content) {
            discarding = !(content instanceof LastHttpContent);
            content.release();
            return;
        }
        ctx.fireChannelRead(msg);
    }

    private RequestException check(ChannelHandlerContext ctx, HttpRequest head) {
        String path;
        try {
            path = new QueryStringDecoder(head.uri()).path();
        } catch (IllegalArgumentException e) {
            return null;   // the router answers 400
        }
        RequestRouter.Match m = RequestRouter.match(RequestRouter.segments(path));
        try {
            guard.check(m == null ? AccessGuard.Access.ANY : m.route().access, m == null ? null : m.model(),
                    head.method().name() + " " + path, ctx.channel().remoteAddress(),
                    head.headers().get(HttpHeaderNames.AUTHORIZATION), ClientCertificate.sha256(ctx.channel()));
        } catch (RequestException e) {
            return e;
        }
        return encodingRefusal(head);
    }

    /**
     * A Content-Encoding the decompressor after this handler cannot undo would reach the JSON decoder as bytes it
     * cannot read ("malformed JSON"): say what is wrong instead (415), before the body is read.
     */
    static RequestException encodingRefusal(HttpRequest head) {
        for (String value : head.headers().getAll(HttpHeaderNames.CONTENT_ENCODING)) {
            for (String coding : value.split(",")) {
                String c = coding.trim().toLowerCase(java.util.Locale.ROOT);
                if (!(c.isEmpty() || c.equals("identity") || c.equals("gzip") || c.equals("x-gzip")
                        || c.equals("deflate") || c.equals("x-deflate"))) {
                    return new RequestException(RequestException.Kind.UNSUPPORTED_ENCODING, "Content-Encoding '"
                            + abbreviate(coding.trim()) + "' is not supported; send the body as identity, gzip or "
                            + "deflate");
                }
            }
        }
        return null;
    }

    private static String abbreviate(String s) {
        return s.length() <= 40 ? s : s.substring(0, 40) + "...";
    }
}
