package io.tollgate.accelerator;

import java.util.List;
import java.util.Objects;

/**
 * How much of one accelerator's budget placed models hold now.
 *
 * @param accelerator the accelerator
 * @param usedBytes   bytes reserved by resident model instances (their estimates, see {@link Placement#bytes()})
 * @param models      the resident model instances on it, least recently used first (the next eviction candidate
 *                    is the first)
 */
public record AcceleratorUsage(Accelerator accelerator, long usedBytes, List<Placement> models) {
    public AcceleratorUsage {
        Objects.requireNonNull(accelerator, "accelerator");
        models = List.copyOf(models);
    }

    /** Budget bytes not reserved: {@code budgetBytes - usedBytes}, never below 0. */
    public long freeBytes() {
        return Math.max(0, accelerator.budgetBytes() - usedBytes);
    }
}
