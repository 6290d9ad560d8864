package io.tollgate.cloud.licenses;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.DeserializationFeature;
import io.tollgate.licensing.License;
import io.tollgate.licensing.LicenseException;
import io.tollgate.licensing.LicenseFiles;
import io.tollgate.licensing.Pem;
import java.io.IOException;
import java.security.PublicKey;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.Base64;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Set;

/**
 * A license file ({@code *.lic}) or revocation list ({@code *.revocations}) as the billing service imports it
 * (formats: docs/licensing.md). With the vendor's public key the file is read and verified by the licensing
 * library ({@link LicenseFiles}: envelope, Ed25519 signature, strict payload). Without one the cloud cannot check
 * the signature: the envelope and payload are parsed here, field by field as docs/licensing.md defines them, and the
 * operator vouches for the file (docs/billing.md, "Licenses"); the device verifies it again in any case.
 */
public final class LicenseFile {
    private static final ObjectMapper JSON = new ObjectMapper()
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .enable(com.fasterxml.jackson.core.JsonParser.Feature.STRICT_DUPLICATE_DETECTION);

    /** A parsed license and whether its signature was verified with the vendor's key. */
    public record Parsed(License license, boolean verified) {
    }

    /** A parsed revocation list: its vendor key, the revoked ids, and whether it was verified. */
    public record ParsedRevocations(String vendorKey, Set<String> revoked, boolean verified) {
    }

    private LicenseFile() {
    }

    /**
     * Reads a license file.
     *
     * @param vendorKey the vendor's Ed25519 public key, or null to parse without verifying (the operator vouches)
     * @throws IllegalArgumentException naming what is wrong: not a license envelope, a malformed payload, a signature
     *                                  that does not verify with {@code vendorKey}, or a license of another vendor key
     */
    public static Parsed license(byte[] file, PublicKey vendorKey) {
        if (vendorKey != null) {
            String fp = Pem.fingerprint(vendorKey);
            try {
                return new Parsed(LicenseFiles.read(file, Map.of(fp, vendorKey)), true);
            } catch (LicenseException e) {
                throw new IllegalArgumentException(e.refusal().words() + ": " + e.getMessage()
                        + " (checked with the vendor key " + fp + ")", e);
            }
        }
        JsonNode p = payload(file, LicenseFiles.LICENSE_FORMAT);
        if (p.isObject() && p.has("model_keys")) {
            // encrypted models' wrapped keys (docs/licensing.md, "Encrypted models"): nothing billing uses
            p = ((com.fasterxml.jackson.databind.node.ObjectNode) p.deepCopy()).without("model_keys");
        }
        exactKeys(p, Set.of("license_id", "vendor", "vendor_key", "tenant", "device_id", "device_key", "plugin",
                "versions", "not_before", "expires", "meter", "quota", "grace_days", "allow_code", "issued_at"));
        String deviceId = nullableText(p, "device_id");
        String deviceKey = nullableText(p, "device_key");
        if ((deviceId == null) != (deviceKey == null)) {
            throw new IllegalArgumentException("device_id and device_key must both be null (unbound) or both set");
        }
        String vendorFp = text(p, "vendor_key");
        if (!vendorFp.matches("[0-9a-f]{64}")) {
            throw new IllegalArgumentException("vendor_key is not a key fingerprint (64 lower-case hex digits)");
        }
        Instant notBefore = instant(p, "not_before");
        Instant expires = p.get("expires").isNull() ? Instant.MAX : instant(p, "expires");
        if (!expires.isAfter(notBefore)) {
            throw new IllegalArgumentException("expires (" + expires + ") is not after not_before (" + notBefore + ")");
        }
        if (!p.get("allow_code").isBoolean()) {
            throw new IllegalArgumentException("allow_code must be true or false");
        }
        return new Parsed(new License(text(p, "license_id"), text(p, "vendor"), vendorFp, text(p, "tenant"),
                deviceId == null ? "" : deviceId, deviceKey == null ? "" : deviceKey, text(p, "plugin"),
                text(p, "versions"), notBefore, expires, text(p, "meter"), count(p, "quota"), count(p, "grace_days"),
                p.get("allow_code").booleanValue(), instant(p, "issued_at")), false);
    }

