package io.tollgate.endpoint.internal;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertTrue;
import static org.junit.Assume.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.tollgate.endpoint.keys.ApiKeyFile;
import io.tollgate.endpoint.keys.ApiKeyRole;
import io.tollgate.endpoint.keys.NewApiKey;
import io.tollgate.endpoint.testing.LocalAddresses;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.function.Predicate;
import org.junit.After;
import org.junit.Before;
import org.junit.Rule;
import org.junit.Test;
import org.junit.rules.TemporaryFolder;

/**
 * API keys and protected mode on the real endpoint, over real sockets: 401 and 403 bodies and headers, the tenant
 * taken from the key and nothing else, the key file reloaded without a restart (added, revoked, broken, fixed), a
 * client arriving from a non-loopback address.
 */
public class EndpointAuthTest {
    private static final String INFER_BODY = "{\"id\":\"auth-1\",\"parameters\":{\"tenant\":\"evil\"},\"inputs\":[{"
            + "\"name\":\"x\",\"datatype\":\"FP32\",\"shape\":[1,4],\"data\":[1,2,3,4]}]}";

    @Rule
    public final TemporaryFolder tmp = new TemporaryFolder();

    private Path keyFile;
    private ApiKeyFile keys;
    private TestServer server;

    @Before
    public void setUp() {
        keyFile = tmp.getRoot().toPath().resolve("conf/api-keys.json");
        keys = ApiKeyFile.at(keyFile);
    }

    @After
    public void tearDown() throws Exception {
        if (server != null) {
            server.close();
        }
    }

    private TestServer start(String host) {
        TestConfig c = new TestConfig();
        c.host = host;
        c.keysFile = keyFile.toString();
        c.keysPollMs = 20;
        server = new TestServer(c);
        return server;
    }

    private HttpResponse<String> send(String method, String path, String body, String... headers) throws Exception {
        return send(server.uri(path), method, body, headers);
    }

