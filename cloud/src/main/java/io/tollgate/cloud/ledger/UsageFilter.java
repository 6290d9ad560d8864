package io.tollgate.cloud.ledger;

/**
 * Selects stored USAGE records; null fields select everything. Times are device wall-clock nanoseconds, the range
 * is [fromNanos, toNanos).
 */
public record UsageFilter(String device, String tenant, String model, Long fromNanos, Long toNanos) {
    public static UsageFilter all() {
        return new UsageFilter(null, null, null, null, null);
    }
}
