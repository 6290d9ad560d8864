package io.tollgate.licensing;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

import io.tollgate.licensing.vendor.LicenseIssuer;
import io.tollgate.licensing.vendor.RevocationIssuer;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.Signature;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Set;

import org.junit.BeforeClass;
import org.junit.Test;

/** License files and revocation lists: round trip, every refusal, and a flipped bit at every byte. */
public class LicenseFilesTest {
    private static final Instant T0 = Instant.parse("2026-11-01T00:00:00Z");
    private static KeyPair vendor;
    private static KeyPair device;
    private static Map<String, PublicKey> trusted;

    @BeforeClass
    public static void keys() throws Exception {
        vendor = KeyPairGenerator.getInstance("Ed25519").generateKeyPair();
        device = KeyPairGenerator.getInstance("Ed25519").generateKeyPair();
        trusted = Map.of(Pem.fingerprint(vendor.getPublic()), vendor.getPublic());
    }

    private static LicenseIssuer issuer() {
        return new LicenseIssuer("Acme Models", vendor.getPrivate(), vendor.getPublic()).tenant("factory-7")
                .plugin("fashion-mnist").versions("[1.0.0,2.0.0)").issuedAt(T0);
    }

    @Test
    public void aBoundLicenseReadsBackEveryField() throws Exception {
        byte[] file = issuer().id("lic-1").device("box-1", device.getPublic()).notBefore(T0.plusSeconds(60))
                .expires(T0.plusSeconds(86_400)).quota(1000L, "inference").graceDays(14L).allowCode(true).issue();
        License l = LicenseFiles.read(file, trusted);
        assertEquals(new License("lic-1", "Acme Models", Pem.fingerprint(vendor.getPublic()), "factory-7", "box-1",
                Pem.fingerprint(device.getPublic()), "fashion-mnist", "[1.0.0,2.0.0)", T0.plusSeconds(60),
                T0.plusSeconds(86_400), "inference", 1000, 14, true, T0), l);
        assertTrue(l.bound());
        assertTrue(l.hasQuota());
        assertEquals(LicenseFiles.LICENSE_FORMAT, LicenseFiles.format(file));
    }

    @Test
    public void anUnboundLicenseHasEmptyDeviceAndNoLimits() throws Exception {
        License l = LicenseFiles.read(issuer().issue(), trusted);
        assertEquals("", l.deviceId());
        assertEquals("", l.deviceKey());
        assertFalse(l.bound());
        assertEquals(Instant.MAX, l.expires());
        assertEquals(License.UNLIMITED, l.quota());
        assertEquals(License.UNLIMITED, l.graceDays());
        assertFalse(l.allowCode());
        assertEquals(T0, l.notBefore());
        assertEquals(36, l.id().length()); // a UUID by default
    }

    @Test
    public void aFlippedBitAtEveryByteIsRefused() throws Exception {
        byte[] file = issuer().device("box-1", device.getPublic()).quota(5L, "inference").issue();
        LicenseFiles.read(file, trusted);
        List<String> accepted = new ArrayList<>();
        for (int i = 0; i < file.length * 8; i++) {
            try {
                LicenseFiles.read(TestJars.flip(file, i), trusted);
                accepted.add("byte " + i / 8 + " bit " + i % 8);
            } catch (LicenseException e) {
                assertTrue(e.getMessage(), e.refusal() == Refusal.INVALID_LICENSE
                        || e.refusal() == Refusal.UNKNOWN_VENDOR);
                assertTrue(e.getMessage(), e.getMessage().startsWith(e.refusal().words() + ": "));
            }
        }
        assertEquals("flips that were accepted", List.of(), accepted);
    }

    @Test
    public void aFlippedBitAtEveryByteOfThePayloadAndSignatureIsRefused() throws Exception {
        byte[] file = issuer().issue();
        String[] parts = envelope(file);
        byte[] payload = Base64.getDecoder().decode(parts[1]);
        byte[] sig = Base64.getDecoder().decode(parts[2]);
        for (int i = 0; i < payload.length * 8; i++) {
            try {
                LicenseFiles.read(envelope(parts[0], TestJars.flip(payload, i), sig), trusted);
                fail("payload bit " + i + " flipped, accepted");
            } catch (LicenseException e) {
                // a flip inside vendor_key names another (untrusted) key: refused before the signature check
                assertTrue(e.getMessage(), e.refusal() == Refusal.INVALID_LICENSE
                        || e.refusal() == Refusal.UNKNOWN_VENDOR);
            }
        }
        for (int i = 0; i < sig.length * 8; i++) {
            expect(Refusal.INVALID_LICENSE, envelope(parts[0], payload, TestJars.flip(sig, i)),
                    "signature does not verify");
        }
    }

