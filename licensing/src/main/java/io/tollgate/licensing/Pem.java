package io.tollgate.licensing;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.spec.PKCS8EncodedKeySpec;
import java.security.spec.X509EncodedKeySpec;
import java.util.Base64;
import java.util.HexFormat;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Ed25519 keys in PEM files (docs/licensing.md, "Keys"): public keys as {@code -----BEGIN PUBLIC KEY-----}
 * (X.509 SubjectPublicKeyInfo, what {@code openssl pkey -pubout} writes), private keys as
 * {@code -----BEGIN PRIVATE KEY-----} (PKCS#8, what {@code openssl genpkey -algorithm ed25519} writes). Exactly one
 * PEM block per file; text around it is not allowed except white space. JDK crypto only.
 *
 * @since 1.0
 */
public final class Pem {
    private static final Pattern BLOCK = Pattern.compile(
            "\\A\\s*-----BEGIN ([A-Z ]+)-----\\r?\\n([A-Za-z0-9+/=\\r\\n]+?)-----END \\1-----\\s*\\z");

    private Pem() {
    }

    /**
     * Reads an Ed25519 public key from a PEM file.
     *
     * @throws IOException the file cannot be read ({@link java.nio.file.NoSuchFileException} and friends), or it is
     *                     not one {@code PUBLIC KEY} PEM block holding an Ed25519 key (the message names the file)
     */
    public static PublicKey readPublicKey(Path pem) throws IOException {
        String text = Files.readString(pem, StandardCharsets.US_ASCII);
        try {
            return publicKey(text);
        } catch (IOException e) {
            throw new IOException(pem + ": " + e.getMessage(), e);
        }
    }

    /**
     * Reads an Ed25519 private key (PKCS#8) from a PEM file.
     *
     * @throws IOException unreadable, or not one {@code PRIVATE KEY} PEM block holding an Ed25519 key
     */
    public static PrivateKey readPrivateKey(Path pem) throws IOException {
        String text = Files.readString(pem, StandardCharsets.US_ASCII);
        byte[] der;
        try {
            der = block(text, "PRIVATE KEY");
        } catch (IOException e) {
            throw new IOException(pem + ": " + e.getMessage(), e);
        }
        try {
            PrivateKey key = KeyFactory.getInstance("Ed25519").generatePrivate(new PKCS8EncodedKeySpec(der));
            if (!"EdDSA".equals(key.getAlgorithm()) && !"Ed25519".equals(key.getAlgorithm())) {
                throw new IOException(pem + ": not an Ed25519 private key (" + key.getAlgorithm() + ")");
            }
            return key;
        } catch (GeneralSecurityException | RuntimeException e) {
            throw new IOException(pem + ": not an Ed25519 private key (PKCS#8): " + e.getMessage(), e);
        }
    }

    /**
     * Parses an Ed25519 public key from PEM text.
     *
     * @throws IOException not one {@code PUBLIC KEY} PEM block, or the key is not Ed25519
     */
    public static PublicKey publicKey(String pemText) throws IOException {
        byte[] der = block(pemText, "PUBLIC KEY");
        try {
            return KeyFactory.getInstance("Ed25519").generatePublic(new X509EncodedKeySpec(der));
        } catch (GeneralSecurityException | RuntimeException e) {
            throw new IOException("not an Ed25519 public key (X.509 SubjectPublicKeyInfo): " + e.getMessage(), e);
        }
    }

    /** PEM text of a public key ({@code -----BEGIN PUBLIC KEY-----}, 64-character lines, trailing newline). */
    public static String encode(PublicKey key) {
        return encode("PUBLIC KEY", key.getEncoded());
    }

    /** PEM text of a private key ({@code -----BEGIN PRIVATE KEY-----}, PKCS#8). */
    public static String encode(PrivateKey key) {
        return encode("PRIVATE KEY", key.getEncoded());
    }

    /** Key fingerprint: lower-case hex SHA-256 of the key's DER SubjectPublicKeyInfo (64 hex digits). */
    public static String fingerprint(PublicKey key) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(key.getEncoded()));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 missing from the JDK", e);
        }
    }

    private static String encode(String type, byte[] der) {
        return "-----BEGIN " + type + "-----\n"
                + Base64.getMimeEncoder(64, new byte[] {'\n'}).encodeToString(der)
                + "\n-----END " + type + "-----\n";
    }

    /**
     * The DER of the one {@code type} PEM block of {@code text} (e.g. an X25519 wrap key); the message names
     * {@code file}.
     *
     * @since 1.1
     */
    public static byte[] der(String text, String type, Path file) throws IOException {
        try {
            return block(text, type);
        } catch (IOException e) {
            throw new IOException(file + ": " + e.getMessage(), e);
        }
    }

    private static byte[] block(String text, String type) throws IOException {
        Matcher m = BLOCK.matcher(text);
        if (!m.matches()) {
            throw new IOException("not a PEM file (expected one -----BEGIN " + type + "----- block)");
        }
        if (!m.group(1).equals(type)) {
            throw new IOException("a " + m.group(1) + " PEM block where a " + type + " was expected");
        }
        try {
            return Base64.getMimeDecoder().decode(m.group(2));
        } catch (IllegalArgumentException e) {
            throw new IOException("bad base64 in the PEM block: " + e.getMessage(), e);
        }
    }
}
