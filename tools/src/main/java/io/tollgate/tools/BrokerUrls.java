package io.tollgate.tools;

import java.net.InetAddress;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.UnknownHostException;
import java.util.Locale;

/**
 * Which broker URLs the sync bundle accepts, checked on the command line ({@code run --mqtt}, {@code device enroll
 * --mqtt}) so that a URL sync would refuse is one line and exit 2 before anything starts, not three failed
 * activations with stack traces.
 *
 * <p>The rule is bundles/sync's {@code UplinkOptions.from} ({@code broker.url}, {@code allow.plain}): ssl:// to any
 * host, tcp:// only to loopback unless {@code allow.plain=true}. It is repeated here because {@code run} builds its
 * command line with only {@code lib/} on the class path, without the bundles; change both together.
 */
public final class BrokerUrls {
    private BrokerUrls() {
    }

    /** Null when sync accepts {@code url}, else what is wrong, starting with the URL ("tcp://x:1883 is ..."). */
    public static String problem(String url, boolean allowPlain) {
        URI uri;
        try {
            uri = new URI(url);
        } catch (URISyntaxException e) {
            uri = null;
        }
        String scheme = uri == null || uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
        boolean bare = uri != null && (uri.getRawPath() == null || uri.getRawPath().isEmpty()) && uri.getRawQuery() == null
                && uri.getRawFragment() == null && uri.getUserInfo() == null;
        if (uri == null || uri.getHost() == null || !bare || !(scheme.equals("tcp") || scheme.equals("ssl"))) {
            return "must look like ssl://broker:8883 (or tcp://127.0.0.1:1883 on this box), not '" + url + "'";
        }
        if (uri.getPort() == 0 || uri.getPort() > 65535) {
            return url + " has port " + uri.getPort() + "; a port is 1 to 65535 (ssl://broker:8883)";
        }
        if (scheme.equals("tcp") && !allowPlain && !isLoopback(uri.getHost())) {
            return url + " is plain TCP to a host that is not loopback: usage records would cross the network "
                    + "unencrypted; use ssl://" + uri.getHost() + ":8883 (CA in tls.ca.file of conf/io.tollgate.sync.cfg), "
                    + "or set allow.plain=true there";
        }
        return null;
    }

    /** True for "localhost" and loopback IP literals; never asks DNS (as sync's UplinkOptions.isLoopback). */
    public static boolean isLoopback(String host) {
        String h = host.startsWith("[") && host.endsWith("]") ? host.substring(1, host.length() - 1) : host;
        if (h.equalsIgnoreCase("localhost")) {
            return true;
        }
        if (!h.contains(":") && !h.matches("[0-9.]+")) {
            return false;
        }
        try {
            return InetAddress.getByName(h).isLoopbackAddress();
        } catch (UnknownHostException e) {
            return false;
        }
    }
}