    private HttpResponse<String> send(URI uri, String method, String body, String... headers) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(10))
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody()
                        : HttpRequest.BodyPublishers.ofString(body));
        if (headers.length > 0) {
            b.headers(headers);
        }
        return server.client.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    private static String bearer(NewApiKey k) {
        return "Bearer " + k.key();
    }

    private static JsonNode assertError(HttpResponse<String> r, int status, String part) throws Exception {
        assertEquals(r.body(), status, r.statusCode());
        assertEquals("application/json", r.headers().firstValue("content-type").orElse(""));
        JsonNode body = TestServer.json(r);
        assertTrue(r.body(), body.get("error").asText().contains(part));
        assertFalse(r.body(), body.get("id").asText().isEmpty());
        return body;
    }

    /** Polls until {@code ok} holds for GET {@code path} (the key file is polled every 20 ms). */
    private HttpResponse<String> await(String path, Predicate<HttpResponse<String>> ok, String... headers)
            throws Exception {
        long end = System.currentTimeMillis() + 10_000;
        HttpResponse<String> r;
        do {
            r = send("GET", path, null, headers);
            if (ok.test(r)) {
                return r;
            }
            Thread.sleep(20);
        } while (System.currentTimeMillis() < end);
        throw new AssertionError("GET " + path + " still answers " + r.statusCode() + " " + r.body());
    }

    @Test
    public void withoutKeysLoopbackIsServedAsTheDefaultTenant() throws Exception {
        start("127.0.0.1");
        assertEquals(200, send("POST", "/v2/models/echo/infer", INFER_BODY).statusCode());
        assertEquals("default", server.service.last.tenant());
        assertEquals(200, send("GET", "/admin/plugins", null).statusCode());
        assertEquals(200, send("GET", "/metrics", null).statusCode());
        assertEquals(200, send("POST", "/v2/repository/index", "").statusCode());
    }

    @Test
    public void withKeysARequestWithoutOneIs401WithAChallengeAndSaysWhatIsMissing() throws Exception {
        keys.add("acme", ApiKeyRole.INFER, List.of(), "");
        start("127.0.0.1");
        HttpResponse<String> r = send("POST", "/v2/models/echo/infer", INFER_BODY);
        JsonNode body = assertError(r, 401, "POST /v2/models/echo/infer needs an API key with the infer or admin role: "
                + "send 'Authorization: Bearer <key>'");
        assertEquals("Bearer realm=\"tollgate\"", r.headers().firstValue("www-authenticate").orElse(""));
        assertEquals(0, server.service.calls.get());
        assertEquals(2, body.size());  // {"error","id"}: Triton's shape plus the request id
        // a wrong key: invalid_token
        r = send("GET", "/v2/models/echo", null, "Authorization", "Bearer tgk_000000000000_" + "x".repeat(43));
        assertError(r, 401, "API key 000000000000 is not valid on this appliance");
        assertEquals("Bearer realm=\"tollgate\", error=\"invalid_token\"",
                r.headers().firstValue("www-authenticate").orElse(""));
        assertError(send("GET", "/v2/models/echo", null, "Authorization", "Basic dXNlcjpwYXNz"), 401,
                "must be 'Bearer <key>'");
        // unknown routes and wrong methods are answered only to callers with a key
        assertError(send("GET", "/nowhere", null), 401, "needs an API key");
        // health stays open
        assertEquals(200, send("GET", "/v2/health/live", null).statusCode());
        assertEquals(200, send("GET", "/v2/health/ready", null).statusCode());
        // and /metrics from this box needs no key
        assertEquals(200, send("GET", "/metrics", null).statusCode());
    }

    @Test
    public void anInferKeyMayNotUseAdminRoutesNorOtherModelsThanItsOwn() throws Exception {
        NewApiKey infer = keys.add("acme", ApiKeyRole.INFER, List.of("echo"), "camera");
        NewApiKey admin = keys.add("ops", ApiKeyRole.ADMIN, List.of(), "");
        NewApiKey metrics = keys.add("mon", ApiKeyRole.METRICS, List.of(), "");
        start("127.0.0.1");
        String id = infer.entry().id();
        assertError(send("GET", "/admin/plugins", null, "Authorization", bearer(infer)), 403,
                "API key " + id + " has the infer role; GET /admin/plugins needs the admin role");
        assertError(send("POST", "/v2/repository/index", "", "Authorization", bearer(infer)), 403, "admin role");
        assertError(send("GET", "/admin/licenses", null, "Authorization", bearer(infer)), 403,
                "API key " + id + " has the infer role; GET /admin/licenses needs the admin role");
        assertError(send("POST", "/admin/licenses", "{}", "Authorization", bearer(infer)), 403,
                "API key " + id + " has the infer role; POST /admin/licenses needs the admin role");
        assertError(send("DELETE", "/admin/licenses", null, "Authorization", bearer(admin)), 405, "DELETE");
        assertError(send("POST", "/v2/repository/models/echo/unload", "", "Authorization", bearer(infer)), 403,
                "admin role");
        assertError(send("GET", "/metrics", null, "Authorization", bearer(infer)), 403, "the metrics or admin role");
        for (String path : List.of("/v2/models/classifier", "/v2/models/classifier/ready",
                "/v2/models/classifier/versions/1.0.0")) {
            assertError(send("GET", path, null, "Authorization", bearer(infer)), 403,
                    "API key " + id + " may use only the models [echo], not 'classifier'");
        }
        assertError(send("POST", "/v2/models/classifier/infer", INFER_BODY, "Authorization", bearer(infer)), 403,
                "not 'classifier'");
        assertEquals(0, server.service.calls.get());
        assertEquals(200, send("GET", "/v2/models/echo", null, "Authorization", bearer(infer)).statusCode());
        assertEquals(200, send("GET", "/v2", null, "Authorization", bearer(infer)).statusCode());
        assertEquals(200, send("POST", "/v2/models/echo/infer", INFER_BODY, "Authorization", bearer(infer))
                .statusCode());
        // admin may do everything; metrics only /metrics
        assertEquals(200, send("GET", "/admin/plugins", null, "Authorization", bearer(admin)).statusCode());
        assertEquals(200, send("GET", "/metrics", null, "Authorization", bearer(admin)).statusCode());
        assertEquals(200, send("POST", "/v2/models/classifier/infer", "{\"inputs\":[{\"name\":\"probs\","
                + "\"datatype\":\"FP32\",\"shape\":[1,4],\"data\":[1,2,3,4]}]}", "Authorization", bearer(admin))
                .statusCode());
        assertEquals("ops", server.service.last.tenant());
        assertEquals(200, send("GET", "/metrics", null, "Authorization", bearer(metrics)).statusCode());
        assertError(send("GET", "/v2/models/echo", null, "Authorization", bearer(metrics)), 403,
                "has the metrics role");
        // 401/403 are counted like any other answer
        String text = send("GET", "/metrics", null, "Authorization", bearer(admin)).body();
        assertTrue(text, text.contains("tollgate_http_responses_total{code=\"403\"}"));
    }

    @Test
    public void theTenantIsTheKeysWhateverTheRequestSays() throws Exception {
        NewApiKey acme = keys.add("acme", ApiKeyRole.INFER, List.of(), "");
        start("127.0.0.1");
        HttpResponse<String> r = send("POST", "/v2/models/echo/infer", INFER_BODY, "Authorization", bearer(acme),
                "X-Tenant", "evil", "Tenant", "evil", "X-Forwarded-For", "10.9.9.9");
        assertEquals(r.body(), 200, r.statusCode());
        assertEquals("acme", server.service.last.tenant());
        assertEquals("evil", server.service.last.parameters().get("tenant")); // passed through, never billed
    }

    @Test
    public void theKeyFileIsReloadedWithoutARestart() throws Exception {
        start("127.0.0.1");
        assertEquals(200, send("GET", "/v2/models/echo", null).statusCode()); // protected mode, loopback
        NewApiKey k = keys.add("acme", ApiKeyRole.INFER, List.of(), "");
        // once a key exists, loopback needs one too
        await("/v2/models/echo", r -> r.statusCode() == 401);
        assertEquals(200, send("GET", "/v2/models/echo", null, "Authorization", bearer(k)).statusCode());
        keys.revoke(k.entry().id());
        HttpResponse<String> r = await("/v2/models/echo", x -> x.statusCode() == 401 && x.body().contains("revoked"),
                "Authorization", bearer(k));
        assertError(r, 401, "API key " + k.entry().id() + " was revoked at ");
        // revoking every key does not open the box again: loopback still needs a key
        assertEquals(401, send("GET", "/v2/models/echo", null).statusCode());
        // deleting the file returns to protected mode
        Files.delete(keyFile);
        await("/v2/models/echo", x -> x.statusCode() == 200);
    }

    @Test
    public void aBrokenKeyFileKeepsTheLastGoodKeysAndAFixedOneIsReadAgain() throws Exception {
        NewApiKey k = keys.add("acme", ApiKeyRole.INFER, List.of(), "");
        start("127.0.0.1");
        byte[] good = Files.readAllBytes(keyFile);
        NewApiKey other = ApiKeyFile.in(tmp.newFolder("other").toPath()).add("globex", ApiKeyRole.ADMIN, List.of(), "");
        replace(keyFile, Files.readAllBytes(ApiKeyFile.in(tmp.getRoot().toPath().resolve("other")).path()));
        await("/v2/models/echo", x -> x.statusCode() == 200, "Authorization", bearer(other));
        // now break it: the keys read last stay in force
        replace(keyFile, "not json".getBytes());
        Thread.sleep(200);
        assertEquals(200, send("GET", "/v2/models/echo", null, "Authorization", bearer(other)).statusCode());
        assertEquals(401, send("GET", "/v2/models/echo", null, "Authorization", bearer(k)).statusCode());
        assertEquals(401, send("GET", "/v2/models/echo", null).statusCode());
        replace(keyFile, good);
        await("/v2/models/echo", x -> x.statusCode() == 200, "Authorization", bearer(k));
    }

    @Test
    public void aKeyFileBrokenAtStartRefusesAllButHealthUntilItIsFixed() throws Exception {
        NewApiKey k = keys.add("acme", ApiKeyRole.INFER, List.of(), "");
        byte[] good = Files.readAllBytes(keyFile);
        replace(keyFile, "{\"format\":\"tollgate-api-keys/1\",\"keys\":[],\"extra\":1}".getBytes());
        start("127.0.0.1");
        assertError(send("GET", "/v2/models/echo", null, "Authorization", bearer(k)), 503,
                "the appliance cannot read its API keys (" + keyFile + " is not a valid API key file: unknown field "
                        + "\"extra\"");
        assertError(send("GET", "/v2/models/echo", null), 503, "cannot read its API keys");
        assertEquals(200, send("GET", "/v2/health/live", null).statusCode());
        replace(keyFile, good);
        await("/v2/models/echo", x -> x.statusCode() == 200, "Authorization", bearer(k));
    }

    @Test
    public void aKeyFileOthersMayWriteIsRefused() throws Exception {
        assumeTrue("POSIX permissions", FileSystems.getDefault().supportedFileAttributeViews().contains("posix"));
        NewApiKey k = keys.add("acme", ApiKeyRole.INFER, List.of(), "");
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(keyFile)));
        Files.setPosixFilePermissions(keyFile, PosixFilePermissions.fromString("rw-rw-rw-"));
        start("127.0.0.1");
        assertError(send("GET", "/v2/models/echo", null, "Authorization", bearer(k)), 503,
                "may be written by group or others (rw-rw-rw-), so anyone could add a key; chmod 600");
        Files.setPosixFilePermissions(keyFile, PosixFilePermissions.fromString("rw-------"));
        await("/v2/models/echo", x -> x.statusCode() == 200, "Authorization", bearer(k));
    }

    @Test
    public void aRemoteClientIsRefusedInProtectedModeAndServedWithAKey() throws Exception {
        Optional<InetAddress> address = LocalAddresses.nonLoopback();
        assumeTrue("this machine has no non-loopback IPv4 address to connect from", address.isPresent());
        start("0.0.0.0");
        String base = "http://" + address.get().getHostAddress() + ":" + server.port();
        HttpResponse<String> r = send(URI.create(base + "/v2/models/echo/infer"), "POST", INFER_BODY);
        assertError(r, 403, "this appliance has no API key yet, so it serves only clients on the box itself "
                + "over loopback (localhost, 127.0.0.0/8, ::1: protected mode); on the appliance run 'bin/tollgate"
                + " keys add --tenant TENANT --role infer'");
        assertEquals(0, server.service.calls.get());
        assertError(send(URI.create(base + "/metrics"), "GET", null), 403, "protected mode");
        assertError(send(URI.create(base + "/admin/plugins"), "GET", null), 403, "protected mode");
        assertEquals(200, send(URI.create(base + "/v2/health/ready"), "GET", null).statusCode());
        // loopback is served at the same time
        assertEquals(200, send("GET", "/v2/models/echo", null).statusCode());
        NewApiKey k = keys.add("acme", ApiKeyRole.INFER, List.of(), "");
        long end = System.currentTimeMillis() + 10_000;
        do {
            r = send(URI.create(base + "/v2/models/echo/infer"), "POST", INFER_BODY, "Authorization", bearer(k));
        } while (r.statusCode() != 200 && System.currentTimeMillis() < end && sleep());
        assertEquals(r.body(), 200, r.statusCode());
        assertEquals("acme", server.service.last.tenant());
        // and without the key, now 401 rather than protected mode's 403
        assertError(send(URI.create(base + "/metrics"), "GET", null), 401, "needs an API key");
    }

    @Test
    public void aRefusedCallersBodyIsNeverWaitedForNorBuffered() throws Exception {
        NewApiKey k = keys.add("acme", ApiKeyRole.INFER, List.of(), "");
        TestConfig c = new TestConfig();
        c.keysFile = keyFile.toString();
        c.maxBodyBytes = 64 << 20;
        server = new TestServer(c);
        for (String expect : List.of("", "Expect: 100-continue\r\n")) {
            try (Socket s = new Socket("127.0.0.1", server.port())) {
                s.setSoTimeout(3_000);   // far less than 60 MB would take to arrive: the answer must not wait for it
                OutputStream out = s.getOutputStream();
                out.write(("POST /v2/models/echo/infer HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                        + expect + "Content-Length: 60000000\r\n\r\n{\"inputs\":").getBytes(StandardCharsets.US_ASCII));
                out.flush();
                InputStream in = s.getInputStream();
                TestServer.RawResponse r = TestServer.readResponse(in);
                assertEquals(r.body(), 401, r.status());
                assertEquals("close", r.header("connection"));
                assertTrue(r.body(), r.body().contains("needs an API key"));
                assertEquals(-1, in.read());
            }
        }
        // a body-less refused request keeps its connection; the next request on it (with a key) is served
        try (Socket s = new Socket("127.0.0.1", server.port())) {
            s.setSoTimeout(3_000);
            OutputStream out = s.getOutputStream();
            out.write(("GET /admin/plugins HTTP/1.1\r\nHost: x\r\n\r\nGET /v2/models/echo HTTP/1.1\r\nHost: x\r\n"
                    + "Authorization: Bearer " + k.key() + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            out.flush();
            InputStream in = s.getInputStream();
            assertEquals(401, TestServer.readResponse(in).status());
            assertEquals(200, TestServer.readResponse(in).status());
        }
        assertEquals(0, server.service.calls.get());
    }

    private static boolean sleep() throws InterruptedException {
        Thread.sleep(20);
        return true;
    }

    /** Replaces a file the way the tools do (a rename), so the poller never sees half of it. */
    private static void replace(Path file, byte[] content) throws Exception {
        Path t = file.resolveSibling("replacement.tmp");
        Files.write(t, content);
        Files.setPosixFilePermissions(t, PosixFilePermissions.fromString("rw-------"));
        Files.move(t, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    }
}
