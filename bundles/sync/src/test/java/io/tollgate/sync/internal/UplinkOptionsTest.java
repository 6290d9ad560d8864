package io.tollgate.sync.internal;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertNotNull;
import static org.junit.Assert.assertNull;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import org.junit.Rule;
import org.junit.Test;
import org.junit.rules.TemporaryFolder;

public class UplinkOptionsTest {
    @Rule
    public TemporaryFolder tmp = new TemporaryFolder();

    private UplinkOptions options(Object... kv) throws Exception {
        Map<String, Object> m = new HashMap<>();
        for (int i = 0; i < kv.length; i += 2) {
            m.put((String) kv[i], kv[i + 1]);
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
        refused("encoding", "encoding", 3);
        refused("max.records", "max.records", 0);
        refused("max.in.flight", "max.in.flight", 0);
        refused("reconnect.max.ms", "reconnect.min.ms", 5000L, "reconnect.max.ms", 1000L);
        refused("tls.ca.file", "broker.url", "ssl://b:8883", "tls.ca.file", "/nonexistent/ca.pem");
        refused("use ssl://", "broker.url", "tcp://127.0.0.1:1883", "tls.ca.file", "/etc/hostname");
        refused("cloud.public.key.file", "broker.url", "tcp://127.0.0.1:1883", "cloud.public.key.file", "/nope.pem");
    }
}
