package io.tollgate.accelerator;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * What placement needs to know about one model instance.
 *
 * @param model          model name
 * @param version        model version
 * @param engines        the engines the plugin supports, in the plugin's order, each with whether it can run here
 *                       now; placement follows {@code engine.order} among them
 * @param precisions     precisions the plugin supports ({@code fp32}, {@code fp16}, {@code int8}); empty means
 *                       {@code fp32} only
 * @param estimatedBytes memory the instance will take, in bytes (the caller's estimate, e.g. model file size times a
 *                       factor); reserved against the chosen accelerator's budget
 */
public record PlacementRequest(String model, String version, Map<String, EngineAvailability> engines,
                               List<String> precisions, long estimatedBytes) {
    public PlacementRequest {
        Objects.requireNonNull(model, "model");
        Objects.requireNonNull(version, "version");
        engines = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(engines));
        precisions = precisions == null || precisions.isEmpty() ? List.of("fp32") : List.copyOf(precisions);
        if (estimatedBytes < 0) {
            throw new IllegalArgumentException("estimatedBytes must be >= 0, was " + estimatedBytes);
        }
    }

    /** {@code model:version}, the key of the placement it asks for. */
    public String key() {
        return model + ":" + version;
    }
}
