package io.tollgate.cloud.ledger;

/** A stored USAGE record, as the ledger columns hold it. */
public record StoredUsage(String deviceId, long seq, long wallTimeNanos, String tenant, String model,
                          String modelVersion, String plugin, String pluginVersion, String licenseId, String meter,
                          long quantity, long computeNanos, String accelerator, String requestId, String status,
                          String hash) {
}
