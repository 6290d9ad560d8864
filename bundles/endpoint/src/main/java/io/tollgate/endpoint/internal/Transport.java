package io.tollgate.endpoint.internal;

import io.netty.channel.IoHandlerFactory;
import io.netty.channel.ServerChannel;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioServerSocketChannel;

/**
 * The I/O transport the server runs on: epoll when asked for and available, else NIO.
 *
 * @param name           "epoll" or "nio", for the log
 * @param ioHandlers     what the event loop group runs
 * @param serverChannel  the matching server channel class
 * @param reason         why NIO was chosen ("" for epoll)
 */
record Transport(String name, IoHandlerFactory ioHandlers, Class<? extends ServerChannel> serverChannel,
                 String reason) {

    static Transport choose(boolean nativeWanted) {
        if (!nativeWanted) {
            return nio("native.transport is false");
        }
        try {
            // EpollTransport is the only class touching io.netty.channel.epoll, which the bundle imports optionally
            Transport epoll = EpollTransport.ifAvailable();
            if (epoll != null) {
                return epoll;
            }
            return nio("epoll is unavailable: " + EpollTransport.unavailabilityCause());
        } catch (LinkageError e) {
            return nio("the netty epoll classes are not installed (" + e + ")");
        }
    }

    private static Transport nio(String reason) {
        return new Transport("nio", NioIoHandler.newFactory(), NioServerSocketChannel.class, reason);
    }
}
