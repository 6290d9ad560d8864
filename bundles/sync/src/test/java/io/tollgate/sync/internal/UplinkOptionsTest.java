package io.tollgate.sync.internal;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertNotNull;
import static org.junit.Assert.assertNull;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.HashMap;
import java.util.Map;
import org.junit.Rule;
import org.junit.Test;
import org.junit.rules.TemporaryFolder;

public class UplinkOptionsTest {
    @Rule
    public TemporaryFolder tmp = new TemporaryFolder();

    /** Options from {@code kv}; with a broker.url and no cloud.public.key.file, a valid cloud key is added. */
    private UplinkOptions options(Object... kv) throws Exception {
        Map<String, Object> m = new HashMap<>();
        for (int i = 0; i < kv.length; i += 2) {
            m.put((String) kv[i], kv[i + 1]);
        }
        if (m.containsKey("broker.url") && !m.containsKey("cloud.public.key.file")) {
            Path pem = tmp.getRoot().toPath().resolve("cloud.pub.pem");
            if (!Files.exists(pem)) {
                CloudKeys.writePublicPem(CloudKeys.generate(), pem);
            }
            m.put("cloud.public.key.file", pem.toString());
        }
        return UplinkOptions.from(TestDevice.config(m), "tg-0123456789abcdef", Path.of("/var/lib/tollgate"));
    }

    private void refused(String expected, Object... kv) throws Exception {
        try {
            options(kv);
            fail("accepted " + java.util.Arrays.toString(kv));
        } catch (IllegalArgumentException e) {
            assertTrue(e.getMessage(), e.getMessage().contains(expected));
        }
    }

    @Test
    public void defaultsAreTheDocumentedOnesAndSyncIsOff() throws Exception {
        UplinkOptions o = options();
        assertFalse(o.enabled());
        assertEquals("tollgate-tg-0123456789abcdef", o.clientId());
        assertEquals(604_800, o.sessionExpirySeconds());
        assertEquals(2000, o.maxRecords());
        assertEquals(200, o.maxDelayMs());
        assertEquals(2, o.encoding());
        assertEquals(2, o.maxInFlight());
        assertEquals(Path.of("/var/lib/tollgate/sync"), o.directory());
        assertEquals("tollgate/v1/tg-0123456789abcdef/usage", o.topic("usage"));
    }

    @Test
    public void plainTcpOnlyOnLoopbackUnlessAllowed() throws Exception {
        assertTrue(options("broker.url", "tcp://127.0.0.1:1883").enabled());
        assertTrue(options("broker.url", "tcp://localhost:1883").enabled());
        assertTrue(options("broker.url", "tcp://[::1]:1883").enabled());
        refused("not loopback", "broker.url", "tcp://broker.example.com:1883");
        refused("not loopback", "broker.url", "tcp://10.0.0.5:1883");
        assertTrue(options("broker.url", "tcp://10.0.0.5:1883", "allow.plain", true).enabled());
        assertNull(options("broker.url", "tcp://127.0.0.1:1883").socketFactory());
    }

    @Test
    public void sslUsesTheJvmTrustStoreByDefault() throws Exception {
        UplinkOptions o = options("broker.url", "ssl://broker.example.com:8883");
        assertNotNull(o.socketFactory());
    }

    @Test
    public void badValuesAreRefusedWithTheKeyName() throws Exception {
        refused("broker.url", "broker.url", "http://x:80");
        refused("broker.url", "broker.url", "mqtt broker");
        refused("a port is 1 to 65535", "broker.url", "ssl://host:99999");
        refused("encoding", "encoding", 3);
        refused("max.records", "max.records", 0);
        refused("max.in.flight", "max.in.flight", 0);
        refused("reconnect.max.ms", "reconnect.min.ms", 5000L, "reconnect.max.ms", 1000L);
        refused("tls.ca.file", "broker.url", "ssl://b:8883", "tls.ca.file", "/nonexistent/ca.pem");
        refused("use ssl://", "broker.url", "tcp://127.0.0.1:1883", "tls.ca.file", "/etc/hostname");
        refused("cloud.public.key.file", "broker.url", "tcp://127.0.0.1:1883", "cloud.public.key.file", "/nope.pem");
    }

    @Test
    public void withABrokerTheCloudKeyIsRequiredAndAcksAreAlwaysVerified() throws Exception {
        refused("cloud.public.key.file is required when broker.url is set", "broker.url", "tcp://127.0.0.1:1883",
                "cloud.public.key.file", "");
        refused("bin/tollgate device enroll", "broker.url", "ssl://b:8883", "cloud.public.key.file", " ");
        assertNotNull(options("broker.url", "tcp://127.0.0.1:1883").ackVerifier());
        Path notAKey = tmp.newFile("not-a-key.pem").toPath();
        Files.writeString(notAKey, "hello\n");
        try {
            options("broker.url", "tcp://127.0.0.1:1883", "cloud.public.key.file", notAKey.toString());
            fail("accepted a file without a key");
        } catch (java.io.IOException e) {
            assertTrue(e.getMessage(), e.getMessage().contains("cloud.public.key.file"));
        }
        assertNull("sync off: no key needed", options().ackVerifier());
    }

    @Test
    public void mqttUserIsTheDeviceIdByDefaultAndThePasswordFileMustBeOwnerOnly() throws Exception {
        assertEquals("tg-0123456789abcdef", options("broker.url", "tcp://127.0.0.1:1883").mqttUsername());
        assertEquals("line-7", options("broker.url", "tcp://127.0.0.1:1883", "mqtt.username", "line-7").mqttUsername());
        assertNull(options("broker.url", "tcp://127.0.0.1:1883").mqttPasswordFile());

        Path pw = tmp.newFile("mqtt-password").toPath();
        Files.writeString(pw, "s3cret\n");
        Files.setPosixFilePermissions(pw, PosixFilePermissions.fromString("rw-r--r--"));
        refused("chmod 600", "broker.url", "tcp://127.0.0.1:1883", "mqtt.password.file", pw.toString());
        Files.setPosixFilePermissions(pw, PosixFilePermissions.fromString("rw-------"));
        UplinkOptions o = options("broker.url", "tcp://127.0.0.1:1883", "mqtt.password.file", pw.toString());
        assertEquals(pw, o.mqttPasswordFile());
        assertEquals("s3cret", new String(MqttPasswordFile.read(pw), java.nio.charset.StandardCharsets.UTF_8));
        Files.setPosixFilePermissions(pw, PosixFilePermissions.fromString("r--------"));
        assertNotNull(options("broker.url", "tcp://127.0.0.1:1883", "mqtt.password.file", pw.toString()));
        refused("mqtt.password.file", "broker.url", "tcp://127.0.0.1:1883", "mqtt.password.file", "/nope/pw");
    }
}
