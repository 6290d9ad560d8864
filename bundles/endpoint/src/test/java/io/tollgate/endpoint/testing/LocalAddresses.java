package io.tollgate.endpoint.testing;

import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.NetworkInterface;
import java.net.SocketException;
import java.util.Collections;
import java.util.Optional;

/** Addresses of this machine, for tests that must reach the endpoint as a client from another host would. */
public final class LocalAddresses {
    private LocalAddresses() {
    }

    /**
     * An IPv4 address of an interface that is up and not loopback (a connection to it from this machine arrives
     * from that address, not from 127.0.0.1), or empty when the machine has none.
     */
    public static Optional<InetAddress> nonLoopback() {
        try {
            for (NetworkInterface ni : Collections.list(NetworkInterface.getNetworkInterfaces())) {
                if (!ni.isUp() || ni.isLoopback()) {
                    continue;
                }
                for (InetAddress a : Collections.list(ni.getInetAddresses())) {
                    if (a instanceof Inet4Address && !a.isLoopbackAddress() && !a.isLinkLocalAddress()
                            && !a.isAnyLocalAddress()) {
                        return Optional.of(a);
                    }
                }
            }
        } catch (SocketException e) {
            return Optional.empty();
        }
        return Optional.empty();
    }
}