    @Test
    public void anUntrustedVendorIsUnknownVendor() throws Exception {
        KeyPair other = KeyPairGenerator.getInstance("Ed25519").generateKeyPair();
        byte[] file = new LicenseIssuer("Other", other.getPrivate(), other.getPublic()).tenant("t").plugin("p").issue();
        expect(Refusal.UNKNOWN_VENDOR, file, "not a trusted vendor");
        expect(Refusal.UNKNOWN_VENDOR, issuer().issue(), Map.of(), "not a trusted vendor");
        // a trusted map whose key does not match its fingerprint trusts nothing
        expect(Refusal.UNKNOWN_VENDOR, issuer().issue(), Map.of(Pem.fingerprint(vendor.getPublic()),
                other.getPublic()), "not a trusted vendor");
    }

    @Test
    public void aLicenseSignedByAnotherKeyNamingTheTrustedVendorIsInvalid() throws Exception {
        KeyPair other = KeyPairGenerator.getInstance("Ed25519").generateKeyPair();
        String payload = issuer().payload();
        expect(Refusal.INVALID_LICENSE, envelope(LicenseFiles.LICENSE_FORMAT, payload, other.getPrivate()),
                "signature does not verify");
    }

    @Test
    public void malformedEnvelopesAreInvalid() throws Exception {
        byte[] good = issuer().issue();
        String[] p = envelope(good);
        String fmt = "{\"format\":\"%s\",\"payload\":\"%s\",\"signature\":\"%s\"}";
        expect(Refusal.INVALID_LICENSE, bytes("not json"), "malformed JSON");
        expect(Refusal.INVALID_LICENSE, bytes("[1]"), "not a JSON object");
        expect(Refusal.INVALID_LICENSE, bytes(String.format(fmt, "tollgate-license/2", p[1], p[2])), "format is");
        expect(Refusal.INVALID_LICENSE, bytes(String.format(fmt, LicenseFiles.REVOCATIONS_FORMAT, p[1], p[2])),
                "format is");
        expect(Refusal.INVALID_LICENSE, bytes("{\"format\":\"" + p[0] + "\",\"payload\":\"" + p[1] + "\"}"),
                "\"signature\" is missing");
        expect(Refusal.INVALID_LICENSE, bytes(String.format(fmt, p[0], p[1], p[2]).replace("}", ",\"x\":1}")),
                "unknown envelope field \"x\"");
        expect(Refusal.INVALID_LICENSE, bytes(String.format(fmt, p[0], p[1], p[2]).replace("}",
                ",\"format\":\"" + p[0] + "\"}")), "duplicate key");
        String padded = issuer().payload();
        while (padded.length() % 3 != 1) {
            padded += " "; // 3n+1 bytes: base64 ends in "=="
        }
        String[] q = envelope(envelope(LicenseFiles.LICENSE_FORMAT, padded, vendor.getPrivate()));
        assertTrue(q[1], q[1].endsWith("="));
        LicenseFiles.read(bytes(String.format(fmt, q[0], q[1], q[2]) + "\n"), trusted);
        expect(Refusal.INVALID_LICENSE, bytes(String.format(fmt, q[0], q[1].replace("=", ""), q[2])),
                "canonical padded base64");
        expect(Refusal.INVALID_LICENSE, bytes(String.format(fmt, p[0], p[1], "AAAA")), "is 3 bytes");
        expect(Refusal.INVALID_LICENSE, bytes(String.format(fmt, p[0], "%%%", p[2])), "not base64");
        expect(Refusal.INVALID_LICENSE, new byte[] {(byte) 0xC3, (byte) 0x28}, "not UTF-8");
        expect(Refusal.INVALID_LICENSE, new byte[2 << 20], "larger than 1 MiB");
        // white space around tokens is allowed (an edited file), text after the object is not
        LicenseFiles.read(bytes(" \n" + new String(good, StandardCharsets.UTF_8).replace(",", " ,\n ") + "\n\n"),
                trusted);
        expect(Refusal.INVALID_LICENSE, bytes(new String(good, StandardCharsets.UTF_8) + "{}"), "after the value");
    }

