package io.tollgate.endpoint.internal;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertNull;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

import io.tollgate.endpoint.internal.AccessGuard.Access;
import io.tollgate.endpoint.internal.AccessGuard.Caller;
import io.tollgate.endpoint.keys.ApiKey;
import io.tollgate.endpoint.keys.ApiKeyFile;
import io.tollgate.endpoint.keys.ApiKeyRole;
import io.tollgate.endpoint.keys.NewApiKey;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.junit.BeforeClass;
import org.junit.ClassRule;
import org.junit.Test;
import org.junit.rules.TemporaryFolder;

/**
 * The access decision table ({@link AccessGuard}): protected mode and keys, loopback and remote peers, every role on
 * every route kind, model-limited, revoked and malformed keys, client certificates, an unreadable key file. Keys are
 * real ones from a real key file ({@link ApiKeyFile#add}).
 */
public class AccessGuardTest {
    @ClassRule
    public static final TemporaryFolder TMP = new TemporaryFolder();

    private static final String LINE = "POST /v2/models/echo/infer";
    private static final String CERT = "ab".repeat(32);
    private static final String REVOKED_CERT = "cd".repeat(32);
    private static NewApiKey infer;
    private static NewApiKey admin;
    private static NewApiKey metrics;
    private static NewApiKey limited;
    private static NewApiKey revoked;
    private static KeySet keys;

    @BeforeClass
    public static void makeKeys() throws Exception {
        ApiKeyFile file = ApiKeyFile.in(TMP.getRoot().toPath());
        infer = file.add("acme", ApiKeyRole.INFER, List.of(), "camera");
        admin = file.add("ops", ApiKeyRole.ADMIN, List.of(), "");
        metrics = file.add("monitoring", ApiKeyRole.METRICS, List.of(), "");
        limited = file.add("globex", ApiKeyRole.INFER, List.of("echo"), "");
        revoked = file.add("acme", ApiKeyRole.INFER, List.of(), "old");
        file.revoke(revoked.entry().id());
        List<ApiKey> all = new ArrayList<>(file.read());
        all.add(new ApiKey("0000000000c1", "initech", ApiKeyRole.INFER, List.of(), "cert", Instant.now(), null, null,
                CERT));
        all.add(new ApiKey("0000000000c2", "initech", ApiKeyRole.INFER, List.of(), "old cert", Instant.now(),
                Instant.now(), null, REVOKED_CERT));
        keys = KeySet.of(all);
    }

    private static SocketAddress peer(String ip) throws Exception {
        return new InetSocketAddress(InetAddress.getByName(ip), 40000);
    }

    private static Caller check(KeySet set, Access access, String model, String ip, String authorization)
            throws Exception {
        return check(set, access, model, peer(ip), authorization, null);
    }

    private static Caller check(KeySet set, Access access, String model, SocketAddress peer, String authorization,
                                String cert) throws Exception {
        return new AccessGuard(() -> set).check(access, model, LINE, peer, authorization, cert);
    }

    private static RequestException refused(KeySet set, Access access, String model, String ip, String authorization,
                                            RequestException.Kind kind) throws Exception {
        return refused(set, access, model, peer(ip), authorization, null, kind);
    }

