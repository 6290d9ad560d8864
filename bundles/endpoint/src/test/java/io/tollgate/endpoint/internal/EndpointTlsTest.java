package io.tollgate.endpoint.internal;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;
import static org.junit.Assume.assumeTrue;

import io.tollgate.endpoint.keys.ApiKey;
import io.tollgate.endpoint.keys.ApiKeyFile;
import io.tollgate.endpoint.keys.ApiKeyRole;
import io.tollgate.endpoint.keys.NewApiKey;
import io.tollgate.endpoint.testing.TestCa;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.function.Consumer;
import javax.net.ssl.SSLContext;
import org.junit.After;
import org.junit.BeforeClass;
import org.junit.ClassRule;
import org.junit.Rule;
import org.junit.Test;
import org.junit.rules.TemporaryFolder;

/**
 * HTTPS on the endpoint with a test CA made by the {@code openssl} commands of docs/operations.md: the same routes
 * behind TLS, plain HTTP on the TLS port refused with a 400, client certificates (required, optional, bound to a
 * tenant), and configuration mistakes caught at activation.
 */
public class EndpointTlsTest {
    @ClassRule
    public static final TemporaryFolder CA_DIR = new TemporaryFolder();
    private static TestCa ca;

    @Rule
    public final TemporaryFolder tmp = new TemporaryFolder();

    private TestServer server;

    @BeforeClass
    public static void makeCa() throws Exception {
        assumeTrue("needs the openssl command (Debian package openssl)", TestCa.opensslAvailable());
        ca = TestCa.make(CA_DIR.getRoot().toPath());
    }

    @After
    public void tearDown() throws Exception {
        if (server != null) {
            server.close();
        }
    }

    private TestConfig tls(String clientAuth) {
        TestConfig c = new TestConfig();
        c.tlsCertFile = ca.serverCert.toString();
        c.tlsKeyFile = ca.serverKey.toString();
        c.tlsClientAuth = clientAuth;
        c.tlsClientCaFile = "none".equals(clientAuth) ? "" : ca.caCert.toString();
        c.keysFile = tmp.getRoot().toPath().resolve("api-keys.json").toString();
        return c;
    }