    /**
     * Reads a revocation list; as {@link #license}.
     *
     * @throws IllegalArgumentException naming what is wrong
     */
    public static ParsedRevocations revocations(byte[] file, PublicKey vendorKey) {
        if (vendorKey != null) {
            String fp = Pem.fingerprint(vendorKey);
            try {
                LicenseFiles.Revocations r = LicenseFiles.revocationList(file, Map.of(fp, vendorKey));
                return new ParsedRevocations(r.vendorKey(), r.revoked(), true);
            } catch (LicenseException e) {
                throw new IllegalArgumentException(e.refusal().words() + ": " + e.getMessage()
                        + " (checked with the vendor key " + fp + ")", e);
            }
        }
        JsonNode p = payload(file, LicenseFiles.REVOCATIONS_FORMAT);
        exactKeys(p, Set.of("vendor_key", "issued_at", "revoked"));
        instant(p, "issued_at");
        JsonNode revoked = p.get("revoked");
        if (!revoked.isArray()) {
            throw new IllegalArgumentException("revoked must be an array of license ids");
        }
        Set<String> ids = new LinkedHashSet<>();
        for (JsonNode id : revoked) {
            if (!id.isTextual() || id.textValue().isEmpty()) {
                throw new IllegalArgumentException("revoked must be an array of non-empty license id strings");
            }
            ids.add(id.textValue());
        }
        return new ParsedRevocations(text(p, "vendor_key"), ids, false);
    }

    /** The envelope's payload JSON, after checking the envelope's keys and format. */
    private static JsonNode payload(byte[] file, String format) {
        JsonNode env = tree(file, "the file");
        exactKeys(env, Set.of("format", "payload", "signature"));
        if (!format.equals(env.get("format").asText(null))) {
            throw new IllegalArgumentException("not a " + format + " file (its format is "
                    + env.get("format") + ")");
        }
        byte[] payload;
        byte[] signature;
        try {
            payload = Base64.getDecoder().decode(text(env, "payload"));
            signature = Base64.getDecoder().decode(text(env, "signature"));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("payload or signature is not base64: " + e.getMessage(), e);
        }
        if (signature.length != 64) {
            throw new IllegalArgumentException("the signature has " + signature.length + " bytes, not 64 (Ed25519)");
        }
        return tree(payload, "the payload");
    }

    private static JsonNode tree(byte[] json, String what) {
        try {
            JsonNode n = JSON.readTree(json);
            if (n == null || !n.isObject()) {
                throw new IllegalArgumentException(what + " is not a JSON object");
            }
            return n;
        } catch (com.fasterxml.jackson.core.JacksonException e) {
            throw new IllegalArgumentException(what + " is not JSON: " + e.getOriginalMessage(), e);
        } catch (IOException e) {
            throw new IllegalArgumentException(what + " is not readable JSON: " + e.getMessage(), e);
        }
    }

    private static void exactKeys(JsonNode o, Set<String> keys) {
        for (Iterator<String> it = o.fieldNames(); it.hasNext(); ) {
            String k = it.next();
            if (!keys.contains(k)) {
                throw new IllegalArgumentException("unknown field \"" + k + "\"");
            }
        }
        for (String k : keys) {
            if (!o.has(k)) {
                throw new IllegalArgumentException("missing field \"" + k + "\"");
            }
        }
    }

    private static String text(JsonNode o, String key) {
        JsonNode v = o.get(key);
        if (v == null || !v.isTextual() || v.textValue().isEmpty()) {
            throw new IllegalArgumentException(key + " must be a non-empty string");
        }
        return v.textValue();
    }

    private static String nullableText(JsonNode o, String key) {
        return o.get(key).isNull() ? null : text(o, key);
    }

    private static Instant instant(JsonNode o, String key) {
        try {
            return Instant.parse(text(o, key));
        } catch (DateTimeParseException e) {
            throw new IllegalArgumentException(key + " is not an ISO-8601 instant: " + o.get(key).textValue(), e);
        }
    }

    private static long count(JsonNode o, String key) {
        JsonNode v = o.get(key);
        if (v.isNull()) {
            return License.UNLIMITED;
        }
        if (!v.canConvertToExactIntegral() || !v.isIntegralNumber() || !v.canConvertToLong() || v.longValue() < 0) {
            throw new IllegalArgumentException(key + " must be a non-negative integer or null");
        }
        return v.longValue();
    }
}
