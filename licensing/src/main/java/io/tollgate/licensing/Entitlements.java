package io.tollgate.licensing;

import java.util.List;

/**
 * The box's licensing state, as an OSGi service registered by the launcher on the system bundle's context
 * (docs/licensing.md, "On the appliance"). The serving bundle asks it on every request, so
 * {@link #check} must be a cached lookup plus a comparison of instants (no I/O, no signature checks).
 *
 * @since 1.0
 */
public interface Entitlements {
    /**
     * Whether the plugin version is entitled now: its jar's signature was verified against a trusted vendor when
     * it was installed, and a license from that vendor covers it on this device, not revoked, within its
     * validity at {@code nowMillis}. Quotas and offline grace are not part of this answer (see {@link QuotaUsage}).
     *
     * @param plugin    plugin (model) name, the descriptor's {@code name}
     * @param version   plugin version (OSGi syntax)
     * @param nowMillis wall-clock time, milliseconds since the epoch
     */
    Entitlement check(String plugin, String version, long nowMillis);

    /** Every license file on the box that parsed and verified, with the ones refused listed by {@link #refusedFiles}. */
    List<License> licenses();

    /** License files that were refused, as "file: reason" lines (bad signature, unknown vendor, wrong device...). */
    List<String> refusedFiles();

    /**
     * Called (on the licensing thread) after licenses, trusted vendors or revocations changed; the caller
     * re-checks what it cached. Adding the same listener twice has no effect.
     */
    void addListener(Runnable listener);

    void removeListener(Runnable listener);

    /**
     * The key of a plugin version's encrypted model file (docs/licensing.md, "Encrypted models"): the license that
     * entitles the version now must carry a model key with {@code keyId}, which is unwrapped with this device's wrap
     * key. The caller decrypts in memory and zeroes the returned array after use; the key is never written anywhere.
     *
     * @param plugin  plugin (model) name, the descriptor's {@code name}
     * @param version plugin version (OSGi syntax), as for {@link #check}
     * @param keyId   the key id the descriptor's {@code encryption.key_id} names
     * @return the 32-byte AES key (a fresh array)
     * @throws LicenseException the version is not entitled (the refusal of {@link #check}); {@link Refusal#NO_MODEL_KEY}
     *                          when its license carries no key with that id or the device has no wrap key;
     *                          {@link Refusal#WRONG_DEVICE} when the key is wrapped for another device's wrap key
     * @since 1.1
     */
    default byte[] modelKey(String plugin, String version, String keyId) throws LicenseException {
        throw new LicenseException(Refusal.NO_MODEL_KEY, Refusal.NO_MODEL_KEY.words() + ": this licensing service ("
                + getClass().getName() + ") does not hold model keys, so an encrypted model cannot be opened");
    }
}
