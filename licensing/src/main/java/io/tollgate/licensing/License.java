package io.tollgate.licensing;

import java.time.Instant;
import java.util.List;
import java.util.Objects;

/**
 * One verified license: what a vendor sold to a tenant for one plugin (docs/licensing.md, "The license").
 * Instances come only from the license codec after its signature verified; fields are never null.
 *
 * @param id         license id (the vendor's; a UUID by default), recorded in every usage record it allows
 * @param vendor     the vendor's display name
 * @param vendorKey  fingerprint of the vendor's Ed25519 public key: lower-case hex SHA-256 of its DER
 *                   SubjectPublicKeyInfo (64 hex digits); the plugin must be signed by the same key
 * @param tenant     the tenant the use is billed to
 * @param deviceId   the device the license is bound to, {@code ""} for an unbound license (any device)
 * @param deviceKey  fingerprint (as {@code vendorKey}) of the device's public key, {@code ""} when unbound
 * @param plugin     the plugin (model) name the license covers: the descriptor's {@code name}
 * @param versions   OSGi version range of the plugin versions covered, e.g. {@code [1.0.0,2.0.0)}
 * @param notBefore  not valid before this instant
 * @param expires    not valid from this instant on; {@link Instant#MAX} when it never expires
 * @param meter      the meter the quota counts (the descriptor's meter, e.g. {@code inference})
 * @param quota      prepaid quantity of {@code meter} on this device; {@link #UNLIMITED} for unlimited (metered)
 * @param graceDays  days the box may serve without a verified cloud ack; {@link #UNLIMITED} for no limit
 * @param allowCode  whether the (vendor-signed) plugin may carry code
 * @param issuedAt   when the vendor issued it
 * @param modelKeys  the keys of the plugin's encrypted model files, each wrapped for this device (only a bound license
 *                   carries any; empty for most licenses) (@since 1.1)
 * @since 1.0
 */
public record License(String id, String vendor, String vendorKey, String tenant, String deviceId, String deviceKey,
                      String plugin, String versions, Instant notBefore, Instant expires, String meter, long quota,
                      long graceDays, boolean allowCode, Instant issuedAt, List<ModelKey> modelKeys) {
    /** {@link #quota} and {@link #graceDays} value for "no limit". */
    public static final long UNLIMITED = -1;

    public License {
        Objects.requireNonNull(id, "id");
        Objects.requireNonNull(vendor, "vendor");
        Objects.requireNonNull(vendorKey, "vendorKey");
        Objects.requireNonNull(tenant, "tenant");
        Objects.requireNonNull(deviceId, "deviceId");
        Objects.requireNonNull(deviceKey, "deviceKey");
        Objects.requireNonNull(plugin, "plugin");
        Objects.requireNonNull(versions, "versions");
        Objects.requireNonNull(notBefore, "notBefore");
        Objects.requireNonNull(expires, "expires");
        Objects.requireNonNull(meter, "meter");
        Objects.requireNonNull(issuedAt, "issuedAt");
        modelKeys = List.copyOf(modelKeys);
    }

    /** A license without model keys (the 1.0 constructor). */
    public License(String id, String vendor, String vendorKey, String tenant, String deviceId, String deviceKey,
                   String plugin, String versions, Instant notBefore, Instant expires, String meter, long quota,
                   long graceDays, boolean allowCode, Instant issuedAt) {
        this(id, vendor, vendorKey, tenant, deviceId, deviceKey, plugin, versions, notBefore, expires, meter, quota,
                graceDays, allowCode, issuedAt, List.of());
    }

    /** The model key with this key id, if the license carries it. */
    public java.util.Optional<ModelKey> modelKey(String keyId) {
        return modelKeys.stream().filter(k -> k.keyId().equals(keyId)).findFirst();
    }

    /** True when bound to one device. */
    public boolean bound() {
        return !deviceId.isEmpty();
    }

    /** True when a prepaid quota limits it. */
    public boolean hasQuota() {
        return quota != UNLIMITED;
    }
}
