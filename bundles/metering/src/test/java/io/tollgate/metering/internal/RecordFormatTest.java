package io.tollgate.metering.internal;

import static org.junit.Assert.assertArrayEquals;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertNotNull;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;
import static org.junit.Assume.assumeTrue;

import io.tollgate.metering.UsageEvent;
import io.tollgate.metering.internal.RecordFormat.Decoded;
import io.tollgate.metering.internal.RecordFormat.PreviousRun;
import io.tollgate.metering.internal.RecordFormat.SealReason;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.Rule;
import org.junit.Test;
import org.junit.rules.TemporaryFolder;

/** The canonical layout, proven against docs/usage-records.md and the test-vector files. */
public class RecordFormatTest {
    private static final Path DOC = Paths.get("../../docs/usage-records.md");
    private static final Path VECTOR = Paths.get("src/test/resources/test-vector");

    @Rule
    public TemporaryFolder tmp = new TemporaryFolder();

    /** Blocks "seq N KIND, L bytes" / hex lines / "sha256 H" and "statement of seq N, L bytes" / hex lines. */
    private static Map<String, String> docBlocks() throws IOException {
        List<String> lines = Files.readAllLines(DOC, StandardCharsets.UTF_8);
        Map<String, String> out = new LinkedHashMap<>();
        Pattern head = Pattern.compile("^(seq \\d+ [A-Z]+|statement of seq \\d+|signature of seq \\d+), (\\d+) bytes$");
        for (int i = 0; i < lines.size(); i++) {
            Matcher m = head.matcher(lines.get(i));
            if (!m.matches()) {
                continue;
            }
            StringBuilder hex = new StringBuilder();
            int j = i + 1;
            while (j < lines.size() && lines.get(j).matches("[0-9a-f]+")) {
                hex.append(lines.get(j++));
            }
            assertEquals(m.group(1) + ": stated length", Integer.parseInt(m.group(2)) * 2, hex.length());
            out.put(m.group(1), hex.toString());
            if (j < lines.size() && lines.get(j).startsWith("sha256 ")) {
                out.put(m.group(1) + " sha256", lines.get(j).substring(7).trim());
            }
        }
        return out;
    }

    private static String docValue(String key) throws IOException {
        for (String l : Files.readAllLines(DOC, StandardCharsets.UTF_8)) {
            if (l.startsWith(key + " ")) {
                return l.substring(key.length()).trim();
            }
        }
        throw new AssertionError(DOC + " has no line starting with '" + key + "'");
    }

    @Test
    public void documentTestVectorIsWhatTheCodeProduces() throws IOException {
        Map<String, String> doc = docBlocks();
        List<byte[]> records = TestVector.records();
        String[] kinds = {"START", "SEAL", "USAGE", "USAGE", "SEAL"};
        for (int i = 0; i < records.size(); i++) {
            String key = "seq " + (i + 1) + " " + kinds[i];
            assertTrue(DOC + " lacks the block '" + key + "'", doc.containsKey(key));
            assertEquals(key + " bytes", doc.get(key), RecordFormat.hex(records.get(i)));
            assertEquals(key + " sha256", doc.get(key + " sha256"), RecordFormat.hex(RecordFormat.decode(records.get(i)).hash()));
        }
        assertEquals(RecordFormat.hex(TestVector.statement(5)), doc.get("statement of seq 5"));
        assertEquals(RecordFormat.hex(RecordFormat.decode(records.get(4)).signature()), doc.get("signature of seq 5"));
        Ed25519DeviceKey key = TestVector.key();
        assertEquals(TestVector.SEED_HEX, docValue("seed"));
        assertEquals(RecordFormat.hex(key.publicKey().raw()), docValue("public_key"));
        assertEquals(key.deviceId(), docValue("device_id"));
        String text = Files.readString(DOC, StandardCharsets.UTF_8);
        assertTrue("the doc shows the private key PEM", text.contains(key.privatePem().trim()));
        assertTrue("the doc shows the public key PEM", text.contains(key.publicKeyPem().trim()));
    }

