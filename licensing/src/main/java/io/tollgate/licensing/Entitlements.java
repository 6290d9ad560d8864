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
}
