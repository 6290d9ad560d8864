package io.tollgate.it;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;
import static org.junit.Assume.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.tollgate.endpoint.testing.LocalAddresses;
import io.tollgate.endpoint.testing.TestCa;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;
import javax.net.ssl.SSLContext;
import org.junit.After;
import org.junit.Before;
import org.junit.Test;

/**
 * Issue 9, "On the appliance": API keys, protected mode and TLS on the built distribution, driven the way an operator
 * drives it ({@code bin/tollgate keys ...}, {@code bin/tollgate run}, {@code usage export}), with the real Fashion-MNIST
 * plugin. Each test is an attack that worked before: a remote client using a fresh box, a caller without a key, an
 * infer key reading {@code /admin/plugins}, a request billed to the tenant it names, a revoked key still working,
 * plain HTTP where TLS was configured, a TLS client without the required certificate.
 */
public class EndpointAuthIT {
    private static final String DEBUG_OPTS = ApplianceProcess.JAVA_OPTS + " -Dtollgate.log.level.endpoint=debug";

    private Path tmp;
    private Path log;
    private Path conf;
    private Path data;
    private ApplianceProcess appliance;
    private final HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(5)).build();

    @Before
    public void setUp() throws IOException {
        tmp = Files.createTempDirectory("tollgate-auth-it");
        log = tmp.resolve("appliance.log");
        appliance = new ApplianceProcess(log);
        appliance.copyExamplePlugin(tmp.resolve("plugins"));
        data = tmp.resolve("data");
        // the distribution's own configuration, in a folder of this test's (the key file lives there)
        conf = tmp.resolve("conf");
        Files.createDirectories(conf);
        try (Stream<Path> files = Files.list(appliance.dist().resolve("conf"))) {
            for (Path f : files.filter(f -> f.getFileName().toString().endsWith(".cfg")).toList()) {
                Files.copy(f, conf.resolve(f.getFileName()));
            }
        }
    }

    @After
    public void tearDown() {
        appliance.killAll();
        ApplianceProcess.keepLogs(tmp, Path.of("target", "auth-it-logs"));
        ApplianceProcess.deleteTree(tmp);
    }

    private Process start(int port) throws Exception {
        Process p = appliance.run(port, data, tmp.resolve("plugins"), conf, Map.of("TOLLGATE_JAVA_OPTS", DEBUG_OPTS));
        appliance.awaitReady(p, port, 90_000);
        return p;
    }

    private HttpResponse<String> send(String url, String method, String body, String... headers) throws Exception {
        return send(client, url, method, body, headers);
    }

    private static HttpResponse<String> send(HttpClient c, String url, String method, String body, String... headers)
            throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(60))
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody()
                        : HttpRequest.BodyPublishers.ofString(body));
        if (body != null) {
            b.header("Content-Type", "application/json");
        }
        if (headers.length > 0) {
            b.headers(headers);
        }
        return c.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    private static String error(HttpResponse<String> r) throws IOException {
        return Http.JSON.readTree(r.body()).path("error").asText();
    }

    /** {@code bin/tollgate keys ARGS --conf CONF}, which must succeed. */
    private ApplianceProcess.Result keys(String... args) throws Exception {
        List<String> all = new ArrayList<>(List.of("keys"));
        all.addAll(List.of(args));
        all.add("--conf");
        all.add(conf.toString());
        ApplianceProcess.Result r = appliance.tool(all.toArray(new String[0]));
        assertEquals(String.join(" ", all) + ": " + r.err(), 0, r.exit());
        return r;
    }

    /** The usage records (kind usage) of the journal, after the appliance has stopped. */
    private List<JsonNode> usageRecords() throws Exception {
        List<JsonNode> out = new ArrayList<>();
        for (JsonNode r : appliance.exportAll(data)) {
            if ("usage".equals(r.path("kind").asText())) {
                out.add(r);
            }
        }
        return out;
    }

    @Test
    public void withoutKeysOnlyClientsOnTheBoxAreServed() throws Exception {
        Optional<InetAddress> address = LocalAddresses.nonLoopback();
        assumeTrue("this machine has no non-loopback IPv4 address to connect from, so no remote client can be "
                + "played", address.isPresent());
        int port = TollgateExam.freePort();
        Process dev = start(port);   // conf as shipped: host=0.0.0.0, no key file
        String remote = "http://" + address.get().getHostAddress() + ":" + port;
        String local = "http://127.0.0.1:" + port;

        HttpResponse<String> r = send(remote + "/v2/models/fashion-mnist/infer", "POST",
                ApplianceProcess.fashionMnistBody("remote-1", 1, 0.5f));
        assertEquals(r.body(), 403, r.statusCode());
        assertTrue(r.body(), error(r).contains("protected mode"));
        assertTrue(r.body(), error(r).contains("bin/tollgate keys add --tenant TENANT --role infer"));
        assertEquals(403, send(remote + "/admin/plugins", "GET", null).statusCode());
        assertEquals(403, send(remote + "/metrics", "GET", null).statusCode());
        assertEquals("health stays open for load balancers", 200,
                send(remote + "/v2/health/ready", "GET", null).statusCode());
        // the README's local demo: no key on loopback
        r = send(local + "/v2/models/fashion-mnist/infer", "POST", ApplianceProcess.fashionMnistBody("local-1", 1, 0.5f));
        assertEquals(r.body(), 200, r.statusCode());
        assertEquals(200, send(local + "/admin/plugins", "GET", null).statusCode());

        assertEquals(0, exitCode(appliance.stop(dev, 60)));
        List<JsonNode> records = usageRecords();
        assertEquals("only the local request is billed: " + records, 1, records.size());
        assertEquals("local-1", records.get(0).path("request_id").asText());
        assertEquals("default", records.get(0).path("tenant").asText());
    }

    @Test
    public void keysDecideWhoMayCallAndTheKeysTenantIsBilled() throws Exception {
        String acme = keys("add", "--tenant", "acme", "--role", "infer", "--models", "fashion-mnist",
                "--name", "line 7").out().trim();
        assertTrue(acme, acme.matches("tgk_[0-9a-f]{12}_[A-Za-z0-9_-]{43}"));
        String acmeId = acme.substring(4, 16);
        String admin = keys("add", "--tenant", "ops", "--role", "admin").out().trim();
        Path keyFile = conf.resolve("api-keys.json");
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(keyFile)));
        assertFalse("the key file holds hashes, not keys", Files.readString(keyFile).contains(acme.substring(17)));
        String list = keys("list").out();
        assertTrue(list, list.contains(acmeId) && list.contains("acme") && list.contains("fashion-mnist"));
        assertFalse(list, list.contains(acme.substring(17)) || list.contains(admin.substring(17)));

        int port = TollgateExam.freePort();
        Process dev = start(port);
        String base = "http://127.0.0.1:" + port;
        String body = "{\"id\":\"acme-1\",\"parameters\":{\"tenant\":\"evil\"},"
                + ApplianceProcess.fashionMnistBody(null, 1, 0.5f).substring(1);

        // no key, loopback included: 401 with a challenge, saying what is missing
        HttpResponse<String> r = send(base + "/v2/models/fashion-mnist/infer", "POST", body);
        assertEquals(r.body(), 401, r.statusCode());
        assertEquals("Bearer realm=\"tollgate\"", r.headers().firstValue("WWW-Authenticate").orElse(""));
        assertTrue(r.body(), error(r).startsWith("POST /v2/models/fashion-mnist/infer needs an API key with the infer "
                + "or admin role: send 'Authorization: Bearer <key>'"));
        assertFalse(Http.JSON.readTree(r.body()).path("id").asText().isEmpty());
        // an infer key on the admin API: 403
        r = send(base + "/admin/plugins", "GET", null, "Authorization", "Bearer " + acme);
        assertEquals(r.body(), 403, r.statusCode());
        assertEquals("API key " + acmeId + " has the infer role; GET /admin/plugins needs the admin role", error(r));
        assertEquals(200, send(base + "/admin/plugins", "GET", null, "Authorization", "Bearer " + admin).statusCode());
        // the acme key, asking to bill "evil" in every way a client could: billed to acme
        r = send(base + "/v2/models/fashion-mnist/infer", "POST", body, "Authorization", "Bearer " + acme,
                "X-Tenant", "evil");
        assertEquals(r.body(), 200, r.statusCode());

        // revoked while running: refused within a second or two, no restart
        ApplianceProcess.Result revoked = keys("revoke", acmeId);
        assertTrue(revoked.out(), revoked.out().startsWith("revoked key " + acmeId + " (tenant acme, role infer) at "));
        long end = System.currentTimeMillis() + 10_000;
        do {
            r = send(base + "/v2/models/fashion-mnist/infer", "POST",
                    ApplianceProcess.fashionMnistBody("after-revoke", 1, 0.5f), "Authorization", "Bearer " + acme);
        } while (r.statusCode() == 200 && System.currentTimeMillis() < end);
        assertEquals(r.body(), 401, r.statusCode());
        assertTrue(r.body(), error(r).startsWith("API key " + acmeId + " was revoked at "));

        assertEquals(0, exitCode(appliance.stop(dev, 60)));
        List<String> billed = new ArrayList<>();
        for (JsonNode rec : usageRecords()) {
            billed.add(rec.path("request_id").asText() + "@" + rec.path("tenant").asText());
        }
        // requests served before the revocation took effect were acme's too; none was anyone else's
        assertTrue(billed.toString(), billed.contains("acme-1@acme"));
        for (String b : billed) {
            assertTrue(billed.toString(), b.endsWith("@acme"));
        }
        String logText = Files.readString(log);
        assertFalse("a key reached the log", logText.contains(acme.substring(17)) || logText.contains(admin.substring(17)));
        assertTrue("the endpoint logged the requests (DEBUG)", logText.contains("answered 401"));
    }

    @Test
    public void tlsWithRequiredClientCertificatesBoundToATenant() throws Exception {
        assumeTrue("needs the openssl command (Debian package openssl)", TestCa.opensslAvailable());
        TestCa ca = TestCa.make(tmp.resolve("ca"));
        Path cfg = conf.resolve("io.tollgate.endpoint.cfg");
        Files.writeString(cfg, Files.readString(cfg)
                .replace("tls.cert.file=\n", "tls.cert.file=" + ca.serverCert + "\n")
                .replace("tls.key.file=\n", "tls.key.file=" + ca.serverKey + "\n")
                .replace("tls.client.auth=none\n", "tls.client.auth=require\n")
                .replace("tls.client.ca.file=\n", "tls.client.ca.file=" + ca.caCert + "\n"));
        String id = keys("add", "--tenant", "initech", "--role", "infer", "--cert", ca.clientCert.toString())
                .out().trim();
        assertTrue(id, id.matches("[0-9a-f]{12}"));

        int port = TollgateExam.freePort();
        Process dev = appliance.run(port, data, tmp.resolve("plugins"), conf, Map.of());
        String base = "https://127.0.0.1:" + port;
        HttpClient withCert = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
                .sslContext(ca.clientContext(true)).connectTimeout(Duration.ofSeconds(5)).build();
        appliance.awaitReady(dev, withCert, base + "/v2/health/ready", 90_000);

        HttpResponse<String> r = send(withCert, base + "/v2/models/fashion-mnist/infer", "POST",
                ApplianceProcess.fashionMnistBody("tls-1", 1, 0.5f));
        assertEquals(r.body(), 200, r.statusCode());

        // plain HTTP to the TLS port: one 400 saying so, then the connection closes
        try (Socket s = new Socket("127.0.0.1", port)) {
            s.setSoTimeout(10_000);
            OutputStream out = s.getOutputStream();
            out.write("GET /v2/health/live HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            out.flush();
            String answer = new String(s.getInputStream().readAllBytes(), StandardCharsets.ISO_8859_1);
            assertTrue(answer, answer.startsWith("HTTP/1.1 400 Bad Request"));
            assertTrue(answer, answer.contains("this port speaks HTTPS only"));
        }
        // a TLS client without a certificate: refused in the handshake
        SSLContext noCert = ca.clientContext(false);
        try {
            HttpClient without = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).sslContext(noCert)
                    .connectTimeout(Duration.ofSeconds(5)).build();
            r = send(without, base + "/v2/health/live", "GET", null);
            fail("answered " + r.statusCode() + " to a client without a certificate");
        } catch (IOException expected) {
            // handshake failure
        }

        assertEquals(0, exitCode(appliance.stop(dev, 60)));
        List<JsonNode> records = usageRecords();
        assertEquals(records.toString(), 1, records.size());
        assertEquals("tls-1", records.get(0).path("request_id").asText());
        assertEquals("the certificate's tenant is billed", "initech", records.get(0).path("tenant").asText());
    }

    private static int exitCode(int exit) {
        return exit == 143 ? 0 : exit;   // SIGTERM
    }
}
