package io.tollgate.metering;

import java.util.Objects;

/**
 * What serving supplies for one served request. The journal adds the device id, sequence number,
 * times and the hash chain. Strings are stored as UTF-8 with a 16-bit length, so each must encode
 * to at most {@value #MAX_STRING_BYTES} bytes; use "" (never null) for "not known".
 *
 * @param tenant        who is billed (from the API key)
 * @param model         model name
 * @param modelVersion  model version
 * @param plugin        plugin bundle symbolic name
 * @param pluginVersion plugin bundle version
 * @param licenseId     license that allowed the request ("" while licensing is not in place)
 * @param meter         the meter billed (from the model descriptor, e.g. "inference")
 * @param quantity      items served: the size of the batch dimension of the request (&gt;= 0)
 * @param computeNanos  time spent in the engine for this request, in nanoseconds (&gt;= 0)
 * @param accelerator   where it ran ("cpu", "cuda:0", "remote:&lt;name&gt;")
 * @param requestId     the request's id: {@code InferenceRequest.id()}, the client's own or the one the endpoint
 *                      generated (ASCII, at most 128 characters)
 * @param status        outcome, e.g. "OK" or an {@code InferenceException.Reason} name
 */
public record UsageEvent(String tenant, String model, String modelVersion, String plugin, String pluginVersion,
                         String licenseId, String meter, long quantity, long computeNanos, String accelerator,
                         String requestId, String status) {

    /** Longest UTF-8 encoding a string field may have. */
    public static final int MAX_STRING_BYTES = 65_535;

    public UsageEvent {
        Objects.requireNonNull(tenant, "tenant");
        Objects.requireNonNull(model, "model");
        Objects.requireNonNull(modelVersion, "modelVersion");
        Objects.requireNonNull(plugin, "plugin");
        Objects.requireNonNull(pluginVersion, "pluginVersion");
        Objects.requireNonNull(licenseId, "licenseId (use \"\" when there is none)");
        Objects.requireNonNull(meter, "meter");
        Objects.requireNonNull(accelerator, "accelerator");
        Objects.requireNonNull(requestId, "requestId");
        Objects.requireNonNull(status, "status");
        if (quantity < 0) {
            throw new IllegalArgumentException("quantity must be >= 0 but was " + quantity);
        }
        if (computeNanos < 0) {
            throw new IllegalArgumentException("computeNanos must be >= 0 but was " + computeNanos);
        }
    }
}