    @Test
    public void malformedPayloadsAreInvalidEvenWhenSigned() throws Exception {
        String good = issuer().payload();
        String fp = Pem.fingerprint(vendor.getPublic());
        expectPayload(good.replace("\"tenant\":\"factory-7\",", ""), "field \"tenant\" is missing");
        expectPayload(good.replace("}", ",\"extra\":1}"), "unknown license field \"extra\"");
        expectPayload(good.replace("\"tenant\":\"factory-7\"", "\"tenant\":\"\""), "\"tenant\" must be a non-empty");
        expectPayload(good.replace("\"tenant\":\"factory-7\"", "\"tenant\":7"), "\"tenant\" must be a non-empty");
        expectPayload(good.replace("\"quota\":null", "\"quota\":-1"), "\"quota\" must be a non-negative");
        expectPayload(good.replace("\"quota\":null", "\"quota\":1.5"), "only integers");
        expectPayload(good.replace("\"quota\":null", "\"quota\":\"5\""), "\"quota\" must be a non-negative");
        expectPayload(good.replace("\"grace_days\":null", "\"grace_days\":-3"), "\"grace_days\" must be");
        expectPayload(good.replace("\"allow_code\":false", "\"allow_code\":\"no\""), "allow_code must be");
        expectPayload(good.replace("\"versions\":\"[1.0.0,2.0.0)\"", "\"versions\":\"[2.0.0,1.0.0)\""),
                "versions: empty version range");
        expectPayload(good.replace("\"versions\":\"[1.0.0,2.0.0)\"", "\"versions\":\"one\""), "versions: not an OSGi");
        expectPayload(good.replace("\"not_before\":\"2026-11-01T00:00:00Z\"", "\"not_before\":\"yesterday\""),
                "\"not_before\" is not an ISO-8601 instant");
        expectPayload(good.replace("\"expires\":null", "\"expires\":\"2026-11-01T00:00:00Z\""),
                "is not after not_before");
        expectPayload(good.replace("\"device_key\":null", "\"device_key\":\"" + fp + "\""),
                "device_key must be null when device_id is null");
        expectPayload(good.replace("\"device_id\":null", "\"device_id\":\"box\""), "\"device_key\" must be");
        expectPayload(good.replace("\"device_id\":null,\"device_key\":null",
                "\"device_id\":\"box\",\"device_key\":\"ABC\""), "device_key is not a key fingerprint");
        expectPayload(good.replace("{", "[{").replace("}", "}]"), "payload is not a JSON object");
        expectPayload(good.replace("\"plugin\":\"fashion-mnist\"", "\"plugin\":\"fashion-mnist\",\"plugin\":\"x\""),
                "duplicate key");
        String badKey = good.replace(fp, fp.toUpperCase());
        expect(Refusal.INVALID_LICENSE, envelope(LicenseFiles.LICENSE_FORMAT, badKey, vendor.getPrivate()),
                "vendor_key is not a key fingerprint");
    }

