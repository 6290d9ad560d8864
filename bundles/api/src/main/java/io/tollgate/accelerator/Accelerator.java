package io.tollgate.accelerator;

import java.util.Objects;

/**
 * One accelerator of this box, as the inventory found it.
 *
 * @param id                id used in placements, metrics and usage records: {@code cpu}, {@code cuda:0}, {@code dla:0}
 * @param kind              what it is
 * @param name              human name, e.g. {@code NVIDIA RTX A2000}, {@code Orin (nvgpu)}, or the CPU model name
 * @param computeCapability CUDA compute capability such as {@code 8.7} ("" for a CPU and when unknown)
 * @param totalMemoryBytes  memory the device has, in bytes (for a Jetson iGPU/DLA: the shared system memory;
 *                          for the CPU: {@code MemTotal} of /proc/meminfo); 0 when unknown
 * @param budgetBytes       how much of it models may take, in bytes ({@code memory.budget.*.mb}, or the default
 *                          share of {@code totalMemoryBytes}); placement never reserves beyond it
 * @param cores             CPU cores for the CPU, DLA/SM count when known, else 0
 */
public record Accelerator(String id, AcceleratorKind kind, String name, String computeCapability,
                          long totalMemoryBytes, long budgetBytes, int cores) {
    /** The id of the CPU accelerator, present on every box. */
    public static final String CPU_ID = "cpu";

    public Accelerator {
        Objects.requireNonNull(id, "id");
        Objects.requireNonNull(kind, "kind");
        name = name == null ? "" : name;
        computeCapability = computeCapability == null ? "" : computeCapability;
        if (totalMemoryBytes < 0 || budgetBytes < 0 || cores < 0) {
            throw new IllegalArgumentException(id + ": memory, budget and cores must be >= 0");
        }
    }

    /** The same accelerator with another budget, in bytes. */
    public Accelerator withBudget(long bytes) {
        return new Accelerator(id, kind, name, computeCapability, totalMemoryBytes, bytes, cores);
    }
}
