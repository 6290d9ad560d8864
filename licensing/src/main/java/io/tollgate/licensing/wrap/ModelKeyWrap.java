package io.tollgate.licensing.wrap;

import io.tollgate.licensing.LicenseException;
import io.tollgate.licensing.ModelCipher;
import io.tollgate.licensing.Pem;
import io.tollgate.licensing.Refusal;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.spec.PKCS8EncodedKeySpec;
import java.security.spec.X509EncodedKeySpec;
import java.util.Arrays;
import java.util.Base64;
import java.util.HexFormat;
import org.bouncycastle.crypto.AsymmetricCipherKeyPair;
import org.bouncycastle.crypto.InvalidCipherTextException;
import org.bouncycastle.crypto.hpke.HPKE;

/**
 * Wrapping a model key for one device (docs/licensing.md, "Encrypted models"): HPKE (RFC 9180) base mode,
 * DHKEM(X25519, HKDF-SHA256), HKDF-SHA256, AES-256-GCM, with BouncyCastle's {@link HPKE}; info =
 * {@value #INFO} (UTF-8), aad = the license id, one zero byte, the key id (UTF-8). The wrapped form is the
 * encapsulated key (32 bytes) followed by the sealed 32-byte key and its 16-byte tag: 80 bytes.
 *
 * <p>The device's wrap key pair is X25519 in PEM files ({@code data/device/wrap-private.pem}, PKCS#8, and
 * {@code wrap-public.pem}, SubjectPublicKeyInfo), made with the JDK. This class needs BouncyCastle (bcprov) on the
 * class path: the vendor tool and the launcher have it (bin/tollgate puts it there), which is why this class is not in
 * the JDK-only, exported {@code io.tollgate.licensing}: this package is private to the launcher's license store and
 * the vendor side.
 */
public final class ModelKeyWrap {
    /** HPKE info. */
    public static final String INFO = "tollgate model key v1";
    /** File names in {@code data/device}. */
    public static final String PRIVATE_FILE = "wrap-private.pem";
    public static final String PUBLIC_FILE = "wrap-public.pem";
    /** Length of the wrapped form in bytes. */
    public static final int WRAPPED_BYTES = 32 + ModelCipher.KEY_BYTES + 16;
    private static final byte[] SPKI_PREFIX = HexFormat.of().parseHex("302a300506032b656e032100");
    private static final byte[] PKCS8_PREFIX = HexFormat.of().parseHex("302e020100300506032b656e04220420");

    private ModelKeyWrap() {
    }

    /** The aad: license id, a zero byte, key id (UTF-8). */
    public static byte[] aad(String licenseId, String keyId) {
        byte[] l = licenseId.getBytes(StandardCharsets.UTF_8);
        byte[] k = keyId.getBytes(StandardCharsets.UTF_8);
        byte[] out = new byte[l.length + 1 + k.length];
        System.arraycopy(l, 0, out, 0, l.length);
        System.arraycopy(k, 0, out, l.length + 1, k.length);
        return out;
    }

    /**
     * Wraps a model key for the device whose wrap public key is {@code wrapKey} (vendor side).
     *
     * @return the 80-byte wrapped form
     */
    public static byte[] wrap(PublicKey wrapKey, String licenseId, String keyId, byte[] key) {
        return wrap(wrapKey, licenseId, keyId, key, null);
    }

    /**
     * As {@link #wrap(PublicKey, String, String, byte[])}, with the ephemeral key pair derived from {@code ikm}
     * (RFC 9180 DeriveKeyPair) instead of a random one: only for reproducible test vectors.
     */
    public static byte[] wrap(PublicKey wrapKey, String licenseId, String keyId, byte[] key, byte[] ikm) {
        if (key.length != ModelCipher.KEY_BYTES) {
            throw new IllegalArgumentException("a model key is " + ModelCipher.KEY_BYTES + " bytes");
        }
        return Hpke.wrap(wrapKey, licenseId, keyId, key, ikm);
    }

    /**
     * Unwraps a model key with this device's wrap key pair (appliance side).
     *
     * @return the 32-byte key; the caller zeroes it after use
     * @throws LicenseException {@link Refusal#WRONG_DEVICE} when it does not open with this key pair (wrapped for
     *                          another device, or for another license id or key id)
     */
    public static byte[] unwrap(KeyPair device, String licenseId, String keyId, byte[] wrapped)
            throws LicenseException {
        if (wrapped.length != WRAPPED_BYTES) {
            throw new LicenseException(Refusal.INVALID_LICENSE, Refusal.INVALID_LICENSE.words() + ": the wrapped model"
                    + " key " + keyId + " is " + wrapped.length + " bytes, not " + WRAPPED_BYTES);
        }
        return Hpke.unwrap(device, licenseId, keyId, wrapped);
    }

    /** A new X25519 key pair (JDK). */
    public static KeyPair generate() {
        try {
            return KeyPairGenerator.getInstance("X25519").generateKeyPair();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("the JDK has no X25519", e);
        }
    }