    @Test
    public void testVectorFilesAreWhatTheCodeProduces() throws IOException {
        List<byte[]> records = TestVector.records();
        for (int i = 0; i < records.size(); i++) {
            assertArrayEquals("record-" + (i + 1) + ".bin", records.get(i),
                    Files.readAllBytes(VECTOR.resolve("record-" + (i + 1) + ".bin")));
        }
        assertArrayEquals(TestVector.statement(5), Files.readAllBytes(VECTOR.resolve("seal-5.statement.bin")));
        assertArrayEquals(RecordFormat.decode(records.get(4)).signature(), Files.readAllBytes(VECTOR.resolve("seal-5.sig")));
        Ed25519DeviceKey key = TestVector.key();
        assertEquals(key.publicKeyPem(), Files.readString(VECTOR.resolve("device.pub.pem")));
        assertEquals(key.privatePem(), Files.readString(VECTOR.resolve("device.key.pem")));
        assertEquals("tg-06e3fd8fda29bb60", key.deviceId());
        assertEquals("RFC 8032 TEST 1 public key", "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a",
                RecordFormat.hex(key.publicKey().raw()));
    }

    @Test
    public void testVectorVerifies() {
        UsageVerifier.Report r = UsageVerifier.verify(TestVector.records(), TestVector.key().publicKey());
        assertTrue(r.summary(), r.ok());
        assertEquals(5, r.records());
        assertEquals(2, r.seals());
        assertEquals(0, r.unsealed());
    }

    @Test
    public void sealVerifiesWithOpensslAsTheDocumentSays() throws Exception {
        assumeTrue("openssl is on the PATH", run(tmp.getRoot().toPath(), "openssl", "version") == 0);
        Path dir = tmp.newFolder("vector").toPath();
        for (String f : List.of("record-5.bin", "device.pub.pem")) {
            Files.copy(VECTOR.resolve(f), dir.resolve(f));
        }
        // The commands of docs/usage-records.md, "Verifying a seal with openssl".
        assertEquals(0, run(dir, "sh", "-c", "tail -c 64 record-5.bin > seal.sig"));
        assertEquals(0, run(dir, "dd", "if=record-5.bin", "of=signed-bytes.bin", "bs=1", "skip=81", "count=70",
                "status=none"));
        assertArrayEquals(TestVector.statement(5), Files.readAllBytes(dir.resolve("signed-bytes.bin")));
        assertEquals(0, run(dir, "openssl", "pkeyutl", "-verify", "-pubin", "-inkey", "device.pub.pem", "-rawin",
                "-in", "signed-bytes.bin", "-sigfile", "seal.sig"));
        byte[] tampered = Files.readAllBytes(dir.resolve("signed-bytes.bin"));
        tampered[69] ^= 0x03; // reason RECORD_COUNT -> SHUTDOWN
        Files.write(dir.resolve("signed-bytes.bin"), tampered);
        assertEquals(1, run(dir, "openssl", "pkeyutl", "-verify", "-pubin", "-inkey", "device.pub.pem", "-rawin",
                "-in", "signed-bytes.bin", "-sigfile", "seal.sig"));
    }

    private static int run(Path dir, String... cmd) throws Exception {
        try {
            Process p = new ProcessBuilder(cmd).directory(dir.toFile()).redirectErrorStream(true).start();
            p.getInputStream().readAllBytes();
            assertTrue(String.join(" ", cmd) + " finished", p.waitFor(30, TimeUnit.SECONDS));
            return p.exitValue();
        } catch (IOException e) {
            return -1;
        }
    }