    private static RequestException refused(KeySet set, Access access, String model, SocketAddress peer,
                                            String authorization, String cert, RequestException.Kind kind) {
        try {
            Caller c = check(set, access, model, peer, authorization, cert);
            fail(access + " from " + peer + " was let through as " + c + "; expected " + kind);
            return null;
        } catch (RequestException e) {
            assertEquals(e.getMessage(), kind, e.kind());
            String token = authorization == null ? "" : authorization.trim().replaceFirst("^\\S+\\s+", "");
            if (token.length() >= 10) {
                // a presented key is never repeated back (it would land in client logs)
                assertFalse(e.getMessage(), e.getMessage().contains(token));
            }
            return e;
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }

    private static String bearer(NewApiKey k) {
        return "Bearer " + k.key();
    }

    @Test
    public void healthIsOpenInEveryModeToEveryone() throws Exception {
        for (KeySet set : List.of(KeySet.NONE, keys, KeySet.unreadable("broken"))) {
            for (String ip : List.of("127.0.0.1", "10.1.2.3")) {
                Caller c = check(set, Access.OPEN, null, ip, "Bearer nonsense");
                assertEquals("default", c.tenant());
                assertNull(c.keyId());
            }
        }
    }

    @Test
    public void protectedModeServesLoopbackAsTheDefaultTenantWithEveryRight() throws Exception {
        for (String ip : List.of("127.0.0.1", "127.8.9.10", "::1", "::ffff:127.0.0.1")) {
            for (Access a : Access.values()) {
                Caller c = check(KeySet.NONE, a, "echo", ip, null);
                assertEquals(ip + " " + a, Caller.ANONYMOUS, c);
            }
        }
    }

    @Test
    public void protectedModeRefusesRemoteClientsSayingHowToAddAKey() throws Exception {
        for (String ip : List.of("10.1.2.3", "192.168.1.20", "fe80::1", "2001:db8::7", "::ffff:10.0.0.1")) {
            for (Access a : List.of(Access.INFER, Access.ADMIN, Access.METRICS, Access.ANY)) {
                RequestException e = refused(KeySet.NONE, a, "echo", ip, null, RequestException.Kind.FORBIDDEN);
                assertTrue(e.getMessage(), e.getMessage().contains("protected mode"));
                assertTrue(e.getMessage(), e.getMessage().contains("bin/tollgate keys add --tenant TENANT --role infer"));
                assertTrue(e.getMessage(), e.getMessage().contains("Authorization: Bearer <key>"));
            }
        }
        // an address that is not IP (a test channel, an unresolved name) is never taken for a local one
        refused(KeySet.NONE, Access.INFER, null, InetSocketAddress.createUnresolved("localhost", 1), null, null,
                RequestException.Kind.FORBIDDEN);
    }

    @Test
    public void aPresentedKeyIsAlwaysCheckedEvenInProtectedMode() throws Exception {
        RequestException e = refused(KeySet.NONE, Access.INFER, "echo", "127.0.0.1", bearer(infer),
                RequestException.Kind.UNAUTHORIZED);
        assertTrue(e.getMessage(), e.getMessage().contains("not valid on this appliance"));
        assertEquals(AccessGuard.CHALLENGE_INVALID, e.challenge());
    }

    @Test
    public void withKeysEveryClientNeedsOneLoopbackIncluded() throws Exception {
        for (String ip : List.of("127.0.0.1", "::1", "10.1.2.3")) {
            for (Access a : List.of(Access.INFER, Access.ADMIN, Access.ANY)) {
                RequestException e = refused(keys, a, "echo", ip, null, RequestException.Kind.UNAUTHORIZED);
                assertEquals(AccessGuard.CHALLENGE, e.challenge());
                assertTrue(e.getMessage(), e.getMessage().startsWith(LINE + " needs an API key with "));
                assertTrue(e.getMessage(), e.getMessage().contains("Authorization: Bearer <key>"));
            }
        }
        RequestException e = refused(keys, Access.ADMIN, null, "10.1.2.3", null, RequestException.Kind.UNAUTHORIZED);
        assertTrue(e.getMessage(), e.getMessage().contains("the admin role"));
        assertTrue(e.getMessage(), e.getMessage().contains("--role admin"));
    }

    @Test
    public void metricsFromLoopbackNeedNoKeyButFromElsewhereDo() throws Exception {
        assertEquals(Caller.ANONYMOUS, check(keys, Access.METRICS, null, "127.0.0.1", null));
        assertEquals(Caller.ANONYMOUS, check(keys, Access.METRICS, null, "::1", null));
        RequestException e = refused(keys, Access.METRICS, null, "10.1.2.3", null, RequestException.Kind.UNAUTHORIZED);
        assertTrue(e.getMessage(), e.getMessage().contains("the metrics or admin role"));
        // a wrong key from loopback is still refused: a presented key is never ignored
        refused(keys, Access.METRICS, null, "127.0.0.1", "Bearer tgk_000000000000_" + "A".repeat(43),
                RequestException.Kind.UNAUTHORIZED);
    }

    @Test
    public void everyRoleOnEveryRouteKind() throws Exception {
        // role -> route kinds it may use; every other pair is 403
        Object[][] table = {
            {infer, List.of(Access.INFER, Access.ANY)},
            {admin, List.of(Access.INFER, Access.ADMIN, Access.METRICS, Access.ANY)},
            {metrics, List.of(Access.METRICS, Access.ANY)},
        };
        for (Object[] row : table) {
            NewApiKey k = (NewApiKey) row[0];
            @SuppressWarnings("unchecked")
            List<Access> allowed = (List<Access>) row[1];
            for (Access a : List.of(Access.INFER, Access.ADMIN, Access.METRICS, Access.ANY)) {
                for (String ip : List.of("127.0.0.1", "10.1.2.3")) {
                    if (allowed.contains(a)) {
                        Caller c = check(keys, a, "echo", ip, bearer(k));
                        assertEquals(k.entry().tenant(), c.tenant());
                        assertEquals(k.entry().id(), c.keyId());
                    } else {
                        RequestException e = refused(keys, a, "echo", ip, bearer(k), RequestException.Kind.FORBIDDEN);
                        assertTrue(e.getMessage(), e.getMessage().contains("API key " + k.entry().id() + " has the "
                                + k.entry().role().label() + " role"));
                        assertTrue(e.getMessage(), e.getMessage().contains(" needs the "));
                    }
                }
            }
        }
    }

    @Test
    public void aKeyLimitedToModelsIsRefusedOtherModels() throws Exception {
        assertEquals("globex", check(keys, Access.INFER, "echo", "10.1.2.3", bearer(limited)).tenant());
        assertEquals("globex", check(keys, Access.INFER, null, "10.1.2.3", bearer(limited)).tenant()); // GET /v2
        RequestException e = refused(keys, Access.INFER, "classifier", "10.1.2.3", bearer(limited),
                RequestException.Kind.FORBIDDEN);
        assertEquals("API key " + limited.entry().id() + " may use only the models [echo], not 'classifier'",
                e.getMessage());
        // unlimited keys may use any model
        assertEquals("acme", check(keys, Access.INFER, "classifier", "10.1.2.3", bearer(infer)).tenant());
    }

    @Test
    public void aRevokedKeyIs401AndOnlyItsHolderLearnsItWasRevoked() throws Exception {
        RequestException e = refused(keys, Access.INFER, "echo", "10.1.2.3", bearer(revoked),
                RequestException.Kind.UNAUTHORIZED);
        assertTrue(e.getMessage(), e.getMessage().contains("API key " + revoked.entry().id() + " was revoked at "));
        assertEquals(AccessGuard.CHALLENGE_INVALID, e.challenge());
        // the revoked id with a wrong secret reads like any unknown key
        String forged = "Bearer tgk_" + revoked.entry().id() + "_" + "B".repeat(43);
        e = refused(keys, Access.INFER, "echo", "10.1.2.3", forged, RequestException.Kind.UNAUTHORIZED);
        assertEquals("API key " + revoked.entry().id() + " is not valid on this appliance (bin/tollgate keys list "
                + "shows the keys there are)", e.getMessage());
    }

    @Test
    public void malformedAuthorizationHeadersAre401() throws Exception {
        String id = infer.entry().id();
        String secret = infer.key().substring(("tgk_" + id + "_").length());
        List<String> bad = new java.util.ArrayList<>(List.of(
                "Basic dXNlcjpwYXNz",                       // another scheme
                "Bearer",                                   // no token
                "Bearer    ",
                infer.key(),                                // no scheme
                "Bearer not-a-key",
                "Bearer tgk_" + id,                         // truncated
                "Bearer tgk_" + id + "_" + secret + "x",    // too long
                "Bearer tgk_" + id + "_" + secret.substring(1) + "A",  // right id, wrong secret
                "Bearer tgk_0123456789ab_" + secret));      // unknown id
        if (!id.toUpperCase().equals(id)) {
            // ids are lower-case hex; an id of digits only (about 1 in 280) has no upper-case form to refuse
            bad.add("Bearer tgk_" + id.toUpperCase() + "_" + secret);
        }
        for (String h : bad) {
            RequestException e = refused(keys, Access.INFER, "echo", "10.1.2.3", h, RequestException.Kind.UNAUTHORIZED);
            assertEquals(h, AccessGuard.CHALLENGE_INVALID, e.challenge());
            assertFalse(h + " -> " + e.getMessage(), e.getMessage().contains(secret));
        }
        assertTrue(refused(keys, Access.INFER, "echo", "10.1.2.3", "Basic dXNlcjpwYXNz",
                RequestException.Kind.UNAUTHORIZED).getMessage().contains("its scheme is 'Basic'"));
        // the scheme is case-insensitive (RFC 7235) and surrounding spaces are tolerated
        assertEquals("acme", check(keys, Access.INFER, "echo", "10.1.2.3", "bearer " + infer.key()).tenant());
        assertEquals("acme", check(keys, Access.INFER, "echo", "10.1.2.3", "  BEARER  " + infer.key() + " ").tenant());
    }

    @Test
    public void revokedEntriesAloneKeepTheBoxOutOfProtectedMode() throws Exception {
        List<ApiKey> onlyRevoked = List.of(keys.byId(revoked.entry().id()));
        KeySet set = KeySet.of(onlyRevoked);
        assertFalse(set.protectedMode());
        refused(set, Access.INFER, "echo", "127.0.0.1", null, RequestException.Kind.UNAUTHORIZED);
    }

    @Test
    public void anUnreadableKeyFileRefusesAllButHealth() throws Exception {
        KeySet broken = KeySet.unreadable("/etc/tollgate/api-keys.json is not a valid API key file: it is not JSON");
        for (Access a : List.of(Access.INFER, Access.ADMIN, Access.METRICS, Access.ANY)) {
            for (String ip : List.of("127.0.0.1", "10.1.2.3")) {
                RequestException e = refused(broken, a, "echo", ip, bearer(admin), RequestException.Kind.KEYS_UNREADABLE);
                assertTrue(e.getMessage(), e.getMessage().contains("it is not JSON"));
            }
        }
    }

    @Test
    public void aClientCertificateBoundToAnEntryIsThatEntrysCaller() throws Exception {
        Caller c = check(keys, Access.INFER, "echo", peer("10.1.2.3"), null, CERT);
        assertEquals(new Caller("initech", "0000000000c1"), c);
        // a bearer key, when sent too, is the caller
        assertEquals("acme", check(keys, Access.INFER, "echo", peer("10.1.2.3"), bearer(infer), CERT).tenant());
        RequestException e = refused(keys, Access.INFER, "echo", peer("10.1.2.3"), null, REVOKED_CERT,
                RequestException.Kind.UNAUTHORIZED);
        assertTrue(e.getMessage(), e.getMessage().contains("revoked at"));
        e = refused(keys, Access.INFER, "echo", peer("10.1.2.3"), null, "ef".repeat(32),
                RequestException.Kind.UNAUTHORIZED);
        assertTrue(e.getMessage(), e.getMessage().contains("the client certificate (sha256 " + "ef".repeat(32)
                + ") is bound to no key"));
        // a certificate gives no more than its entry's role
        refused(keys, Access.ADMIN, null, peer("10.1.2.3"), null, CERT, RequestException.Kind.FORBIDDEN);
    }

    @Test
    public void loopbackIsOnly127SlashEightAndColonColonOne() throws Exception {
        for (String ip : List.of("127.0.0.1", "127.255.255.254", "::1", "::ffff:127.1.2.3")) {
            assertTrue(ip, AccessGuard.loopback(peer(ip)));
        }
        for (String ip : List.of("0.0.0.0", "10.0.0.1", "128.0.0.1", "::", "::2", "fe80::1", "::ffff:10.0.0.1",
                "::127.0.0.1")) {
            assertFalse(ip, AccessGuard.loopback(peer(ip)));
        }
        assertFalse(AccessGuard.loopback(null));
        assertFalse(AccessGuard.loopback(new SocketAddress() { }));
    }
}
