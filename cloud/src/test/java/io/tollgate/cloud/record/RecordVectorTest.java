package io.tollgate.cloud.record;

import static org.junit.Assert.assertArrayEquals;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertNull;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

import io.tollgate.cloud.TestRecordWriter;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import org.bouncycastle.crypto.params.Ed25519PrivateKeyParameters;
import org.bouncycastle.crypto.params.Ed25519PublicKeyParameters;
import org.junit.Test;

/** The test vector of docs/usage-records.md, decoded and verified by the cloud's own code. */
public class RecordVectorTest {
    static final String[] HASHES = {
        "1cd0f098acf14b8eb4cf3498a119131e18f1573c8ec8f99524b858da82b13473",
        "7548e9c87db4c589b7403c04e4fec2a632cb3d980d52221ee9d8b67ddd78dedd",
        "9410bf10713905642c5f47c79243136a5dc249ae88f5251274db4d2af90f1f5e",
        "eef36f12241bde16b9e127684b53d09b604fdbba168217e139cb0f5d8f60d7ca",
        "5bac676291e8dd2846e8459e668f937c02530d2963a4b9f035014fcfa54dbde5"};
    static final int[] SIZES = {80, 215, 196, 204, 215};
    static final String DEVICE = "tg-06e3fd8fda29bb60";

    public static byte[] resource(String name) throws IOException {
        try (InputStream in = RecordVectorTest.class.getResourceAsStream("/test-vector/" + name)) {
            if (in == null) {
                throw new IOException("missing test resource /test-vector/" + name);
            }
            return in.readAllBytes();
        }
    }

    public static byte[][] vector() throws IOException {
        byte[][] out = new byte[5][];
        for (int i = 0; i < 5; i++) {
            out[i] = resource("record-" + (i + 1) + ".bin");
        }
        return out;
    }

    @Test
    public void decodesEveryRecordWithTheDocumentedSizesAndHashes() throws Exception {
        byte[][] v = vector();
        byte[] prev = new byte[32];
        for (int i = 0; i < 5; i++) {
            UsageRecord r = RecordDecoder.decode(v[i]);
            assertEquals(SIZES[i], v[i].length);
            assertEquals(i + 1, r.seq());
            assertEquals(DEVICE, r.deviceId());
            assertEquals(HASHES[i], r.hashHex());
            assertArrayEquals("seq " + (i + 1) + " prev_hash", prev, r.prevHash());
            prev = r.hash();
        }
        UsageRecord start = RecordDecoder.decode(v[0]);
        assertEquals(RecordKind.START, start.kind());
        assertEquals(0, start.previousRun());
        assertEquals(TestRecordWriter.T0, start.wallTimeNanos());
        assertEquals(5_000_000_000L, start.monotonicNanos());
    }

    @Test
    public void usageRecordThreeFieldByField() throws Exception {
        UsageRecord r = RecordDecoder.decode(resource("record-3.bin"));
        assertEquals(RecordKind.USAGE, r.kind());
        assertEquals(1_768_478_401_500_000_000L, r.wallTimeNanos());
        assertEquals(6_500_000_000L, r.monotonicNanos());
        UsageRecord.Usage u = r.usage();
        assertEquals("acme", u.tenant());
        assertEquals("fashion-mnist", u.model());
        assertEquals("1.0.0", u.modelVersion());
        assertEquals("io.tollgate.plugin.fashion-mnist", u.plugin());
        assertEquals("1.0.0", u.pluginVersion());
        assertEquals("", u.licenseId());
        assertEquals("inference", u.meter());
        assertEquals(4, u.quantity());
        assertEquals(1_250_000, u.computeNanos());
        assertEquals("cpu", u.accelerator());
        assertEquals("req-0001", u.requestId());
        assertEquals("OK", u.status());
        assertNull(r.seal());
        UsageRecord r4 = RecordDecoder.decode(resource("record-4.bin"));
        assertEquals("müller-gmbh", r4.usage().tenant());
        assertEquals(1, r4.usage().quantity());
    }

