package io.tollgate.endpoint.internal;

import io.tollgate.endpoint.keys.ApiKey;
import io.tollgate.endpoint.keys.ApiKeyHash;
import io.tollgate.endpoint.keys.ApiKeyRole;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.util.Locale;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one place that decides who may do what (bundles/endpoint/README.md, "Access"; decision 2026-11-30 in
 * docs/decisions.md). Asked from a request's headers ({@link AccessPrecheck}, so that a refused caller's body is never
 * buffered) and again by the router before the route runs. Stateless apart from the key set it reads; runs on the
 * event loop (one SHA-256 per check with a key, no I/O). Refusals are {@link RequestException}s that
 * {@link ErrorMapper} turns into 401, 403 or 503.
 *
 * <ol>
 * <li>Health ({@link Access#OPEN}) is always served: load balancers probe it without credentials.</li>
 * <li>No usable key file (unreadable at start): 503.</li>
 * <li>Protected mode (no key configured): clients on this box (127.0.0.0/8, ::1) are served as tenant
 * {@code default} with every right; any other client gets 403 saying how to add a key.</li>
 * <li>Keys configured: the caller is the key of {@code Authorization: Bearer <key>}, else the entry bound to its TLS
 * client certificate; none (or an unknown, wrong or revoked one) is 401, except {@code /metrics} from loopback
 * without credentials. A presented key is always checked, never ignored.</li>
 * <li>The caller's role must allow the route, and a key limited to models must name the route's model: else 403.</li>
 * </ol>
 * The tenant of the caller is the tenant of the key; nothing in the request can change it.
 */
final class AccessGuard {
    private static final Logger LOG = LoggerFactory.getLogger(AccessGuard.class);
    /** The tenant of requests served without a key (protected mode, loopback {@code /metrics}). */
    static final String DEFAULT_TENANT = "default";
    static final String CHALLENGE = "Bearer realm=\"tollgate\"";
    static final String CHALLENGE_INVALID = "Bearer realm=\"tollgate\", error=\"invalid_token\"";
    private static final String ADD_KEY = "bin/tollgate keys add --tenant TENANT --role infer";

    /** What a route needs. */
    enum Access {
        /** Health: everyone. */
        OPEN(null),
        /** Inference, server and model metadata, model readiness. */
        INFER("the infer or admin role"),
        /** {@code /admin/*} and {@code POST /v2/repository/*}. */
        ADMIN("the admin role"),
        /** {@code /metrics}: the metrics or admin role, or a loopback client. */
        METRICS("the metrics or admin role"),
        /** A path with no route: any authenticated caller (then 404). */
        ANY("an API key");

        private final String needs;

        Access(String needs) {
            this.needs = needs;
        }

        boolean allows(ApiKeyRole role) {
            return switch (this) {
                case OPEN, ANY -> true;
                case INFER -> role == ApiKeyRole.INFER || role == ApiKeyRole.ADMIN;
                case ADMIN -> role == ApiKeyRole.ADMIN;
                case METRICS -> role == ApiKeyRole.METRICS || role == ApiKeyRole.ADMIN;
            };
        }
    }

    /**
     * Who a request is from.
     *
     * @param tenant who is billed for it
     * @param keyId  the key file entry that authenticated it, or null (health, protected mode, loopback metrics)
     */
    record Caller(String tenant, String keyId) {
        static final Caller ANONYMOUS = new Caller(DEFAULT_TENANT, null);
    }

    private final Supplier<KeySet> keys;

    AccessGuard(Supplier<KeySet> keys) {
        this.keys = keys;
    }

    /**
     * @param access        what the route needs
     * @param model         the model the route names, or null
     * @param line          "GET /admin/plugins", for messages
     * @param remote        the TCP peer
     * @param authorization the Authorization header, or null
     * @param certSha256    SHA-256 of the verified TLS client certificate, or null
     * @throws RequestException UNAUTHORIZED, FORBIDDEN or KEYS_UNREADABLE, saying what is missing
     */
    Caller check(Access access, String model, String line, SocketAddress remote, String authorization,
                 String certSha256) throws RequestException {
        if (access == Access.OPEN) {
            return Caller.ANONYMOUS;
        }
        KeySet set = keys.get();
        if (set.problem() != null) {
            throw new RequestException(RequestException.Kind.KEYS_UNREADABLE, "the appliance cannot read its API keys ("
                    + set.problem() + "); every request except /v2/health is refused until the key file is fixed");
        }
        boolean local = loopback(remote);
        if (set.protectedMode() && !local) {
            refused(line, remote, null, "protected mode");
            throw RequestException.forbidden("this appliance has no API key yet, so it serves only clients on the box "
                    + "itself over loopback (localhost, 127.0.0.0/8, ::1: protected mode); on the appliance run '"
                    + ADD_KEY + "' and send the key it prints as 'Authorization: Bearer <key>'");
        }
        ApiKey key = credential(set, line, remote, authorization, certSha256);
        if (key == null) {
            if (set.protectedMode() || access == Access.METRICS && local) {
                return Caller.ANONYMOUS;
            }
            refused(line, remote, null, "no credentials");
            String cert = certSha256 == null ? "" : "; the client certificate (sha256 " + certSha256
                    + ") is bound to no key";
            throw RequestException.unauthorized(line + " needs an API key with " + access.needs + ": send "
                    + "'Authorization: Bearer <key>' (on the appliance, '" + ADD_KEY.replace("infer", roleFor(access))
                    + "' prints one)" + cert, CHALLENGE);
        }
        if (!access.allows(key.role())) {
            refused(line, remote, key.id(), "role " + key.role().label());
            throw RequestException.forbidden("API key " + key.id() + " has the " + key.role().label() + " role; "
                    + line + " needs " + access.needs);
        }
        if (model != null && !key.allowsModel(model)) {
            refused(line, remote, key.id(), "model " + model);
            throw RequestException.forbidden("API key " + key.id() + " may use only the models " + key.models()
                    + ", not '" + model + "'");
        }
        return new Caller(key.tenant(), key.id());
    }

    /**
     * Whether {@code caller} may see {@code model}: a key limited to models sees only those (e.g. in the statistics
     * of every model); a caller without a key (protected mode, loopback) sees every model.
     */
    boolean mayUse(Caller caller, String model) {
        if (caller.keyId() == null) {
            return true;
        }
        ApiKey key = keys.get().byId(caller.keyId());
        return key != null && key.allowsModel(model);
    }

    /** The entry the request authenticates as, or null when it presents nothing. */
    private ApiKey credential(KeySet set, String line, SocketAddress remote, String authorization, String certSha256)
            throws RequestException {
        if (authorization != null) {
            String presented = bearer(authorization);
            String id;
            try {
                id = ApiKeyHash.idOf(presented);
            } catch (IllegalArgumentException e) {
                refused(line, remote, null, "not a key");
                throw RequestException.unauthorized(e.getMessage(), CHALLENGE_INVALID);
            }
            ApiKey key = set.byId(id);
            // unknown id and wrong secret read alike; only the holder of the right secret learns of a revocation
            if (key == null || key.keySha256() == null || !ApiKeyHash.matches(key.keySha256(), ApiKeyHash.ofKey(presented))) {
                refused(line, remote, id, "unknown key");
                throw RequestException.unauthorized("API key " + id + " is not valid on this appliance (bin/tollgate "
                        + "keys list shows the keys there are)", CHALLENGE_INVALID);
            }
            if (!key.active()) {
                refused(line, remote, id, "revoked");
                throw RequestException.unauthorized("API key " + id + " was revoked at " + key.revoked()
                        + "; ask for a new one", CHALLENGE_INVALID);
            }
            return key;
        }
        if (certSha256 != null) {
            ApiKey key = set.byCertificate(certSha256);
            if (key != null && !key.active()) {
                refused(line, remote, key.id(), "revoked certificate");
                throw RequestException.unauthorized("the client certificate (sha256 " + certSha256 + ") was bound to "
                        + "entry " + key.id() + ", revoked at " + key.revoked(), CHALLENGE);
            }
            return key;
        }
        return null;
    }

    /** The token of a {@code Bearer} Authorization header. */
    private static String bearer(String authorization) throws RequestException {
        String h = authorization.trim();
        int space = h.indexOf(' ');
        String scheme = space < 0 ? h : h.substring(0, space);
        if (space < 0 || !"bearer".equals(scheme.toLowerCase(Locale.ROOT))) {
            throw RequestException.unauthorized("the Authorization header must be 'Bearer <key>' with a Tollgate API "
                    + "key" + (scheme.isEmpty() || space < 0 ? "" : "; its scheme is '" + printable(scheme) + "'"),
                    CHALLENGE_INVALID);
        }
        return h.substring(space + 1).trim();
    }

    /** A scheme as the client sent it, at most 20 printable ASCII characters (never a credential). */
    private static String printable(String s) {
        String t = s.length() > 20 ? s.substring(0, 20) + "..." : s;
        return t.replaceAll("[^\\x21-\\x7e]", "?");
    }

    private static String roleFor(Access access) {
        return switch (access) {
            case ADMIN -> "admin";
            case METRICS -> "metrics";
            default -> "infer";
        };
    }

    private static void refused(String line, SocketAddress remote, String keyId, String why) {
        // DEBUG: a client retrying with a bad key must not be able to fill the log; never the key itself
        if (LOG.isDebugEnabled()) {
            LOG.debug("{} from {} refused ({}{})", line, remote, why, keyId == null ? "" : ", key " + keyId);
        }
    }

    /** Whether the peer is on this box: 127.0.0.0/8, ::1, or an IPv4-mapped 127.x address. */
    static boolean loopback(SocketAddress remote) {
        if (!(remote instanceof InetSocketAddress inet) || inet.getAddress() == null) {
            return false;  // unresolved or not IP (e.g. a test channel): never trusted as local
        }
        InetAddress a = inet.getAddress();
        if (a.isLoopbackAddress()) {
            return true;
        }
        if (a instanceof Inet6Address) {
            byte[] b = a.getAddress();
            for (int i = 0; i < 10; i++) {
                if (b[i] != 0) {
                    return false;
                }
            }
            return (b[10] & 0xff) == 0xff && (b[11] & 0xff) == 0xff && b[12] == 127;
        }
        return false;
    }
}