    /** Reads an X25519 wrap public key (PEM, SubjectPublicKeyInfo). */
    public static PublicKey readPublicKey(Path pem) throws IOException {
        byte[] der = Pem.der(Files.readString(pem, StandardCharsets.US_ASCII), "PUBLIC KEY", pem);
        try {
            if (der.length != 44 || !Arrays.equals(der, 0, 12, SPKI_PREFIX, 0, 12)) {
                throw new IOException(pem + ": not an X25519 public key (a wrap key is X25519;"
                        + " bin/tollgate device wrap-key prints it)");
            }
            return KeyFactory.getInstance("X25519").generatePublic(new X509EncodedKeySpec(der));
        } catch (GeneralSecurityException e) {
            throw new IOException(pem + ": not an X25519 public key: " + e.getMessage(), e);
        }
    }

    /** Reads an X25519 wrap private key (PEM, PKCS#8). */
    public static PrivateKey readPrivateKey(Path pem) throws IOException {
        byte[] der = Pem.der(Files.readString(pem, StandardCharsets.US_ASCII), "PRIVATE KEY", pem);
        try {
            if (der.length != 48 || !Arrays.equals(der, 0, 16, PKCS8_PREFIX, 0, 16)) {
                throw new IOException(pem + ": not an X25519 private key (PKCS#8)");
            }
            return KeyFactory.getInstance("X25519").generatePrivate(new PKCS8EncodedKeySpec(der));
        } catch (GeneralSecurityException e) {
            throw new IOException(pem + ": not an X25519 private key: " + e.getMessage(), e);
        } finally {
            Arrays.fill(der, (byte) 0);
        }
    }

    /** The fingerprint of a wrap public key: lower-case hex SHA-256 of its SubjectPublicKeyInfo DER. */
    public static String fingerprint(PublicKey wrapKey) {
        return Pem.fingerprint(wrapKey);
    }

    /** Standard base64 of the wrapped form, as license payloads carry it. */
    public static String base64(byte[] wrapped) {
        return Base64.getEncoder().encodeToString(wrapped);
    }

    static byte[] rawPublic(PublicKey key) {
        byte[] der = key.getEncoded();
        if (der.length != 44 || !Arrays.equals(der, 0, 12, SPKI_PREFIX, 0, 12)) {
            throw new IllegalArgumentException("not an X25519 public key");
        }
        return Arrays.copyOfRange(der, 12, 44);
    }

    private static byte[] rawPrivate(PrivateKey key) {
        byte[] der = key.getEncoded();
        try {
            if (der.length != 48 || !Arrays.equals(der, 0, 16, PKCS8_PREFIX, 0, 16)) {
                throw new IllegalArgumentException("not an X25519 private key");
            }
            return Arrays.copyOfRange(der, 16, 48);
        } finally {
            Arrays.fill(der, (byte) 0);
        }
    }

    /**
     * The BouncyCastle part, in a class of its own so that reading and making wrap keys (the launcher at start) does
     * not load BouncyCastle: only wrapping and unwrapping do.
     */
    private static final class Hpke {
        private static HPKE hpke() {
            return new HPKE(HPKE.mode_base, HPKE.kem_X25519_SHA256, HPKE.kdf_HKDF_SHA256, HPKE.aead_AES_GCM256);
        }

        static byte[] wrap(PublicKey wrapKey, String licenseId, String keyId, byte[] key, byte[] ikm) {
            HPKE hpke = hpke();
            try {
                var pkR = hpke.deserializePublicKey(rawPublic(wrapKey));
                byte[] aad = aad(licenseId, keyId);
                byte[] enc;
                byte[] ct;
                if (ikm == null) {
                    byte[][] sealed = hpke.seal(pkR, INFO.getBytes(StandardCharsets.UTF_8), aad, key, null, null, null);
                    ct = sealed[0];
                    enc = sealed[1];
                } else {
                    var ctx = hpke.setupBaseS(pkR, INFO.getBytes(StandardCharsets.UTF_8), hpke.deriveKeyPair(ikm));
                    ct = ctx.seal(aad, key);
                    enc = ctx.getEncapsulation();
                }
                byte[] out = Arrays.copyOf(enc, enc.length + ct.length);
                System.arraycopy(ct, 0, out, enc.length, ct.length);
                return out;
            } catch (InvalidCipherTextException | RuntimeException e) {
                throw new IllegalArgumentException("cannot wrap the model key: " + e.getMessage(), e);
            }
        }

        static byte[] unwrap(KeyPair device, String licenseId, String keyId, byte[] wrapped) throws LicenseException {
            HPKE hpke = hpke();
            byte[] sk = rawPrivate(device.getPrivate());
            try {
                AsymmetricCipherKeyPair skR = hpke.deserializePrivateKey(sk, rawPublic(device.getPublic()));
                byte[] enc = Arrays.copyOf(wrapped, 32);
                byte[] ct = Arrays.copyOfRange(wrapped, 32, wrapped.length);
                return hpke.open(enc, skR, INFO.getBytes(StandardCharsets.UTF_8), aad(licenseId, keyId), ct, null, null,
                        null);
            } catch (InvalidCipherTextException | RuntimeException e) {
                throw new LicenseException(Refusal.WRONG_DEVICE, Refusal.WRONG_DEVICE.words() + ": the model key "
                        + keyId + " in license " + licenseId + " does not open with this device's wrap key (it was wrapped"
                        + " for another device); send this box's data/device/" + PUBLIC_FILE + " (bin/tollgate device"
                        + " wrap-key) to the vendor for a license made for it");
            } finally {
                Arrays.fill(sk, (byte) 0);
            }
        }
    }
}