    private static HttpClient client(SSLContext ssl) {
        return HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).sslContext(ssl)
                .connectTimeout(Duration.ofSeconds(5)).build();
    }

    private HttpResponse<String> get(HttpClient client, String path, String... headers) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("https://127.0.0.1:" + server.port() + path))
                .timeout(Duration.ofSeconds(10)).GET();
        if (headers.length > 0) {
            b.headers(headers);
        }
        return client.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    private HttpResponse<String> infer(HttpClient client, String... headers) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("https://127.0.0.1:" + server.port()
                        + "/v2/models/echo/infer")).timeout(Duration.ofSeconds(10))
                .POST(HttpRequest.BodyPublishers.ofString("{\"inputs\":[{\"name\":\"x\",\"datatype\":\"FP32\","
                        + "\"shape\":[1,4],\"data\":[1,2,3,4]}]}"));
        if (headers.length > 0) {
            b.headers(headers);
        }
        return client.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    @Test
    public void httpsWithTheTestCaServesTheSameRoutes() throws Exception {
        server = new TestServer(tls("none"));
        HttpClient client = client(ca.clientContext(false));
        assertEquals(200, get(client, "/v2/health/live").statusCode());
        HttpResponse<String> r = infer(client);
        assertEquals(r.body(), 200, r.statusCode());
        assertEquals("default", server.service.last.tenant());
        assertEquals(404, get(client, "/nowhere").statusCode());
    }

    @Test
    public void plainHttpOnTheTlsPortGetsA400SayingHttpsAndIsClosed() throws Exception {
        server = new TestServer(tls("none"));
        try (Socket s = new Socket("127.0.0.1", server.port())) {
            s.setSoTimeout(10_000);
            OutputStream out = s.getOutputStream();
            out.write("GET /v2/models/echo HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            out.flush();
            InputStream in = s.getInputStream();
            TestServer.RawResponse r = TestServer.readResponse(in);
            assertEquals(r.body(), 400, r.status());
            assertEquals("application/json", r.header("content-type"));
            assertEquals("close", r.header("connection"));
            assertTrue(r.body(), TestServer.JSON.readTree(r.body()).get("error").asText()
                    .startsWith("this port speaks HTTPS only; plain HTTP is refused: use https://"));
            assertEquals(-1, in.read());
        }
        assertEquals(0, server.service.calls.get());
    }

    @Test
    public void requiredClientCertificatesRefuseAClientWithout() throws Exception {
        server = new TestServer(tls("require"));
        try {
            HttpResponse<String> r = get(client(ca.clientContext(false)), "/v2/health/live");
            fail("answered " + r.statusCode() + " without a client certificate");
        } catch (IOException expected) {
            // the TLS handshake fails: nothing reaches HTTP
        }
        assertEquals(200, get(client(ca.clientContext(true)), "/v2/health/live").statusCode());
    }

    @Test
    public void aClientCertificateBoundToAnEntryIsThatEntrysTenant() throws Exception {
        ApiKeyFile file = ApiKeyFile.at(Path.of(tls("none").keysFile));
        ApiKey bound = file.addCertificate("initech", ApiKeyRole.INFER, List.of("echo"), "", ca.clientCert);
        assertEquals("CN=line-7-camera", bound.name());
        NewApiKey key = file.add("acme", ApiKeyRole.INFER, List.of(), "");
        server = new TestServer(tls("optional"));
        HttpClient withCert = client(ca.clientContext(true));
        HttpClient withoutCert = client(ca.clientContext(false));
        HttpResponse<String> r = infer(withCert);
        assertEquals(r.body(), 200, r.statusCode());
        assertEquals("initech", server.service.last.tenant());
        // the certificate's entry is limited to echo
        assertEquals(403, get(withCert, "/v2/models/classifier").statusCode());
        // no certificate and no key: 401; a key without a certificate: the key's tenant. Refusals are checked with
        // GET: a refused POST's connection is closed right after the 401, and a client still sending the body may see
        // the reset before the answer (the issue 9 note: the endpoint should linger before closing)
        assertEquals(401, get(withoutCert, "/v2/models/echo").statusCode());
        assertEquals(200, infer(withoutCert, "Authorization", "Bearer " + key.key()).statusCode());
        assertEquals("acme", server.service.last.tenant());
        file.revoke(bound.id());
        long end = System.currentTimeMillis() + 10_000;
        while (get(withCert, "/v2/models/echo").statusCode() != 401 && System.currentTimeMillis() < end) {
            Thread.sleep(50);
        }
        r = get(withCert, "/v2/models/echo");
        assertEquals(r.body(), 401, r.statusCode());
        assertTrue(r.body(), r.body().contains("revoked at"));
    }

    @Test(timeout = 60_000)
    public void tlsConfigurationMistakesFailActivationWithTheFix() throws Exception {
        Path sec1 = tmp.getRoot().toPath().resolve("server.sec1.key");
        ca.openssl("ec", "-in", ca.serverKey.toString(), "-out", sec1.toString());
        assertTrue(Files.readString(sec1).contains("BEGIN EC PRIVATE KEY"));
        assertRefused(c -> c.tlsKeyFile = "", "tls.cert.file and tls.key.file go together");
        assertRefused(c -> c.tlsKeyFile = sec1.toString(), "holds a PKCS#1/SEC1 key; it must be an unencrypted PKCS#8 "
                + "PEM (\"-----BEGIN PRIVATE KEY-----\"): convert it with openssl pkcs8 -topk8 -nocrypt");
        assertRefused(c -> c.tlsKeyFile = ca.clientKey.toString(), "is not the private key of the certificate in "
                + "tls.cert.file");
        assertRefused(c -> c.tlsCertFile = ca.serverKey.toString(), "tls.cert.file " + ca.serverKey
                + " holds no PEM certificate");
        assertRefused(c -> c.tlsCertFile = "/no/such/cert.pem", "tls.cert.file /no/such/cert.pem cannot be read");
        // a FIFO blocked activation for ever (until something wrote to it), /dev/zero never ended
        Path fifo = tmp.getRoot().toPath().resolve("cert.fifo");
        assertEquals(0, new ProcessBuilder("mkfifo", fifo.toString()).inheritIO().start().waitFor());
        assertRefused(c -> c.tlsCertFile = fifo.toString(), "is not a regular file");
        assertRefused(c -> c.tlsKeyFile = fifo.toString(), "is not a regular file");
        assertRefused(c -> c.tlsCertFile = "/dev/zero", "/dev/zero is not a regular file");
        assertRefused(c -> c.tlsClientAuth = "require", "tls.client.auth=require needs tls.client.ca.file");
        assertRefused(c -> c.tlsClientCaFile = ca.caCert.toString(), "tls.client.ca.file is set but tls.client.auth "
                + "is none");
        assertRefused(c -> c.tlsClientAuth = "always", "tls.client.auth must be none, optional or require, not 'always'");
        assertRefused(c -> {
            c.tlsCertFile = "";
            c.tlsKeyFile = "";
            c.tlsClientAuth = "optional";
        }, "tls.client.auth and tls.client.ca.file need TLS");
    }

    private void assertRefused(Consumer<TestConfig> change, String message) {
        TestConfig c = tls("none");
        change.accept(c);
        try {
            new TestServer(c).close();
            fail("activated with a broken TLS configuration; expected: " + message);
        } catch (IllegalArgumentException e) {
            assertTrue(e.getMessage(), e.getMessage().startsWith("invalid io.tollgate.endpoint configuration: "));
            assertTrue(e.getMessage(), e.getMessage().contains(message));
        } catch (InterruptedException e) {
            throw new AssertionError(e);
        }
    }
}
