package io.tollgate.accelerator;

import java.util.EnumSet;
import java.util.Objects;
import java.util.Set;

/**
 * Whether an inference engine can run models on this box now, and on which kinds of accelerator.
 *
 * @param available true when the engine can load models
 * @param reason    why not ("" when available), e.g. {@code no CUDA driver (libcuda.so.1 not found)}
 * @param kinds     the accelerator kinds it can drive here (empty when unavailable), e.g. ONNX Runtime on a CPU-only
 *                  build: {@code [CPU]}; TensorRT on a Jetson: {@code [GPU, DLA]}
 */
public record EngineAvailability(boolean available, String reason, Set<AcceleratorKind> kinds) {
    public EngineAvailability {
        reason = reason == null ? "" : reason;
        kinds = kinds.isEmpty() ? Set.of() : Set.copyOf(EnumSet.copyOf(kinds));
        if (available && kinds.isEmpty()) {
            throw new IllegalArgumentException("an available engine drives at least one accelerator kind");
        }
        if (!available && reason.isBlank()) {
            throw new IllegalArgumentException("an unavailable engine says why");
        }
    }

    /** Available on these kinds of accelerator. */
    public static EngineAvailability on(AcceleratorKind first, AcceleratorKind... more) {
        return new EngineAvailability(true, "", EnumSet.of(Objects.requireNonNull(first), more));
    }

    /** Unavailable, for this reason (e.g. {@code no CUDA driver}). */
    public static EngineAvailability unavailable(String reason) {
        return new EngineAvailability(false, reason, Set.of());
    }
}
