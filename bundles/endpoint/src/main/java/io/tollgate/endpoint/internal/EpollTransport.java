package io.tollgate.endpoint.internal;

import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerSocketChannel;

/** Kept apart from {@link Transport} so a missing epoll bundle fails only here, as a LinkageError. */
final class EpollTransport {
    private EpollTransport() {
    }

    static Transport ifAvailable() {
        return Epoll.isAvailable()
                ? new Transport("epoll", EpollIoHandler.newFactory(), EpollServerSocketChannel.class, "")
                : null;
    }

    static String unavailabilityCause() {
        Throwable cause = Epoll.unavailabilityCause();
        return cause == null ? "unknown" : cause.toString();
    }
}
