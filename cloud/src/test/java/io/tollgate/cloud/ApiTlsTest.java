package io.tollgate.cloud;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

import io.tollgate.cloud.auth.ApiRole;
import io.tollgate.cloud.auth.ApiTokens;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.cert.CertificateFactory;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import org.junit.Rule;
import org.junit.Test;
import org.junit.rules.TemporaryFolder;

/** The billing API over TLS ({@code --http-tls-cert/--http-tls-key}), with a certificate openssl makes. */
public class ApiTlsTest {
    @Rule
    public TemporaryFolder tmp = new TemporaryFolder();

    @Test
    public void theApiSpeaksTlsWithThePemCertificateAndKey() throws Exception {
        Path dir = tmp.newFolder("tls").toPath();
        Path cert = dir.resolve("api.crt.pem");
        Path key = dir.resolve("api.key.pem");
        Process p = new ProcessBuilder("openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                "ec_paramgen_curve:P-256", "-nodes", "-keyout", key.toString(), "-out", cert.toString(), "-days", "1",
                "-subj", "/CN=localhost", "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost")
                .redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        assertTrue("openssl: " + out, p.waitFor(60, TimeUnit.SECONDS) && p.exitValue() == 0);

        Path data = tmp.newFolder("data").toPath();
        String admin = ApiTokens.create(data, ApiRole.ADMIN, null, null).secret();
        try (BillingService billing = BillingService.start(BillingOptions.defaults(data).withHttp("127.0.0.1", 0)
                .withHttpTls(cert, key))) {
            KeyStore trust = KeyStore.getInstance("PKCS12");
            trust.load(null, null);
            try (InputStream in = Files.newInputStream(cert)) {
                trust.setCertificateEntry("api", CertificateFactory.getInstance("X.509").generateCertificate(in));
            }
            TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            tmf.init(trust);
            SSLContext ctx = SSLContext.getInstance("TLS");
            ctx.init(null, tmf.getTrustManagers(), null);
            HttpClient https = HttpClient.newBuilder().sslContext(ctx).build();
            HttpResponse<String> r = https.send(HttpRequest.newBuilder(URI.create("https://127.0.0.1:"
                    + billing.httpPort() + "/v1/devices")).header("Authorization", "Bearer " + admin).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertEquals(r.body(), 200, r.statusCode());
            try {
                HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:"
                        + billing.httpPort() + "/health")).timeout(java.time.Duration.ofSeconds(10)).build(),
                        HttpResponse.BodyHandlers.ofString());
                fail("plain HTTP was answered on the TLS port");
            } catch (IOException expected) {
                // the TLS server does not speak plain HTTP
            }
        }
    }

    @Test
    public void aKeyThatIsNotPkcs8IsNamed() throws Exception {
        Path dir = tmp.newFolder("bad").toPath();
        Path cert = dir.resolve("c.pem");
        Path key = Files.writeString(dir.resolve("k.pem"), "-----BEGIN EC PRIVATE KEY-----\nAAAA\n-----END EC PRIVATE KEY-----\n");
        Files.writeString(cert, "not a certificate");
        try {
            BillingService.start(BillingOptions.defaults(tmp.newFolder("d").toPath()).withHttp("127.0.0.1", 0)
                    .withHttpTls(cert, key)).close();
            fail("started with a broken certificate");
        } catch (BillingException expected) {
            assertTrue(expected.getMessage(), expected.getMessage().contains("--http-tls-cert " + cert));
        }
    }
}
