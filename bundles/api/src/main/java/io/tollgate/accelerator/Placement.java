package io.tollgate.accelerator;

import java.util.Objects;

/**
 * Where one model instance runs: an accelerator, an engine and a precision, and the memory it holds there.
 *
 * @param model         model name
 * @param version       model version
 * @param acceleratorId accelerator id ({@code cpu}, {@code cuda:0}, {@code dla:0}); the usage record's accelerator field
 * @param kind          kind of that accelerator
 * @param engine        engine name that runs it ({@code onnx}, {@code tensorrt})
 * @param precision     {@code fp32}, {@code fp16} or {@code int8}
 * @param bytes         bytes reserved against the accelerator's budget (an estimate, see
 *                      {@link PlacementRequest#estimatedBytes()})
 * @param reason        why it is not on the first accelerator the profile prefers ("" when it is), e.g.
 *                      {@code fell back to cpu: no gpu in the inventory}; shown in /admin/plugins and logged
 */
public record Placement(String model, String version, String acceleratorId, AcceleratorKind kind, String engine,
                        String precision, long bytes, String reason) {
    public Placement {
        Objects.requireNonNull(model, "model");
        Objects.requireNonNull(version, "version");
        Objects.requireNonNull(acceleratorId, "acceleratorId");
        Objects.requireNonNull(kind, "kind");
        Objects.requireNonNull(engine, "engine");
        Objects.requireNonNull(precision, "precision");
        reason = reason == null ? "" : reason;
    }

    /** True when the profile's first choice was not possible (see {@link #reason()}). */
    public boolean fallback() {
        return !reason.isEmpty();
    }

    /** {@code model:version}, the key of a placement. */
    public String key() {
        return model + ":" + version;
    }
}
