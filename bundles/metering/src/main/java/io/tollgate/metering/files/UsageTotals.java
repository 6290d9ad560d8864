package io.tollgate.metering.files;

import io.tollgate.metering.internal.Json;
import java.time.Instant;

/**
 * Usage totals of one tenant, model and meter over a time range ({@link JournalFiles#summary}).
 *
 * @param requests     usage records
 * @param quantity     sum of their quantities
 * @param computeNanos sum of their compute times
 * @param firstTime    wall time of the group's first record
 * @param lastTime     wall time of the group's last record
 */
public record UsageTotals(String tenant, String model, String meter, long requests, long quantity, long computeNanos,
                          Instant firstTime, Instant lastTime) {
    /** One JSON object (the line {@code usage summary --json} prints). */
    public String toJson() {
        return "{\"tenant\":" + Json.string(tenant) + ",\"model\":" + Json.string(model) + ",\"meter\":"
                + Json.string(meter) + ",\"requests\":" + requests + ",\"quantity\":" + quantity
                + ",\"compute_nanos\":" + computeNanos + ",\"first_time\":" + Json.string(firstTime.toString())
                + ",\"last_time\":" + Json.string(lastTime.toString()) + "}";
    }
}
