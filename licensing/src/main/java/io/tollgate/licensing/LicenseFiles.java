package io.tollgate.licensing;

import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.PublicKey;
import java.security.Signature;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.Base64;
import java.util.Collections;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Reads and verifies license files ({@code *.lic}) and revocation lists ({@code *.revocations}), the formats of
 * docs/licensing.md. Both are UTF-8 JSON envelopes around the exact signed bytes:
 * <pre>{"format":"tollgate-license/1","payload":"&lt;base64 of the payload JSON&gt;","signature":"&lt;base64 of the Ed25519 signature&gt;"}</pre>
 * The envelope is parsed strictly (exactly these three keys; standard padded base64 in its one canonical
 * spelling; a 64-byte signature; white space only around tokens), then the signature is verified with the
 * trusted vendor key named by the payload's {@code vendor_key}, then the payload is parsed strictly (every field
 * present, no other field, types and values checked). JDK crypto only.
 *
 * @since 1.0
 */
public final class LicenseFiles {
    /** The {@code format} of a license file. */
    public static final String LICENSE_FORMAT = "tollgate-license/1";
    /** The {@code format} of a revocation list. */
    public static final String REVOCATIONS_FORMAT = "tollgate-revocations/1";

    private static final Set<String> ENVELOPE_KEYS = Set.of("format", "payload", "signature");
    private static final Set<String> LICENSE_KEYS = Set.of("license_id", "vendor", "vendor_key", "tenant",
            "device_id", "device_key", "plugin", "versions", "not_before", "expires", "meter", "quota", "grace_days",
            "allow_code", "issued_at");
    /** Optional license fields (absent in licenses made before them). */
    private static final Set<String> OPTIONAL_LICENSE_KEYS = Set.of("model_keys");
    private static final Set<String> MODEL_KEY_KEYS = Set.of("key_id", "wrap_key", "wrapped");
    private static final Set<String> REVOCATION_KEYS = Set.of("vendor_key", "issued_at", "revoked");
    private static final Pattern FINGERPRINT = Pattern.compile("[0-9a-f]{64}");
    private static final int MAX_FILE_BYTES = 1 << 20;

    private LicenseFiles() {
    }

    /**
     * Parses and verifies a license file's bytes.
     *
     * @param file           the whole file
     * @param trustedVendors the box's trusted vendor keys, by fingerprint ({@link Pem#fingerprint})
     * @return the verified license ({@code deviceId}/{@code deviceKey} {@code ""} when unbound, {@code expires}
     *         {@link Instant#MAX} when it never expires, {@code quota}/{@code graceDays} {@link License#UNLIMITED}
     *         for JSON null)
     * @throws LicenseException {@link Refusal#UNKNOWN_VENDOR} when the payload's {@code vendor_key} is not a
     *                          trusted vendor; {@link Refusal#INVALID_LICENSE} for anything malformed, a signature
     *                          that does not verify, or a revocation list given as a license
     */
    public static License read(byte[] file, Map<String, PublicKey> trustedVendors) throws LicenseException {
        Map<String, Object> p = verified(file, LICENSE_FORMAT, "license", trustedVendors);
        exactKeys(p, LICENSE_KEYS, OPTIONAL_LICENSE_KEYS, "license");
        String vendorKey = string(p, "vendor_key");
        Object deviceId = p.get("device_id");
        Object deviceKey = p.get("device_key");
        String boundId;
        String boundKey;
        if (deviceId == Json.NULL) {
            if (deviceKey != Json.NULL) {
                throw invalid("device_key must be null when device_id is null (an unbound license)");
            }
            boundId = "";
            boundKey = "";
        } else {
            boundId = string(p, "device_id");
            boundKey = string(p, "device_key");
            if (!FINGERPRINT.matcher(boundKey).matches()) {
                throw invalid("device_key is not a key fingerprint (64 lower-case hex digits)");
            }
        }
        String versions = string(p, "versions");
        try {
            Versions.range(versions);
        } catch (IllegalArgumentException e) {
            throw invalid("versions: " + e.getMessage());
        }
        Instant notBefore = instant(p, "not_before");
        Instant expires = p.get("expires") == Json.NULL ? Instant.MAX : instant(p, "expires");
        if (!expires.isAfter(notBefore)) {
            throw invalid("expires (" + expires + ") is not after not_before (" + notBefore + ")");
        }
        long quota = count(p, "quota");
        long grace = count(p, "grace_days");
        if (!(p.get("allow_code") instanceof Boolean allowCode)) {
            throw invalid("allow_code must be true or false");
        }
        List<ModelKey> modelKeys = modelKeys(p);
        if (!modelKeys.isEmpty() && boundId.isEmpty()) {
            throw invalid("model_keys in an unbound license: a model key is wrapped for one device, so only a"
                    + " license bound to that device may carry it");
        }
        return new License(string(p, "license_id"), string(p, "vendor"), vendorKey, string(p, "tenant"), boundId,
                boundKey, string(p, "plugin"), versions, notBefore, expires, string(p, "meter"), quota, grace,
                allowCode, instant(p, "issued_at"), modelKeys);
    }