    @Test
    public void everyKindRoundTrips() {
        byte[] prev = RecordFormat.sha256(new byte[] {1}, 0, 1);
        UsageEvent e = new UsageEvent("t", "m", "1", "p", "2", "lic-9", "tokens", 7, 99, "cuda:0", "r", "ENGINE_FAILURE");
        Decoded u = RecordFormat.decode(RecordFormat.encodeUsage(42, -5, 77, prev, "dev-1", e));
        assertEquals(42, u.seq());
        assertEquals(-5, u.wallTimeNanos());
        assertEquals(77, u.monotonicNanos());
        assertArrayEquals(prev, u.prevHash());
        assertEquals("dev-1", u.deviceId());
        assertEquals(e, u.usage());
        Decoded s = RecordFormat.decode(RecordFormat.encodeStart(43, 1, 2, prev, "dev-1", PreviousRun.UNCLEAN_SHUTDOWN));
        assertEquals(PreviousRun.UNCLEAN_SHUTDOWN, s.previousRun());
        byte[] st = new RecordFormat.SealStatement("dev-1", 42, prev, SealReason.SHUTDOWN).encode();
        byte[] sig = new byte[64];
        Arrays.fill(sig, (byte) 7);
        Decoded seal = RecordFormat.decode(RecordFormat.encodeSeal(44, 1, 2, prev, "dev-1", st, sig));
        assertEquals(42, seal.statement().sealedSeq());
        assertEquals(SealReason.SHUTDOWN, seal.statement().reason());
        assertArrayEquals(sig, seal.signature());
        assertArrayEquals(st, seal.statementBytes());
    }

    @Test
    public void stringLengthsCountUtf8BytesAndAreBounded() {
        UsageEvent e = new UsageEvent("ä", "", "", "", "", "", "", 0, 0, "", "", "");
        byte[] r = RecordFormat.encodeUsage(1, 0, 0, RecordFormat.zeroHash(), "d", e);
        // header 58 + device "d" (2+1), then tenant: u16 2, c3 a4
        assertEquals(0, r[61]);
        assertEquals(2, r[62]);
        assertEquals((byte) 0xc3, r[63]);
        assertEquals((byte) 0xa4, r[64]);
        String tooLong = "x".repeat(UsageEvent.MAX_STRING_BYTES + 1);
        try {
            RecordFormat.encodeUsage(1, 0, 0, RecordFormat.zeroHash(), "d",
                    new UsageEvent(tooLong, "", "", "", "", "", "", 0, 0, "", "", ""));
            fail("a string over 65535 bytes");
        } catch (IllegalArgumentException ex) {
            assertTrue(ex.getMessage(), ex.getMessage().contains("at most 65535 bytes"));
        }
        String maxAscii = "y".repeat(UsageEvent.MAX_STRING_BYTES);
        assertNotNull(RecordFormat.decode(RecordFormat.encodeUsage(1, 0, 0, RecordFormat.zeroHash(), "d",
                new UsageEvent(maxAscii, "", "", "", "", "", "", 0, 0, "", "", ""))));
    }

    @Test
    public void decodeRejectsDamagedBytesWithAReason() {
        byte[] good = TestVector.records().get(2);
        assertRejected(Arrays.copyOf(good, good.length + 1), "trailing");
        assertRejected(Arrays.copyOf(good, good.length - 1), "ends inside");
        byte[] format = good.clone();
        format[0] = 2;
        assertRejected(format, "unknown record format 2");
        byte[] kind = good.clone();
        kind[1] = 9;
        assertRejected(kind, "unknown record kind 9");
        byte[] utf8 = good.clone();
        utf8[82] = (byte) 0xff; // inside "acme"
        assertRejected(utf8, "not valid UTF-8");
    }

    private static void assertRejected(byte[] bytes, String why) {
        try {
            RecordFormat.decode(bytes);
            fail("accepted bytes that should fail with '" + why + "'");
        } catch (IllegalArgumentException e) {
            assertTrue(e.getMessage(), e.getMessage().contains(why));
        }
    }

    @Test
    public void usageEventRejectsNegativeQuantities() {
        try {
            new UsageEvent("t", "m", "1", "p", "1", "", "inference", -1, 0, "cpu", "r", "OK");
            fail();
        } catch (IllegalArgumentException e) {
            assertTrue(e.getMessage().contains("quantity"));
        }
        assertFalse(RecordFormat.isZeroHash(RecordFormat.sha256(new byte[0], 0, 0)));
    }
}
