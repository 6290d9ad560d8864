package io.tollgate.licensing.vendor;

import static org.junit.Assert.assertArrayEquals;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

import io.tollgate.licensing.License;
import io.tollgate.licensing.LicenseException;
import io.tollgate.licensing.LicenseFiles;
import io.tollgate.licensing.ModelCipher;
import io.tollgate.licensing.ModelKey;
import io.tollgate.licensing.wrap.ModelKeyWrap;
import io.tollgate.licensing.Pem;
import io.tollgate.licensing.Refusal;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.Map;
import org.junit.Rule;
import org.junit.Test;
import org.junit.rules.TemporaryFolder;

/**
 * Encrypted models (issue 10): encrypt, wrap the key into a bound license, read the license back, unwrap with the
 * device's wrap key, decrypt; and every way it must be refused.
 */
public class ModelEncryptionTest {
    @Rule
    public final TemporaryFolder tmp = new TemporaryFolder();

    private final SecureRandom random = new SecureRandom();
    private final KeyPair vendor = ed25519();
    private final KeyPair device = ed25519();
    private final KeyPair wrap = ModelKeyWrap.generate();
    private final byte[] clear = "an ONNX model, or any bytes: the cipher does not care".getBytes(StandardCharsets.UTF_8);

    private static KeyPair ed25519() {
        try {
            return KeyPairGenerator.getInstance("Ed25519").generateKeyPair();
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }

    private Map<String, PublicKey> trusted() {
        return Map.of(Pem.fingerprint(vendor.getPublic()), vendor.getPublic());
    }

    private LicenseIssuer issuer() {
        return new LicenseIssuer("Acme", vendor.getPrivate(), vendor.getPublic()).id("lic-1").tenant("t")
                .plugin("fm").device("tg-box", device.getPublic());
    }

    @Test
    public void roundTripEncryptWrapUnwrapDecrypt() throws Exception {
        ModelKeyFile key = ModelKeyFile.generate(random);
        byte[] file = key.encrypt(clear, random);
        assertEquals(key.keyId(), ModelCipher.keyId(file));
        assertFalse("the file holds no clear text", new String(file, StandardCharsets.ISO_8859_1).contains("ONNX"));

        License l = LicenseFiles.read(issuer().modelKey(key.keyId(), key.key(), wrap.getPublic()).issue(), trusted());
        assertEquals(1, l.modelKeys().size());
        ModelKey mk = l.modelKey(key.keyId()).orElseThrow();
        assertEquals(Pem.fingerprint(wrap.getPublic()), mk.wrapKey());
        assertEquals(ModelKeyWrap.WRAPPED_BYTES, mk.wrapped().length);

        byte[] unwrapped = ModelKeyWrap.unwrap(wrap, l.id(), mk.keyId(), mk.wrapped());
        assertArrayEquals(key.key(), unwrapped);
        assertArrayEquals(clear, ModelCipher.decrypt(file, unwrapped, key.keyId()));
    }

    @Test
    public void aFlippedBitAnywhereInTheEncryptedFileIsRefused() throws Exception {
        ModelKeyFile key = ModelKeyFile.generate(random);
        byte[] file = key.encrypt(clear, random);
        for (int i = 0; i < file.length; i++) {
            for (int bit = 0; bit < 8; bit++) {
                byte[] bad = file.clone();
                bad[i] ^= (byte) (1 << bit);
                try {
                    ModelCipher.decrypt(bad, key.key(), key.keyId());
                    fail("byte " + i + " bit " + bit + " flipped, yet it decrypted");
                } catch (LicenseException e) {
                    assertTrue(e.refusal() + ": " + e.getMessage(), e.refusal() == Refusal.TAMPERED
                            || e.refusal() == Refusal.UNSUPPORTED_ENCRYPTION);
                }
            }
        }
        // the body and the nonce are covered by the tag: "tampered", saying so
        byte[] bad = file.clone();
        bad[bad.length - 20] ^= 1;
        try {
            ModelCipher.decrypt(bad, key.key(), key.keyId());
            fail();
        } catch (LicenseException e) {
            assertEquals(Refusal.TAMPERED, e.refusal());
            assertTrue(e.getMessage(), e.getMessage().startsWith("tampered entry: the encrypted model file"));
        }
        // a truncated file and a clear model are "unsupported encryption"
        for (byte[] other : new byte[][] {java.util.Arrays.copyOf(file, 10), clear}) {
            try {
                ModelCipher.decrypt(other, key.key(), key.keyId());
                fail();
            } catch (LicenseException e) {
                assertEquals(Refusal.UNSUPPORTED_ENCRYPTION, e.refusal());
            }
        }
    }

    @Test
    public void aFlippedBitInTheWrappedKeyIsRefused() throws Exception {
        byte[] key = ModelCipher.newKey(random);
        byte[] wrapped = ModelKeyWrap.wrap(wrap.getPublic(), "lic-1", "k1", key);
        for (int i = 0; i < wrapped.length; i++) {
            byte[] bad = wrapped.clone();
            bad[i] ^= 1;
            try {
                ModelKeyWrap.unwrap(wrap, "lic-1", "k1", bad);
                fail("byte " + i + " flipped, yet it unwrapped");
            } catch (LicenseException e) {
                assertEquals(Refusal.WRONG_DEVICE, e.refusal());
            }
        }
        // the aad binds the license id and the key id
        for (String[] other : new String[][] {{"lic-2", "k1"}, {"lic-1", "k2"}}) {
            try {
                ModelKeyWrap.unwrap(wrap, other[0], other[1], wrapped);
                fail("unwrapped under " + String.join("/", other));
            } catch (LicenseException e) {
                assertEquals(Refusal.WRONG_DEVICE, e.refusal());
            }
        }
        assertArrayEquals(key, ModelKeyWrap.unwrap(wrap, "lic-1", "k1", wrapped));
    }

    @Test
    public void aFlippedBitAnywhereInALicenseCarryingAModelKeyIsRefused() throws Exception {
        ModelKeyFile key = ModelKeyFile.generate(random);
        byte[] lic = issuer().modelKey(key.keyId(), key.key(), wrap.getPublic()).issue();
        // every byte of the signed payload, the wrapped key among them: the signature no longer verifies
        String text = new String(lic, StandardCharsets.UTF_8);
        String payloadB64 = text.replaceAll(".*\"payload\":\"([^\"]*)\".*\\s*", "$1");
        byte[] payload = Base64.getDecoder().decode(payloadB64);
        for (int i = 0; i < payload.length; i++) {
            byte[] bad = payload.clone();
            bad[i] ^= 1;
            byte[] file = text.replace(payloadB64, Base64.getEncoder().encodeToString(bad))
                    .getBytes(StandardCharsets.UTF_8);
            try {
                LicenseFiles.read(file, trusted());
                fail("payload byte " + i + " flipped, yet it verified");
            } catch (LicenseException e) {
                // a flipped bit in vendor_key names another (untrusted) key
                assertTrue(e.getMessage(), e.refusal() == Refusal.INVALID_LICENSE
                        || e.refusal() == Refusal.UNKNOWN_VENDOR);
            }
        }
    }

    @Test
    public void theWrongDevicesWrapKeyIsRefusedWithTheReason() throws Exception {
        ModelKeyFile key = ModelKeyFile.generate(random);
        License l = LicenseFiles.read(issuer().modelKey(key.keyId(), key.key(), wrap.getPublic()).issue(), trusted());
        KeyPair otherBox = ModelKeyWrap.generate();
        try {
            ModelKeyWrap.unwrap(otherBox, l.id(), key.keyId(), l.modelKey(key.keyId()).orElseThrow().wrapped());
            fail("opened with another box's wrap key");
        } catch (LicenseException e) {
            assertEquals(Refusal.WRONG_DEVICE, e.refusal());
            assertTrue(e.getMessage(), e.getMessage().startsWith("wrong device: the model key " + key.keyId()
                    + " in license lic-1 does not open with this device's wrap key"));
        }
    }

    @Test
    public void anUnboundLicenseCannotCarryAModelKey() throws Exception {
        ModelKeyFile key = ModelKeyFile.generate(random);
        try {
            issuer().unbound().modelKey(key.keyId(), key.key(), wrap.getPublic()).issue();
            fail("issued an unbound license with a model key");
        } catch (IllegalArgumentException e) {
            assertTrue(e.getMessage(), e.getMessage().contains("must be bound"));
        }
        // a vendor tool that wrote one anyway: the appliance refuses the file
        String payload = "{\"license_id\":\"x\",\"vendor\":\"Acme\",\"vendor_key\":\"" + Pem.fingerprint(vendor.getPublic())
                + "\",\"tenant\":\"t\",\"device_id\":null,\"device_key\":null,\"plugin\":\"fm\",\"versions\":\"1.0.0\","
                + "\"not_before\":\"2026-01-01T00:00:00Z\",\"expires\":null,\"meter\":\"inference\",\"quota\":null,"
                + "\"grace_days\":null,\"allow_code\":false,\"issued_at\":\"2026-01-01T00:00:00Z\",\"model_keys\":[{"
                + "\"key_id\":\"k\",\"wrap_key\":\"" + Pem.fingerprint(wrap.getPublic()) + "\",\"wrapped\":\""
                + Base64.getEncoder().encodeToString(new byte[80]) + "\"}]}";
        try {
            LicenseFiles.read(Envelopes.seal(LicenseFiles.LICENSE_FORMAT, payload, vendor.getPrivate()), trusted());
            fail("read an unbound license with a model key");
        } catch (LicenseException e) {
            assertEquals(Refusal.INVALID_LICENSE, e.refusal());
            assertTrue(e.getMessage(), e.getMessage().contains("model_keys in an unbound license"));
        }
    }

    @Test
    public void aLicenseWithoutModelKeysIsTheSameBytesAsBefore() throws Exception {
        String payload = issuer().issuedAt(java.time.Instant.parse("2026-11-30T12:00:00Z")).payload();
        assertFalse(payload, payload.contains("model_keys"));
        assertTrue(LicenseFiles.read(issuer().issue(), trusted()).modelKeys().isEmpty());
    }

    @Test
    public void wrapKeysRoundTripThroughPemAndTheKeyFileIsPrivate() throws Exception {
        Path dir = tmp.newFolder().toPath();
        Files.writeString(dir.resolve("wrap-private.pem"), Pem.encode(wrap.getPrivate()));
        Files.writeString(dir.resolve("wrap-public.pem"), Pem.encode(wrap.getPublic()));
        KeyPair read = new KeyPair(ModelKeyWrap.readPublicKey(dir.resolve("wrap-public.pem")),
                ModelKeyWrap.readPrivateKey(dir.resolve("wrap-private.pem")));
        byte[] key = ModelCipher.newKey(random);
        assertArrayEquals(key, ModelKeyWrap.unwrap(read, "l", "k", ModelKeyWrap.wrap(wrap.getPublic(), "l", "k", key)));
        try {
            ModelKeyWrap.readPublicKey(writeEd25519(dir));
            fail("an Ed25519 key is not a wrap key");
        } catch (java.io.IOException e) {
            assertTrue(e.getMessage(), e.getMessage().contains("not an X25519 public key"));
        }

        ModelKeyFile k = ModelKeyFile.generate(random);
        Path f = dir.resolve("model.key");
        k.write(f);
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(f)));
        assertEquals(k, ModelKeyFile.read(f));
        assertFalse("the key id says nothing about the key", k.keyId().contains(Base64.getEncoder()
                .encodeToString(k.key()).substring(0, 8)));
    }

    private Path writeEd25519(Path dir) throws Exception {
        Path p = dir.resolve("ed.pem");
        Files.writeString(p, Pem.encode(device.getPublic()));
        return p;
    }
}
