package io.tollgate.licensing;

/**
 * How much of each license's quota this device has used, counted from the usage journal (so a restart, a
 * reinstall or a deleted cache cannot reset it). An OSGi service registered by the serving side; the
 * administration API reads it to show remaining quota.
 *
 * @since 1.0
 */
public interface QuotaUsage {
    /** Quantity of the license's meter used on this device so far (0 when never used). */
    long used(String licenseId);
}
