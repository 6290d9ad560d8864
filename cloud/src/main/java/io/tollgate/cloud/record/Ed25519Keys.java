package io.tollgate.cloud.record;

import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.util.Arrays;
import java.util.Base64;
import org.bouncycastle.crypto.params.Ed25519PrivateKeyParameters;
import org.bouncycastle.crypto.params.Ed25519PublicKeyParameters;
import org.bouncycastle.crypto.signers.Ed25519Signer;

/**
 * Ed25519 keys as PEM (RFC 8410: SubjectPublicKeyInfo "PUBLIC KEY", PKCS#8 "PRIVATE KEY") and pure Ed25519
 * signatures through BouncyCastle's lightweight API. The DER of both structures is a fixed prefix followed by
 * the 32 raw key bytes, so no ASN.1 library is needed.
 */
public final class Ed25519Keys {
    private static final byte[] SPKI_PREFIX = Hex.parse("302a300506032b6570032100");
    private static final byte[] PKCS8_PREFIX = Hex.parse("302e020100300506032b657004220420");

    private Ed25519Keys() {
    }

    public static Ed25519PublicKeyParameters parsePublicPem(String pem) throws RecordFormatException {
        byte[] der = pemBody(pem, "PUBLIC KEY");
        if (der.length != SPKI_PREFIX.length + 32 || !Arrays.equals(der, 0, SPKI_PREFIX.length, SPKI_PREFIX, 0,
                SPKI_PREFIX.length)) {
            throw new RecordFormatException("the PUBLIC KEY PEM is not an Ed25519 SubjectPublicKeyInfo (RFC 8410); "
                    + "give the device's device.pub.pem (`tollgate device pubkey`)");
        }
        return new Ed25519PublicKeyParameters(der, SPKI_PREFIX.length);
    }

    public static Ed25519PrivateKeyParameters parsePrivatePem(String pem) throws RecordFormatException {
        byte[] der = pemBody(pem, "PRIVATE KEY");
        if (der.length != PKCS8_PREFIX.length + 32 || !Arrays.equals(der, 0, PKCS8_PREFIX.length, PKCS8_PREFIX, 0,
                PKCS8_PREFIX.length)) {
            throw new RecordFormatException("the PRIVATE KEY PEM is not an Ed25519 PKCS#8 key (RFC 8410)");
        }
        return new Ed25519PrivateKeyParameters(der, PKCS8_PREFIX.length);
    }

    public static String publicPem(Ed25519PublicKeyParameters key) {
        return pem("PUBLIC KEY", concat(SPKI_PREFIX, key.getEncoded()));
    }

    public static String privatePem(Ed25519PrivateKeyParameters key) {
        return pem("PRIVATE KEY", concat(PKCS8_PREFIX, key.getEncoded()));
    }

    /** SHA-256 of the SubjectPublicKeyInfo DER; its first 16 hex digits make the default device id. */
    public static String spkiSha256Hex(Ed25519PublicKeyParameters key) {
        return Hex.of(RecordDecoder.sha256(concat(SPKI_PREFIX, key.getEncoded())));
    }

    public static Ed25519PrivateKeyParameters generate() {
        return new Ed25519PrivateKeyParameters(new SecureRandom());
    }

    public static byte[] sign(Ed25519PrivateKeyParameters key, byte[] message) {
        Ed25519Signer signer = new Ed25519Signer();
        signer.init(true, key);
        signer.update(message, 0, message.length);
        return signer.generateSignature();
    }

    public static boolean verify(Ed25519PublicKeyParameters key, byte[] message, byte[] signature) {
        if (signature == null || signature.length != 64) {
            return false;
        }
        Ed25519Signer verifier = new Ed25519Signer();
        verifier.init(false, key);
        verifier.update(message, 0, message.length);
        return verifier.verifySignature(signature);
    }

    private static byte[] pemBody(String pem, String label) throws RecordFormatException {
        String begin = "-----BEGIN " + label + "-----";
        String end = "-----END " + label + "-----";
        int b = pem.indexOf(begin);
        int e = pem.indexOf(end);
        if (b < 0 || e < b) {
            throw new RecordFormatException("no '" + begin + "' ... '" + end + "' block in the PEM text");
        }
        String body = pem.substring(b + begin.length(), e).replaceAll("\\s", "");
        try {
            return Base64.getDecoder().decode(body);
        } catch (IllegalArgumentException ex) {
            throw new RecordFormatException("the " + label + " PEM body is not base64: " + ex.getMessage());
        }
    }

    private static String pem(String label, byte[] der) {
        String b64 = Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII)).encodeToString(der);
        return "-----BEGIN " + label + "-----\n" + b64 + "\n-----END " + label + "-----\n";
    }

    private static byte[] concat(byte[] a, byte[] b) {
        byte[] out = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }
}
