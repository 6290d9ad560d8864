package io.tollgate.sync.internal;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Base64;
import org.bouncycastle.crypto.params.Ed25519PrivateKeyParameters;
import org.bouncycastle.crypto.signers.Ed25519Signer;
import org.junit.Test;

public class CloudMessagesTest {
    private static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    @Test
    public void parsesTheDocsAck() {
        CloudMessages.Ack a = CloudMessages.parseAck(utf8("{\"device\": \"tg-06e3fd8fda29bb60\", \"acked_seq\": 4096, "
                + "\"cloud_time_nanos\": 1768478400123000000, \"signature\": \"abc=\", \"extra\": {\"x\": [1]}}"));
        assertEquals("tg-06e3fd8fda29bb60", a.device());
        assertEquals(4096, a.ackedSeq());
        assertEquals(1768478400123000000L, a.cloudTimeNanos());
        assertEquals("abc=", a.signature());
        assertEquals("TG-ACK1|tg-06e3fd8fda29bb60|4096|1768478400123000000",
                new String(a.signedBytes(), StandardCharsets.US_ASCII));
    }

    @Test
    public void refusesBrokenAcksWithAReason() {
        for (String bad : new String[] {"[]", "{\"device\":\"d\"}", "{\"device\":\"d\",\"acked_seq\":\"5\"}",
                "{\"device\":\"d\",\"acked_seq\":-1}", "{\"acked_seq\":5}", "{\"device\":\"d\",\"acked_seq\":5",
                "{\"device\":\"d\",\"acked_seq\":99999999999999999999999}",
                "{\"device\":\"d\",\"acked_seq\":5}{\"device\":\"d\",\"acked_seq\":9}",
                "{\"device\":\"d\",\"acked_seq\":5} x"}) {
            try {
                CloudMessages.parseAck(utf8(bad));
                fail("accepted " + bad);
            } catch (IllegalArgumentException e) {
                assertTrue(e.getMessage(), e.getMessage().startsWith("ack"));
            }
        }
    }

    @Test
    public void parsesResend() {
        CloudMessages.Resend r = CloudMessages.parseResend(utf8("{\"from_seq\": 1041, \"reason\": \"gap: have up to "
                + "1040, got 1100\"}"));
        assertEquals(1041, r.fromSeq());
        assertEquals("gap: have up to 1040, got 1100", r.reason());
        try {
            CloudMessages.parseResend(utf8("{\"from_seq\": 0}"));
            fail();
        } catch (IllegalArgumentException e) {
            assertTrue(e.getMessage().contains("from_seq"));
        }
    }

    @Test
    public void statusJsonHasTheDocsFields() {
        String s = new String(CloudMessages.onlineStatus("0.1.0", 5000, 4096, 1800,
                Instant.parse("2026-11-23T17:00:00Z")), StandardCharsets.UTF_8);
        assertEquals("{\"state\":\"online\",\"version\":\"0.1.0\",\"last_seq\":5000,\"acked_seq\":4096,\"backlog\":904,"
                + "\"oldest_unacked_age_ms\":1800,\"time\":\"2026-11-23T17:00:00Z\"}", s);
        assertEquals("{\"state\":\"offline\"}", new String(CloudMessages.offlineStatus(), StandardCharsets.US_ASCII));
    }

    @Test
    public void signatureCheck() {
        Ed25519PrivateKeyParameters k = new Ed25519PrivateKeyParameters(new byte[32], 0);
        AckSignatureVerifier v = new AckSignatureVerifier(k.generatePublicKey());
        CloudMessages.Ack unsigned = new CloudMessages.Ack("tg-x", 7, 123, true, "");
        byte[] msg = unsigned.signedBytes();
        Ed25519Signer s = new Ed25519Signer();
        s.init(true, k);
        s.update(msg, 0, msg.length);
        String sig = Base64.getEncoder().encodeToString(s.generateSignature());
        assertTrue(v.verify(new CloudMessages.Ack("tg-x", 7, 123, true, sig)));
        assertFalse("another seq", v.verify(new CloudMessages.Ack("tg-x", 8, 123, true, sig)));
        assertFalse("another time", v.verify(new CloudMessages.Ack("tg-x", 7, 124, true, sig)));
        assertFalse("no time", v.verify(new CloudMessages.Ack("tg-x", 7, 123, false, sig)));
        assertFalse("unsigned", v.verify(unsigned));
        assertFalse("not base64", v.verify(new CloudMessages.Ack("tg-x", 7, 123, true, "%%%")));
    }
}