    @Test
    public void sealFiveVerifiesWithTheDevicePublicKey() throws Exception {
        Ed25519PublicKeyParameters pub = Ed25519Keys.parsePublicPem(new String(resource("device.pub.pem"),
                StandardCharsets.US_ASCII));
        assertEquals("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a", Hex.of(pub.getEncoded()));
        assertTrue(Ed25519Keys.spkiSha256Hex(pub).startsWith("06e3fd8fda29bb60"));
        UsageRecord seal = RecordDecoder.decode(resource("record-5.bin"));
        UsageRecord.Seal s = seal.seal();
        assertEquals(4, s.sealedSeq());
        assertEquals(HASHES[3], Hex.of(s.sealedHash()));
        assertEquals(1, s.reason());
        assertEquals(DEVICE, s.statementDeviceId());
        assertArrayEquals(resource("seal-5.statement.bin"), s.statement());
        assertArrayEquals(resource("seal-5.sig"), s.signature());
        assertTrue(Ed25519Keys.verify(pub, s.statement(), s.signature()));
        UsageRecord seal2 = RecordDecoder.decode(resource("record-2.bin"));
        assertEquals(1, seal2.seal().sealedSeq());
        assertEquals(4, seal2.seal().reason());
        assertTrue(Ed25519Keys.verify(pub, seal2.seal().statement(), seal2.seal().signature()));

        byte[] statement = s.statement();
        statement[statement.length - 2] ^= 1;
        assertFalse(Ed25519Keys.verify(pub, statement, s.signature()));
    }

    /** The test writer follows the doc: fed the vector's inputs, it reproduces the vector byte for byte. */
    @Test
    public void testWriterReproducesTheVector() throws Exception {
        byte[][] v = vector();
        Ed25519PrivateKeyParameters key = Ed25519Keys.parsePrivatePem(new String(resource("device.key.pem"),
                StandardCharsets.US_ASCII));
        TestRecordWriter w = new TestRecordWriter(key, DEVICE);
        UsageRecord[] d = new UsageRecord[5];
        for (int i = 0; i < 5; i++) {
            d[i] = RecordDecoder.decode(v[i]);
        }
        assertArrayEquals(v[0], w.at(d[0].wallTimeNanos(), d[0].monotonicNanos()).start(0));
        assertArrayEquals(v[1], w.at(d[1].wallTimeNanos(), d[1].monotonicNanos()).seal(1, w.hashOf(1), 4, null));
        for (int i = 2; i < 4; i++) {
            UsageRecord.Usage u = d[i].usage();
            assertArrayEquals(v[i], w.at(d[i].wallTimeNanos(), d[i].monotonicNanos()).usage(u.tenant(), u.model(),
                    u.modelVersion(), u.plugin(), u.pluginVersion(), u.licenseId(), u.meter(), u.quantity(),
                    u.computeNanos(), u.accelerator(), u.requestId(), u.status()));
        }
        assertArrayEquals(v[4], w.at(d[4].wallTimeNanos(), d[4].monotonicNanos()).seal(1));
    }

    @Test
    public void rejectsMalformedRecords() throws Exception {
        byte[] r3 = resource("record-3.bin");
        expectFormatError(java.util.Arrays.copyOf(r3, r3.length - 1), "ends inside status");
        expectFormatError(java.util.Arrays.copyOf(r3, r3.length + 1), "trailing");
        byte[] format2 = r3.clone();
        format2[0] = 2;
        expectFormatError(format2, "format 2");
        byte[] kind9 = r3.clone();
        kind9[1] = 9;
        expectFormatError(kind9, "unknown record kind 9");
        byte[] badUtf8 = r3.clone();
        badUtf8[81] = (byte) 0xff; // first byte of tenant "acme" (58 + 2 + 19 + 2)
        expectFormatError(badUtf8, "tenant is not valid UTF-8");
    }

    private static void expectFormatError(byte[] bytes, String fragment) {
        try {
            RecordDecoder.decode(bytes);
            fail("decoded a malformed record; expected an error containing '" + fragment + "'");
        } catch (RecordFormatException e) {
            assertTrue(e.getMessage(), e.getMessage().contains(fragment));
        }
    }
}
