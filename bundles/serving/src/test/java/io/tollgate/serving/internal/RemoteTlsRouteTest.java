package io.tollgate.serving.internal;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpsConfigurator;
import com.sun.net.httpserver.HttpsServer;
import io.tollgate.model.Tensor;
import io.tollgate.serving.InferenceException.Reason;
import io.tollgate.serving.InferenceRequest;
import io.tollgate.serving.InferenceResponse;
import io.tollgate.serving.RemoteRouteException;
import java.math.BigInteger;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Date;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.junit.After;
import org.junit.Before;
import org.junit.Test;

/**
 * {@code route.ca_file} against a real TLS remote (the JDK's HttpsServer on a free port) with certificates made here
 * (BouncyCastle): a certificate that chains to the route's CA and names the URL's host is served; a self-signed one
 * without {@code ca_file} (the JVM's CAs), one from another CA, and one that names another host are 502 naming TLS,
 * each counted by the breaker, and nothing is served.
 */
public class RemoteTlsRouteTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private final List<HttpsServer> servers = new ArrayList<>();
    private ExecutorService threads;
    private Path conf;
    private KeyPair caKeys;
    private X509Certificate ca;

    @Before
    public void setUp() throws Exception {
        threads = Executors.newFixedThreadPool(2);
        conf = Files.createTempDirectory("route-tls-test");
        caKeys = keys();
        X500Name name = new X500Name("CN=Plant B test CA");
        X509v3CertificateBuilder b = new JcaX509v3CertificateBuilder(name, BigInteger.ONE, from(), to(), name,
                caKeys.getPublic());
        b.addExtension(Extension.basicConstraints, true, new BasicConstraints(true));
        b.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign));
        ca = sign(b, caKeys);
        Files.writeString(conf.resolve("plant-b-ca.pem"), pem(ca));
    }

    @After
    public void tearDown() throws Exception {
        for (HttpsServer s : servers) {
            s.stop(0);
            ((ExecutorService) s.getExecutor()).shutdownNow();
        }
        threads.shutdownNow();
        try (var files = Files.walk(conf)) {
            files.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
    }

    private static KeyPair keys() throws Exception {
        KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
        g.initialize(256);
        return g.generateKeyPair();
    }

    private static Date from() {
        return new Date(System.currentTimeMillis() - 60_000);
    }

    private static Date to() {
        return new Date(System.currentTimeMillis() + 86_400_000L);
    }

    private static X509Certificate sign(X509v3CertificateBuilder b, KeyPair signer) throws Exception {
        return new JcaX509CertificateConverter().getCertificate(b.build(new JcaContentSignerBuilder("SHA256withECDSA")
                .build(signer.getPrivate())));
    }

    private static String pem(X509Certificate c) throws Exception {
        return "-----BEGIN CERTIFICATE-----\n" + Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII))
                .encodeToString(c.getEncoded()) + "\n-----END CERTIFICATE-----\n";
    }

    /** A server certificate for {@code names} (IP addresses or DNS names), signed by the CA or by itself. */
    private Object[] serverCertificate(boolean byCa, String... names) throws Exception {
        KeyPair keys = keys();
        GeneralName[] san = new GeneralName[names.length];
        for (int i = 0; i < names.length; i++) {
            san[i] = new GeneralName(Character.isDigit(names[i].charAt(0)) ? GeneralName.iPAddress
                    : GeneralName.dNSName, names[i]);
        }
        X500Name subject = new X500Name("CN=" + names[0]);
        X509v3CertificateBuilder b = byCa
                ? new JcaX509v3CertificateBuilder(ca, BigInteger.valueOf(System.nanoTime()), from(), to(), subject,
                        keys.getPublic())
                : new JcaX509v3CertificateBuilder(subject, BigInteger.TWO, from(), to(), subject, keys.getPublic());
        b.addExtension(Extension.subjectAlternativeName, false, new GeneralNames(san));
        b.addExtension(Extension.basicConstraints, true, new BasicConstraints(false));
        b.addExtension(Extension.extendedKeyUsage, false, new ExtendedKeyUsage(KeyPurposeId.id_kp_serverAuth));
        X509Certificate cert = sign(b, byCa ? caKeys : keys);
        return new Object[] {keys, byCa ? new Certificate[] {cert, ca} : new Certificate[] {cert}};
    }

    /** An HTTPS OIP server on a free port presenting {@code certificate}; returns its port. */
    private int start(Object[] certificate) throws Exception {
        char[] password = "test".toCharArray();
        KeyStore store = KeyStore.getInstance("PKCS12");
        store.load(null, null);
        store.setKeyEntry("server", ((KeyPair) certificate[0]).getPrivate(), password, (Certificate[]) certificate[1]);
        KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
        kmf.init(store, password);
        SSLContext ssl = SSLContext.getInstance("TLS");
        ssl.init(kmf.getKeyManagers(), null, null);
        HttpsServer server = HttpsServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.setHttpsConfigurator(new HttpsConfigurator(ssl));
        server.createContext("/", ex -> {
            ex.getRequestBody().readAllBytes();
            byte[] b = ("{\"model_name\":\"fm\",\"model_version\":\"1\",\"outputs\":[{\"name\":\"probs\",\"datatype\":"
                    + "\"FP32\",\"shape\":[2],\"data\":[0.5,0.25]}]}").getBytes(StandardCharsets.UTF_8);
            ex.sendResponseHeaders(200, b.length);
            ex.getResponseBody().write(b);
            ex.close();
        });
        server.setExecutor(Executors.newFixedThreadPool(2));
        server.start();
        servers.add(server);
        return server.getAddress().getPort();
    }

    private RemoteRoute route(String host, int port, boolean withCa) throws Exception {
        String json = ("{'mode':'remote','name':'plant-b','url':'https://" + host + ":" + port + "','timeout_ms':5000"
                + (withCa ? ",'ca_file':'plant-b-ca.pem'" : "") + "}").replace('\'', '"');
        return new RemoteRoute(RouteConfig.parse(JSON.readTree(json), "fm", conf), "fm", threads);
    }

    private static InferenceRequest request() {
        return new InferenceRequest("fm", null, "tls-1", List.of(Tensor.ofFloats("image", new long[] {1, 2},
                new float[] {0.1f, 0.2f})), List.of(), "acme", Map.of());
    }

    private static RemoteRouteException refused(RemoteRoute route) throws Exception {
        try {
            InferenceResponse r = route.infer(request()).get(15, TimeUnit.SECONDS);
            fail("served over TLS it should not trust: " + r);
            return null;
        } catch (ExecutionException e) {
            RemoteRouteException x = (RemoteRouteException) e.getCause();
            assertEquals(x.getMessage(), Reason.REMOTE_FAILED, x.reason());
            assertTrue(x.getMessage(), x.getMessage().startsWith("route 'plant-b': TLS with https://"));
            assertEquals("counted by the breaker", 1, route.status().failures());
            return x;
        }
    }

    @Test
    public void aCertificateChainingToTheRoutesCaAndNamingTheHostIsServed() throws Exception {
        int port = start(serverCertificate(true, "127.0.0.1", "localhost"));
        InferenceResponse r = route("127.0.0.1", port, true).infer(request()).get(15, TimeUnit.SECONDS);
        assertEquals("remote:plant-b", r.accelerator());
        assertEquals(0.25f, r.outputs().get(0).toFloats()[1], 0f);
        InferenceResponse byName = route("localhost", port, true).infer(request()).get(15, TimeUnit.SECONDS);
        assertEquals("1", byName.version());
    }

    @Test
    public void aSelfSignedRemoteWithoutCaFileIs502NamingTls() throws Exception {
        int port = start(serverCertificate(false, "127.0.0.1"));
        RemoteRouteException e = refused(route("127.0.0.1", port, false));
        assertTrue(e.getMessage(), e.getMessage().contains("the JVM's CAs (or set route.ca_file)"));
    }

    @Test
    public void aCertificateOfAnotherCaIsRefusedWithTheRoutesCaFile() throws Exception {
        int port = start(serverCertificate(false, "127.0.0.1"));
        RemoteRouteException e = refused(route("127.0.0.1", port, true));
        assertTrue(e.getMessage(), e.getMessage().contains("plant-b-ca.pem"));
    }

    @Test
    public void aCertificateForAnotherHostIs502NamingTls() throws Exception {
        int port = start(serverCertificate(true, "plant-c.example"));
        RemoteRouteException e = refused(route("127.0.0.1", port, true));
        assertTrue(e.getMessage(), e.getMessage().contains("name the host of route.url"));
        int other = start(serverCertificate(true, "10.0.0.99"));
        refused(route("localhost", other, true));
    }
}
