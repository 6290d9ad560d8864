package io.tollgate.licensing.vendor;

import io.tollgate.licensing.LicenseFiles;
import io.tollgate.licensing.ModelCipher;
import io.tollgate.licensing.wrap.ModelKeyWrap;
import io.tollgate.licensing.Pem;

import java.security.PrivateKey;
import java.security.PublicKey;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.LinkedHashMap;
import java.util.Objects;
import java.util.UUID;

/**
 * Issues license files (docs/licensing.md, "License files"): a builder whose {@link #issue} returns the file's
 * bytes, signed with the vendor's private key. Defaults: unbound, versions {@code [0.0.0,∞)} i.e. {@code 0.0.0},
 * not before = issue time, never expires, meter {@code inference}, unlimited quota, no grace limit, no code, a
 * random UUID as license id, issued at now (instants are truncated to seconds). Vendor side only.
 *
 * <pre>
 * byte[] lic = new LicenseIssuer("Acme", priv, pub).tenant("factory-7").plugin("fashion-mnist")
 *         .versions("[1.0.0,2.0.0)").device("box-1", deviceKey).quota(1000, "inference").issue();
 * </pre>
 */
public final class LicenseIssuer {
    private final String vendor;
    private final PrivateKey key;
    private final String vendorKey;
    private String id = UUID.randomUUID().toString();
    private String tenant;
    private String deviceId;
    private String deviceKey;
    private String plugin;
    private String versions = "0.0.0";
    private Instant notBefore;
    private Instant expires;
    private String meter = "inference";
    private Long quota;
    private Long graceDays;
    private boolean allowCode;
    private Instant issuedAt;
    /** Model keys to wrap at issue time (the wrap's aad names the license id, which may be set later). */
    private final java.util.List<PendingKey> modelKeys = new java.util.ArrayList<>();

    private record PendingKey(String keyId, byte[] key, PublicKey wrapKey, byte[] ikm) {
    }

    /** A vendor's issuer: its display name and key pair (the payload names the public key's fingerprint). */
    public LicenseIssuer(String vendorName, PrivateKey privateKey, PublicKey publicKey) {
        this.vendor = requireText(vendorName, "vendor name");
        this.key = Objects.requireNonNull(privateKey, "privateKey");
        this.vendorKey = Pem.fingerprint(Objects.requireNonNull(publicKey, "publicKey"));
    }

    public LicenseIssuer id(String licenseId) {
        this.id = requireText(licenseId, "license id");
        return this;
    }

    public LicenseIssuer tenant(String tenant) {
        this.tenant = requireText(tenant, "tenant");
        return this;
    }

    /** Binds the license to one device: its id and its public key (the payload holds the key's fingerprint). */
    public LicenseIssuer device(String deviceId, PublicKey deviceKey) {
        return device(deviceId, Pem.fingerprint(Objects.requireNonNull(deviceKey, "deviceKey")));
    }

    /** Binds the license to one device by id and key fingerprint (64 hex digits). */
    public LicenseIssuer device(String deviceId, String deviceKeyFingerprint) {
        this.deviceId = requireText(deviceId, "device id");
        if (!deviceKeyFingerprint.matches("[0-9a-f]{64}")) {
            throw new IllegalArgumentException("device key fingerprint must be 64 lower-case hex digits");
        }
        this.deviceKey = deviceKeyFingerprint;
        return this;
    }

    /** An unbound license (any device), the default. */
    public LicenseIssuer unbound() {
        this.deviceId = null;
        this.deviceKey = null;
        return this;
    }

    public LicenseIssuer plugin(String plugin) {
        this.plugin = requireText(plugin, "plugin");
        return this;
    }

    /** OSGi version range, e.g. {@code [1.0.0,2.0.0)}; a bare version means "at least". */
    public LicenseIssuer versions(String range) {
        this.versions = requireText(range, "versions");
        return this;
    }

    public LicenseIssuer notBefore(Instant notBefore) {
        this.notBefore = notBefore;
        return this;
    }

    /** Expiry; null = never. */
    public LicenseIssuer expires(Instant expires) {
        this.expires = expires;
        return this;
    }

    public LicenseIssuer meter(String meter) {
        this.meter = requireText(meter, "meter");
        return this;
    }

    /** Prepaid quantity of {@code meter}; null = unlimited. */
    public LicenseIssuer quota(Long quota, String meter) {
        if (quota != null && quota < 0) {
            throw new IllegalArgumentException("quota must be >= 0");
        }
        this.quota = quota;
        return meter == null ? this : meter(meter);
    }

