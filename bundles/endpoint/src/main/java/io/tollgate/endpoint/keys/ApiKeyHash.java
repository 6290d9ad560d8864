package io.tollgate.endpoint.keys;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.HexFormat;
import java.util.regex.Pattern;

/**
 * API keys and their hashes. A key is {@code tgk_<id>_<secret>}: {@code <id>} 12 lowercase hex digits (names the
 * entry in the key file, shown by {@code keys list}, safe to log), {@code <secret>} 43 base64url characters (256
 * random bits from {@link SecureRandom}). The key file stores the SHA-256 of the whole key; a presented key is
 * looked up by its id and its hash compared in constant time ({@link #matches}). A plain SHA-256 suffices because
 * the secret is random and 256 bits long: there is no dictionary to try, and a preimage search is out of reach, so
 * a slow password hash (bcrypt, Argon2) would only cost each request milliseconds on the event loop (decision
 * 2026-11-30 in docs/decisions.md).
 */
public final class ApiKeyHash {
    /** Every key starts with this. */
    public static final String PREFIX = "tgk_";
    /** What an id is: 12 lowercase hex digits. */
    public static final Pattern ID = Pattern.compile("[0-9a-f]{12}");
    private static final Pattern KEY = Pattern.compile("tgk_([0-9a-f]{12})_[A-Za-z0-9_-]{43}");
    private static final Pattern SHA256_HEX = Pattern.compile("[0-9a-f]{64}");
    private static final SecureRandom RANDOM = new SecureRandom();

    private ApiKeyHash() {
    }

    /** A new random id. */
    static String newId() {
        byte[] b = new byte[6];
        RANDOM.nextBytes(b);
        return HexFormat.of().formatHex(b);
    }

    /** A new key with this id: {@code tgk_<id>_<43 base64url characters>}. */
    static String newKey(String id) {
        byte[] secret = new byte[32];
        RANDOM.nextBytes(secret);
        return PREFIX + id + "_" + Base64.getUrlEncoder().withoutPadding().encodeToString(secret);
    }

    /**
     * The id of a key as presented by a client.
     *
     * @throws IllegalArgumentException when {@code key} does not have the form of a Tollgate API key; the message
     *                                  does not repeat the key
     */
    public static String idOf(String key) {
        var m = KEY.matcher(key);
        if (!m.matches()) {
            throw new IllegalArgumentException("the bearer token is not a Tollgate API key (tgk_ followed by a 12-digit "
                    + "hex id, '_' and 43 base64url characters, as bin/tollgate keys add prints it)");
        }
        return m.group(1);
    }

    /** The SHA-256 of a key, lowercase hex: what the key file stores. */
    public static String ofKey(String key) {
        return sha256(key.getBytes(StandardCharsets.US_ASCII));
    }

    /** The SHA-256 of a certificate's DER encoding, lowercase hex (as {@code openssl x509 -fingerprint -sha256}). */
    public static String ofCertificate(byte[] der) {
        return sha256(der);
    }

    /** Whether two hex hashes are equal, in time independent of where they differ. */
    public static boolean matches(String expectedHex, String actualHex) {
        return MessageDigest.isEqual(expectedHex.getBytes(StandardCharsets.US_ASCII),
                actualHex.getBytes(StandardCharsets.US_ASCII));
    }

    static boolean isSha256Hex(String s) {
        return s != null && SHA256_HEX.matcher(s).matches();
    }

    private static String sha256(byte[] bytes) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JDK has SHA-256", e);
        }
    }
}