    private static List<ModelKey> modelKeys(Map<String, Object> p) throws LicenseException {
        if (!p.containsKey("model_keys")) {
            return List.of();
        }
        if (!(p.get("model_keys") instanceof List<?> list) || list.isEmpty()) {
            throw invalid("model_keys must be a non-empty array of {key_id, wrap_key, wrapped} objects");
        }
        List<ModelKey> out = new java.util.ArrayList<>();
        Set<String> ids = new java.util.HashSet<>();
        for (Object o : list) {
            if (!(o instanceof Map<?, ?> raw)) {
                throw invalid("model_keys must be an array of {key_id, wrap_key, wrapped} objects");
            }
            @SuppressWarnings("unchecked")
            Map<String, Object> k = (Map<String, Object>) raw;
            exactKeys(k, MODEL_KEY_KEYS, Set.of(), "model key");
            String keyId = string(k, "key_id");
            if (keyId.getBytes(StandardCharsets.UTF_8).length > 255) {
                throw invalid("model key id is longer than 255 bytes");
            }
            String wrapKey = string(k, "wrap_key");
            if (!FINGERPRINT.matcher(wrapKey).matches()) {
                throw invalid("model key " + keyId + ": wrap_key is not a key fingerprint (64 lower-case hex digits)");
            }
            byte[] wrapped = base64(k, "wrapped");
            if (wrapped.length != 80) {
                throw invalid("model key " + keyId + ": wrapped is " + wrapped.length + " bytes, an HPKE-wrapped"
                        + " model key has 80");
            }
            if (!ids.add(keyId)) {
                throw invalid("model key " + keyId + " is listed twice");
            }
            out.add(new ModelKey(keyId, wrapKey, wrapped));
        }
        return List.copyOf(out);
    }

    /**
     * Parses and verifies a revocation list's bytes. A list only revokes licenses of its own vendor key (the
     * caller applies it to those: {@link LicenseRules#decide} compares ids).
     *
     * @return the revoked license ids (unmodifiable, maybe empty)
     * @throws LicenseException {@link Refusal#UNKNOWN_VENDOR} when signed by a key that is not trusted;
     *                          {@link Refusal#INVALID_LICENSE} when malformed or the signature does not verify
     */
    public static Set<String> readRevocations(byte[] file, Map<String, PublicKey> trustedVendors)
            throws LicenseException {
        return revocationList(file, trustedVendors).revoked();
    }

    /**
     * A verified revocation list: its vendor key fingerprint, issue time and revoked license ids.
     *
     * @since 1.0
     */
    public record Revocations(String vendorKey, Instant issuedAt, Set<String> revoked) {
    }

    /** {@link #readRevocations} with the list's vendor key and issue time (for {@code inspect} and listings). */
    public static Revocations revocationList(byte[] file, Map<String, PublicKey> trustedVendors)
            throws LicenseException {
        Map<String, Object> p = verified(file, REVOCATIONS_FORMAT, "revocation list", trustedVendors);
        exactKeys(p, REVOCATION_KEYS, "revocation list");
        Instant issuedAt = instant(p, "issued_at");
        if (!(p.get("revoked") instanceof List<?> list)) {
            throw invalid("revoked must be an array of license ids");
        }
        Set<String> ids = new LinkedHashSet<>();
        for (Object id : list) {
            if (!(id instanceof String s) || s.isEmpty()) {
                throw invalid("revoked must be an array of non-empty license id strings");
            }
            ids.add(s);
        }
        return new Revocations(string(p, "vendor_key"), issuedAt, Collections.unmodifiableSet(ids));
    }

    /** The envelope's {@code format} value, without verifying anything ({@code inspect} tells files apart). */
    public static String format(byte[] file) throws LicenseException {
        return envelope(file).format;
    }

    private record Envelope(String format, byte[] payload, byte[] signature) {
    }