    /** Days of offline grace; null = no limit. */
    public LicenseIssuer graceDays(Long days) {
        if (days != null && days < 0) {
            throw new IllegalArgumentException("grace days must be >= 0");
        }
        this.graceDays = days;
        return this;
    }

    public LicenseIssuer allowCode(boolean allowCode) {
        this.allowCode = allowCode;
        return this;
    }

    /**
     * Adds an encrypted model's key, wrapped (HPKE, {@link ModelKeyWrap}) for the device's X25519 wrap public key
     * ({@code data/device/wrap-public.pem}); only a bound license ({@link #device}) may carry one.
     */
    public LicenseIssuer modelKey(String keyId, byte[] key, PublicKey wrapKey) {
        return modelKey(keyId, key, wrapKey, null);
    }

    /** As {@link #modelKey(String, byte[], PublicKey)} with a fixed HPKE ephemeral key (test vectors only). */
    public LicenseIssuer modelKey(String keyId, byte[] key, PublicKey wrapKey, byte[] ikm) {
        requireText(keyId, "model key id");
        if (key == null || key.length != ModelCipher.KEY_BYTES) {
            throw new IllegalArgumentException("a model key is " + ModelCipher.KEY_BYTES + " bytes");
        }
        ModelKeyWrap.fingerprint(Objects.requireNonNull(wrapKey, "wrapKey"));
        if (modelKeys.stream().anyMatch(k -> k.keyId().equals(keyId))) {
            throw new IllegalArgumentException("model key " + keyId + " is already in the license");
        }
        modelKeys.add(new PendingKey(keyId, key.clone(), wrapKey, ikm));
        return this;
    }

    /** Issue time; default now. */
    public LicenseIssuer issuedAt(Instant issuedAt) {
        this.issuedAt = issuedAt;
        return this;
    }

    /** The license id the file will carry. */
    public String id() {
        return id;
    }

    /** The payload JSON that {@link #issue} signs (UTF-8 of this string). */
    public String payload() {
        requireText(tenant, "tenant");
        requireText(plugin, "plugin");
        Instant issued = (issuedAt == null ? Instant.now() : issuedAt).truncatedTo(ChronoUnit.SECONDS);
        Instant from = notBefore == null ? issued : notBefore.truncatedTo(ChronoUnit.SECONDS);
        Instant until = expires == null ? null : expires.truncatedTo(ChronoUnit.SECONDS);
        if (until != null && !until.isAfter(from)) {
            throw new IllegalArgumentException("expires (" + until + ") must be after not before (" + from + ")");
        }
        LinkedHashMap<String, Object> p = new LinkedHashMap<>();
        p.put("license_id", id);
        p.put("vendor", vendor);
        p.put("vendor_key", vendorKey);
        p.put("tenant", tenant);
        p.put("device_id", deviceId);
        p.put("device_key", deviceKey);
        p.put("plugin", plugin);
        p.put("versions", versions);
        p.put("not_before", from.toString());
        p.put("expires", until == null ? null : until.toString());
        p.put("meter", meter);
        p.put("quota", quota);
        p.put("grace_days", graceDays);
        p.put("allow_code", allowCode);
        p.put("issued_at", issued.toString());
        if (!modelKeys.isEmpty()) {
            if (deviceId == null) {
                throw new IllegalArgumentException("a model key is wrapped for one device, so a license carrying one"
                        + " must be bound to it: give --device-id and --device-key (and --device-wrap-key)");
            }
            java.util.List<Object> keys = new java.util.ArrayList<>();
            for (PendingKey k : modelKeys) {
                LinkedHashMap<String, Object> m = new LinkedHashMap<>();
                m.put("key_id", k.keyId());
                m.put("wrap_key", ModelKeyWrap.fingerprint(k.wrapKey()));
                m.put("wrapped", ModelKeyWrap.base64(ModelKeyWrap.wrap(k.wrapKey(), id, k.keyId(), k.key(), k.ikm())));
                keys.add(m);
            }
            p.put("model_keys", keys);
        }
        return JsonText.object(p);
    }

    /**
     * The license file's bytes (UTF-8 JSON envelope, one line, trailing newline).
     *
     * @throws IllegalArgumentException tenant or plugin missing, expiry not after not-before, or the key cannot sign
     */
    public byte[] issue() {
        return Envelopes.seal(LicenseFiles.LICENSE_FORMAT, payload(), key);
    }

    private static String requireText(String s, String what) {
        if (s == null || s.isBlank()) {
            throw new IllegalArgumentException(what + " is required");
        }
        return s;
    }
}
