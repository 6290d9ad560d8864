package io.tollgate.licensing;

/**
 * How much of each license's quota this device has used, counted from the usage journal (so a restart, a
 * reinstall or a deleted cache cannot reset it), and which licenses the serving side refuses for offline reasons
 * (clock roll-back, offline grace). An OSGi service registered by the serving side; the administration API and
 * {@code /metrics} read it to show remaining quota and each license's state.
 *
 * @since 1.0
 */
public interface QuotaUsage {
    /** Quantity of the license's meter used on this device so far (0 when never used). */
    long used(String licenseId);

    /**
     * Why the serving side refuses {@code license} now although the license is valid by its own terms, for a reason
     * only the box can tell: its wall clock was turned back, or it served longer than the license's offline grace
     * without a verified cloud ack. The reason starts with {@link Refusal#CLOCK_ROLLBACK}'s or
     * {@link Refusal#GRACE_EXPIRED}'s words and says what to do; empty when neither applies.
     *
     * @since 1.1
     */
    default java.util.Optional<String> offlineRefusal(License license) {
        return java.util.Optional.empty();
    }
}