    private static Envelope envelope(byte[] file) throws LicenseException {
        if (file.length > MAX_FILE_BYTES) {
            throw invalid("the file is larger than 1 MiB");
        }
        String text;
        try {
            text = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(file)).toString();
        } catch (CharacterCodingException e) {
            throw invalid("the file is not UTF-8");
        }
        Object parsed;
        try {
            parsed = Json.parse(text);
        } catch (IllegalArgumentException e) {
            throw invalid(e.getMessage());
        }
        if (!(parsed instanceof Map<?, ?> raw)) {
            throw invalid("the file is not a JSON object");
        }
        @SuppressWarnings("unchecked")
        Map<String, Object> env = (Map<String, Object>) raw;
        exactKeys(env, ENVELOPE_KEYS, "envelope");
        return new Envelope(string(env, "format"), base64(env, "payload"), base64(env, "signature"));
    }

    private static Map<String, Object> verified(byte[] file, String format, String what,
                                                Map<String, PublicKey> trustedVendors) throws LicenseException {
        Envelope env = envelope(file);
        if (!env.format.equals(format)) {
            throw invalid("format is \"" + env.format + "\", a " + what + " has \"" + format + "\"");
        }
        if (env.signature.length != 64) {
            throw invalid("the signature is " + env.signature.length + " bytes, an Ed25519 signature has 64");
        }
        Map<String, Object> payload = payload(env.payload);
        String vendorKey = string(payload, "vendor_key");
        if (!FINGERPRINT.matcher(vendorKey).matches()) {
            throw invalid("vendor_key is not a key fingerprint (64 lower-case hex digits)");
        }
        PublicKey key = trustedVendors.get(vendorKey);
        if (key == null || !Pem.fingerprint(key).equals(vendorKey)) {
            throw new LicenseException(Refusal.UNKNOWN_VENDOR, Refusal.UNKNOWN_VENDOR.words() + ": the " + what
                    + " is signed by vendor key " + vendorKey + ", which is not a trusted vendor of this box"
                    + " (trust it with bin/tollgate vendor trust PUB.pem)");
        }
        boolean ok;
        try {
            Signature verifier = Signature.getInstance("Ed25519");
            verifier.initVerify(key);
            verifier.update(env.payload);
            ok = verifier.verify(env.signature);
        } catch (GeneralSecurityException e) {
            ok = false;
        }
        if (!ok) {
            throw invalid("the signature does not verify with vendor key " + vendorKey);
        }
        return payload;
    }

    private static Map<String, Object> payload(byte[] bytes) throws LicenseException {
        String text;
        try {
            text = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(bytes)).toString();
        } catch (CharacterCodingException e) {
            throw invalid("the payload is not UTF-8");
        }
        Object parsed;
        try {
            parsed = Json.parse(text);
        } catch (IllegalArgumentException e) {
            throw invalid("payload: " + e.getMessage());
        }
        if (!(parsed instanceof Map<?, ?> raw)) {
            throw invalid("the payload is not a JSON object");
        }
        @SuppressWarnings("unchecked")
        Map<String, Object> map = (Map<String, Object>) raw;
        return map;
    }

    private static void exactKeys(Map<String, Object> map, Set<String> keys, String what) throws LicenseException {
        exactKeys(map, keys, Set.of(), what);
    }

    private static void exactKeys(Map<String, Object> map, Set<String> keys, Set<String> optional, String what)
            throws LicenseException {
        for (String k : keys) {
            if (!map.containsKey(k)) {
                throw invalid(what + " field \"" + k + "\" is missing");
            }
        }
        for (String k : map.keySet()) {
            if (!keys.contains(k) && !optional.contains(k)) {
                throw invalid("unknown " + what + " field \"" + k + "\"");
            }
        }
    }

    private static String string(Map<String, Object> map, String key) throws LicenseException {
        if (!(map.get(key) instanceof String s) || s.isEmpty()) {
            throw invalid("\"" + key + "\" must be a non-empty string");
        }
        return s;
    }

    private static Instant instant(Map<String, Object> map, String key) throws LicenseException {
        String s = string(map, key);
        try {
            return Instant.parse(s);
        } catch (DateTimeParseException e) {
            throw invalid("\"" + key + "\" is not an ISO-8601 instant: \"" + s + "\"");
        }
    }

    private static long count(Map<String, Object> map, String key) throws LicenseException {
        Object v = map.get(key);
        if (v == Json.NULL) {
            return License.UNLIMITED;
        }
        if (!(v instanceof Long n) || n < 0) {
            throw invalid("\"" + key + "\" must be a non-negative integer or null");
        }
        return n;
    }

    private static byte[] base64(Map<String, Object> map, String key) throws LicenseException {
        String s = string(map, key);
        byte[] bytes;
        try {
            bytes = Base64.getDecoder().decode(s);
        } catch (IllegalArgumentException e) {
            throw invalid("\"" + key + "\" is not base64: " + e.getMessage());
        }
        // one spelling only: padded, no stray bits in the last character
        if (!Base64.getEncoder().encodeToString(bytes).equals(s)) {
            throw invalid("\"" + key + "\" is not canonical padded base64");
        }
        return bytes;
    }

    private static LicenseException invalid(String why) {
        return new LicenseException(Refusal.INVALID_LICENSE, Refusal.INVALID_LICENSE.words() + ": " + why);
    }
}
