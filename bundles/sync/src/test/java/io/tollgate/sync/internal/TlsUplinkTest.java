package io.tollgate.sync.internal;

import static io.tollgate.sync.internal.TestDevice.await;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import io.tollgate.sync.SyncStatus;
import io.tollgate.sync.SyncStatus.LinkState;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.Rule;
import org.junit.Test;
import org.junit.rules.TemporaryFolder;

/**
 * ssl:// with a client certificate against mosquitto requiring one: certificates made with openssl (a private CA,
 * a server certificate for localhost, a client certificate with a PKCS#8 key).
 */
public class TlsUplinkTest {
    @Rule
    public TemporaryFolder tmp = new TemporaryFolder();

    private static void openssl(Path dir, String... args) throws IOException, InterruptedException {
        List<String> cmd = new java.util.ArrayList<>(List.of("openssl"));
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).directory(dir.toFile()).redirectErrorStream(true).start();
        String output = new String(p.getInputStream().readAllBytes());
        if (p.waitFor() != 0) {
            throw new IOException("openssl " + String.join(" ", args) + " failed:\n" + output);
        }
    }

    private static void issue(Path dir, String name, String subject, String extensions) throws Exception {
        openssl(dir, "genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", name + ".key.pem");
        openssl(dir, "req", "-new", "-key", name + ".key.pem", "-subj", subject, "-out", name + ".csr");
        Files.writeString(dir.resolve(name + ".ext"), extensions);
        openssl(dir, "x509", "-req", "-in", name + ".csr", "-CA", "ca.pem", "-CAkey", "ca.key.pem", "-CAcreateserial",
                "-days", "2", "-extfile", name + ".ext", "-out", name + ".pem");
    }

    @Test
    public void shipsRecordsOverTlsWithAClientCertificate() throws Exception {
        Path pki = tmp.newFolder("pki").toPath();
        openssl(pki, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                "-keyout", "ca.key.pem", "-subj", "/CN=tollgate test CA", "-days", "2", "-out", "ca.pem");
        issue(pki, "server", "/CN=localhost", "subjectAltName=DNS:localhost,IP:127.0.0.1\n");
        issue(pki, "client", "/CN=tollgate-device", "extendedKeyUsage=clientAuth\n");

        String tls = "cafile " + pki.resolve("ca.pem") + "\ncertfile " + pki.resolve("server.pem") + "\nkeyfile "
                + pki.resolve("server.key.pem") + "\nrequire_certificate true\n";
        try (Mosquitto broker = new Mosquitto(tmp.newFolder("broker").toPath(), tls);
             TestDevice device = new TestDevice(tmp.newFolder("data").toPath())) {
            Map<String, Object> cfg = new HashMap<>();
            cfg.put("broker.url", broker.sslUrl());
            cfg.put("tls.ca.file", pki.resolve("ca.pem").toString());
            cfg.put("tls.cert.file", pki.resolve("client.pem").toString());
            cfg.put("tls.key.file", pki.resolve("client.key.pem").toString());
            cfg.put("max.delay.ms", 50L);
            MqttUsageUplink uplink = device.uplink(cfg);
            try {
                device.append(300);
                long last = device.settledLastSeq();
                await("records over TLS", 15_000, () -> uplink.syncStatus().recordsSent() >= last);
                SyncStatus s = uplink.syncStatus();
                assertEquals(LinkState.ONLINE, s.link());
                assertEquals(last, s.recordsSent());
            } finally {
                uplink.deactivate();
            }

            // Without the client certificate the broker refuses the handshake: the uplink keeps retrying, says why.
            cfg.remove("tls.cert.file");
            cfg.remove("tls.key.file");
            cfg.put("directory", tmp.newFolder("sync2").toString());
            MqttUsageUplink anonymous = device.uplink(cfg);
            try {
                await("a connect error", 15_000, () -> !anonymous.syncStatus().lastError().isEmpty());
                assertEquals(LinkState.CONNECTING, anonymous.syncStatus().link());
                assertTrue(anonymous.syncStatus().lastError(), anonymous.syncStatus().lastError().startsWith("connect to"));
            } finally {
                anonymous.deactivate();
            }
        }
    }
}
