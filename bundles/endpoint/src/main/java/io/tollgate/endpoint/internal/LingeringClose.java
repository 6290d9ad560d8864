package io.tollgate.endpoint.internal;

import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import io.netty.channel.socket.DuplexChannel;
import io.netty.util.ReferenceCountUtil;
import java.util.concurrent.TimeUnit;

/**
 * Closes a connection the way nginx's {@code lingering_close} does: when the endpoint closes a connection (after a
 * 413, 401, 408 or 503 answered while the client may still be sending its body), it first shuts down its output
 * (the answer, then FIN), then reads and discards what the client still sends for up to {@link #LINGER_MS}, and only
 * then closes (sooner when the client closes its side). Closing at once with unread bytes in the socket makes the
 * kernel send a reset, which can destroy the answer before the client reads it ("connection reset", or the JDK
 * client's "header parser received no bytes", instead of the 413 that says why).
 *
 * <p>Every close asked for while the connection lingers waits for the linger's own close: one answer often brings
 * two (the handler that refused the request closes after its write, and so does Netty's
 * {@code HttpServerKeepAliveHandler} for a {@code Connection: close} answer), and a second close going straight
 * through would end the linger it is part of. First in the pipeline, so the discarded bytes reach neither TLS nor
 * the HTTP codec. One instance per connection, on its event loop.
 */
final class LingeringClose extends ChannelDuplexHandler {
    /** How long a closing connection keeps discarding the client's bytes. */
    static final long LINGER_MS = 2000;

    private boolean lingering;

    @Override
    public void close(ChannelHandlerContext ctx, ChannelPromise promise) {
        if (lingering) {
            // the linger closes the channel; this caller learns of it then
            ctx.channel().closeFuture().addListener(f -> promise.trySuccess());
            return;
        }
        if (!(ctx.channel() instanceof DuplexChannel duplex) || !duplex.isActive()
                || duplex.isOutputShutdown() || duplex.isInputShutdown()) {
            ctx.close(promise);
            return;
        }
        lingering = true;
        duplex.shutdownOutput().addListener(f -> {
            if (!f.isSuccess() || !ctx.channel().isActive()) {
                ctx.close(promise);
                return;
            }
            // the client closing its side ends the linger early (Netty closes a channel whose input ended)
            ctx.channel().closeFuture().addListener(c -> promise.trySuccess());
            ctx.channel().config().setAutoRead(true);
            ctx.read();
            ctx.executor().schedule(() -> ctx.close(), LINGER_MS, TimeUnit.MILLISECONDS);
        });
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (lingering) {
            ReferenceCountUtil.release(msg);
            return;
        }
        ctx.fireChannelRead(msg);
    }
}