    @Test
    public void revocationsRoundTripAndRefuseTampering() throws Exception {
        byte[] file = RevocationIssuer.issue(vendor.getPrivate(), vendor.getPublic(), List.of("a", "b", "a"), T0);
        assertEquals(Set.of("a", "b"), LicenseFiles.readRevocations(file, trusted));
        LicenseFiles.Revocations list = LicenseFiles.revocationList(file, trusted);
        assertEquals(Pem.fingerprint(vendor.getPublic()), list.vendorKey());
        assertEquals(T0, list.issuedAt());
        assertEquals(LicenseFiles.REVOCATIONS_FORMAT, LicenseFiles.format(file));
        for (int i = 0; i < file.length * 8; i++) {
            try {
                LicenseFiles.readRevocations(TestJars.flip(file, i), trusted);
                fail("flipped bit " + i + " accepted");
            } catch (LicenseException e) {
                assertTrue(e.getMessage(), e.refusal() == Refusal.INVALID_LICENSE
                        || e.refusal() == Refusal.UNKNOWN_VENDOR);
            }
        }
        try {
            LicenseFiles.readRevocations(file, Map.of());
            fail();
        } catch (LicenseException e) {
            assertEquals(Refusal.UNKNOWN_VENDOR, e.refusal());
        }
        try {
            LicenseFiles.readRevocations(issuer().issue(), trusted);
            fail("a license is not a revocation list");
        } catch (LicenseException e) {
            assertEquals(Refusal.INVALID_LICENSE, e.refusal());
        }
        try {
            LicenseFiles.read(file, trusted);
            fail("a revocation list is not a license");
        } catch (LicenseException e) {
            assertEquals(Refusal.INVALID_LICENSE, e.refusal());
        }
        String fp = Pem.fingerprint(vendor.getPublic());
        String bad = "{\"vendor_key\":\"" + fp + "\",\"issued_at\":\"2026-11-01T00:00:00Z\",\"revoked\":[1]}";
        expect(Refusal.INVALID_LICENSE, envelope(LicenseFiles.REVOCATIONS_FORMAT, bad, vendor.getPrivate()),
                "revoked must be an array of non-empty", true);
        bad = "{\"vendor_key\":\"" + fp + "\",\"issued_at\":\"2026-11-01T00:00:00Z\",\"revoked\":\"a\"}";
        expect(Refusal.INVALID_LICENSE, envelope(LicenseFiles.REVOCATIONS_FORMAT, bad, vendor.getPrivate()),
                "revoked must be an array", true);
    }

    private static void expectPayload(String payload, String inMessage) throws GeneralSecurityException {
        expect(Refusal.INVALID_LICENSE, envelope(LicenseFiles.LICENSE_FORMAT, payload, vendor.getPrivate()),
                inMessage);
    }

    static byte[] envelope(String format, String payload, PrivateKey key) throws GeneralSecurityException {
        byte[] bytes = payload.getBytes(StandardCharsets.UTF_8);
        Signature s = Signature.getInstance("Ed25519");
        s.initSign(key);
        s.update(bytes);
        return envelope(format, bytes, s.sign());
    }

    private static byte[] envelope(String format, byte[] payload, byte[] signature) {
        return bytes("{\"format\":\"" + format + "\",\"payload\":\"" + Base64.getEncoder().encodeToString(payload)
                + "\",\"signature\":\"" + Base64.getEncoder().encodeToString(signature) + "\"}\n");
    }

    /** format, payload base64, signature base64 of an envelope the issuer wrote. */
    private static String[] envelope(byte[] file) {
        String s = new String(file, StandardCharsets.UTF_8);
        java.util.regex.Matcher m = java.util.regex.Pattern
                .compile("\\{\"format\":\"([^\"]+)\",\"payload\":\"([^\"]+)\",\"signature\":\"([^\"]+)\"}\n").matcher(s);
        assertTrue(s, m.matches());
        return new String[] {m.group(1), m.group(2), m.group(3)};
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private static void expect(Refusal refusal, byte[] file, String inMessage) {
        expect(refusal, file, trusted, inMessage);
    }

    private static void expect(Refusal refusal, byte[] file, String inMessage, boolean revocations) {
        try {
            LicenseFiles.readRevocations(file, trusted);
            fail("accepted, expected " + refusal);
        } catch (LicenseException e) {
            assertEquals(e.getMessage(), refusal, e.refusal());
            assertTrue(e.getMessage() + " should contain " + inMessage, e.getMessage().contains(inMessage));
        }
    }

    private static void expect(Refusal refusal, byte[] file, Map<String, PublicKey> keys, String inMessage) {
        try {
            License l = LicenseFiles.read(file, keys);
            fail("accepted " + l + ", expected " + refusal);
        } catch (LicenseException e) {
            assertEquals(e.getMessage(), refusal, e.refusal());
            assertTrue(e.getMessage(), e.getMessage().startsWith(refusal.words() + ": "));
            if (inMessage != null) {
                assertTrue(e.getMessage() + " should contain " + inMessage, e.getMessage().contains(inMessage));
            }
        }
    }
}
