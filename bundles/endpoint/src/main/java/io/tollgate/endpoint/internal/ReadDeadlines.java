package io.tollgate.endpoint.internal;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelPromise;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The read deadlines of one connection, in the spirit of nginx's {@code keepalive_timeout},
 * {@code client_header_timeout} and {@code client_body_timeout}. A connection is always in one phase:
 * <ul>
 * <li>IDLE — no request begun (after connecting, or after an answer): closed quietly after
 *     {@code idle.timeout.ms};</li>
 * <li>HEADERS — a request's first byte arrived, its headers are not complete: 408 and close when they are not
 *     complete {@code header.timeout.ms} after that first byte (a slow-header client cannot hold the
 *     connection by trickling bytes);</li>
 * <li>BODY — headers in, body still coming: 408 and close when nothing arrives for {@code body.timeout.ms}
 *     (measured between reads, so a large body on a slow but live link is not cut);</li>
 * <li>BUSY — the request is complete and being answered: no deadline here (the serving layer has its own).</li>
 * </ul>
 * Two handlers share this state: {@link #bytes()} sits before the HTTP codec and sees raw reads (the first byte of
 * a request), {@link #messages()} sits after it and sees decoded requests and the answers written. Both run on the
 * connection's event loop, which owns the state; one instance per connection. A zero limit turns that deadline off.
 */
final class ReadDeadlines {
    private static final Logger LOG = LoggerFactory.getLogger(ReadDeadlines.class);

    enum Phase { IDLE, HEADERS, BODY, BUSY }

    private final ConnectionLimits limits;
    private final EndpointMetrics metrics;
    private final RequestIdGenerator requestIds;
    private ChannelHandlerContext ctx;
    /** The context of {@link #messages()}: an answer written there passes only the codec (and TLS). */
    private ChannelHandlerContext answerCtx;
    private Phase phase = Phase.IDLE;
    private long markNanos = System.nanoTime();
    private ScheduledFuture<?> timer;
    private boolean closing;

    ReadDeadlines(ConnectionLimits limits, EndpointMetrics metrics, RequestIdGenerator requestIds) {
        this.limits = limits;
        this.metrics = metrics;
        this.requestIds = requestIds;
    }

    /** The handler before the HTTP codec: a raw read starts a request's header deadline. */
    ChannelHandler bytes() {
        return new ChannelInboundHandlerAdapter() {
            @Override
            public void channelActive(ChannelHandlerContext c) throws Exception {
                ctx = c;
                enter(Phase.IDLE);
                super.channelActive(c);
            }

            @Override
            public void channelRead(ChannelHandlerContext c, Object msg) throws Exception {
                if (msg instanceof ByteBuf buf && buf.isReadable()) {
                    if (phase == Phase.IDLE) {
                        enter(Phase.HEADERS);
                    } else if (phase == Phase.BODY) {
                        markNanos = System.nanoTime();
                    }
                }
                super.channelRead(c, msg);
            }

            @Override
            public void channelInactive(ChannelHandlerContext c) throws Exception {
                cancel();
                super.channelInactive(c);
            }
        };
    }

    /** The handler after the HTTP codec: decoded requests move the phase on, a written answer ends it. */
    ChannelHandler messages() {
        return new ChannelDuplexHandler() {
            @Override
            public void handlerAdded(ChannelHandlerContext c) {
                answerCtx = c;
            }

            @Override
            public void channelRead(ChannelHandlerContext c, Object msg) throws Exception {
                if (phase != Phase.BUSY) {
                    if (msg instanceof LastHttpContent) {
                        enter(Phase.BUSY);     // a FullHttpRequest (a refused or malformed one) is one too
                    } else if (msg instanceof HttpRequest) {
                        enter(Phase.BODY);
                    } else if (msg instanceof HttpContent) {
                        markNanos = System.nanoTime();
                    }
                }
                super.channelRead(c, msg);
            }

            @Override
            public void write(ChannelHandlerContext c, Object msg, ChannelPromise promise) throws Exception {
                boolean answer = msg instanceof LastHttpContent
                        && !(msg instanceof HttpResponse r && r.status().codeClass() == io.netty.handler.codec.http.HttpStatusClass.INFORMATIONAL);
                if (answer) {
                    promise = promise.unvoid();
                    promise.addListener(f -> {
                        if (f.isSuccess() && phase == Phase.BUSY) {
                            enter(Phase.IDLE);
                        }
                    });
                }
                super.write(c, msg, promise);
            }
        };
    }

    private void enter(Phase next) {
        if (closing) {
            return;
        }
        phase = next;
        markNanos = System.nanoTime();
        cancel();
        long limit = limitMs(next);
        if (limit > 0 && ctx != null) {
            timer = ctx.executor().schedule(this::check, limit, TimeUnit.MILLISECONDS);
        }
    }

    private long limitMs(Phase p) {
        return switch (p) {
            case IDLE -> limits.idleTimeoutMs();
            case HEADERS -> limits.headerTimeoutMs();
            case BODY -> limits.bodyTimeoutMs();
            case BUSY -> 0;
        };
    }

    private void check() {
        timer = null;
        if (!ctx.channel().isActive()) {
            return;
        }
        long limit = limitMs(phase);
        if (limit <= 0) {
            return;
        }
        long leftNanos = markNanos + TimeUnit.MILLISECONDS.toNanos(limit) - System.nanoTime();
        if (leftNanos > 0) {
            timer = ctx.executor().schedule(this::check, leftNanos, TimeUnit.NANOSECONDS);
            return;
        }
        expire();
    }

    private void expire() {
        Phase expired = phase;
        closing = true;    // no further deadline: the connection is closing
        metrics.timeout(expired.name().toLowerCase(java.util.Locale.ROOT));
        if (expired == Phase.IDLE) {
            LOG.debug("closing connection from {}: idle for idle.timeout.ms = {} ms", ctx.channel().remoteAddress(),
                    limits.idleTimeoutMs());
            ctx.close();
            return;
        }
        String message = expired == Phase.HEADERS
                ? "the request's headers were not complete within header.timeout.ms = " + limits.headerTimeoutMs()
                        + " ms of its first byte"
                : "the request body sent nothing for body.timeout.ms = " + limits.bodyTimeoutMs() + " ms";
        LOG.info("closing connection from {}: {} (408)", ctx.channel().remoteAddress(), message);
        HttpReply reply = ErrorMapper.reply(new RequestException(RequestException.Kind.REQUEST_TIMEOUT,
                message + "; the connection is closed"), requestIds.next(), "request from "
                + ctx.channel().remoteAddress());
        metrics.response(reply.status().code());
        FullHttpResponse response = RequestRouter.toResponse(HttpVersion.HTTP_1_1, reply);
        HttpUtil.setKeepAlive(response, false);
        // written below the handlers that pair answers with requests (keep-alive, compression): this answer may
        // have no request (headers never completed); it passes only the codec and TLS
        answerCtx.writeAndFlush(response).addListener(ChannelFutureListener.CLOSE);
    }

    private void cancel() {
        if (timer != null) {
            timer.cancel(false);
            timer = null;
        }
    }
}
