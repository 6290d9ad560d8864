package io.tollgate.accelerators.internal;

import io.tollgate.accelerator.Accelerator;
import io.tollgate.accelerator.AcceleratorKind;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * The validated configuration of placement (PID {@value AcceleratorService#PID}).
 *
 * @param placementOrder    accelerator kinds by preference; always ends with CPU (appended when not listed)
 * @param engineOrder       engine names by preference
 * @param precision         wanted precision: fp32, fp16 or int8
 * @param cpuBudgetMiB      CPU budget in MiB, 0 = half the physical memory
 * @param gpuBudgetMiB      budget of each GPU in MiB, 0 = 80% of its memory
 * @param maxResidentModels most resident instances on the box, 0 = no limit
 * @param minResidencyMs    an instance placed or used less than this many ms ago is not evicted, 0 = off
 */
record PlacementSettings(List<AcceleratorKind> placementOrder, List<String> engineOrder, String precision,
                         int cpuBudgetMiB, int gpuBudgetMiB, int maxResidentModels, long minResidencyMs) {
    /** Default {@code min.residency.ms}. */
    static final long DEFAULT_MIN_RESIDENCY_MS = 30_000;

    /** Without a minimum residency (the behaviour before {@code min.residency.ms}). */
    PlacementSettings(List<AcceleratorKind> placementOrder, List<String> engineOrder, String precision,
                      int cpuBudgetMiB, int gpuBudgetMiB, int maxResidentModels) {
        this(placementOrder, engineOrder, precision, cpuBudgetMiB, gpuBudgetMiB, maxResidentModels, 0);
    }

    static final Set<String> PRECISIONS = Set.of("fp32", "fp16", "int8");
    private static final long MIB = 1024L * 1024;

    PlacementSettings {
        placementOrder = List.copyOf(placementOrder);
        engineOrder = List.copyOf(engineOrder);
    }

    /**
     * @throws IllegalArgumentException naming the key, the value and what is accepted
     */
    static PlacementSettings of(AcceleratorsConfig c) {
        List<AcceleratorKind> kinds = new ArrayList<>();
        for (String w : words(c.placement_order())) {
            AcceleratorKind k;
            try {
                k = AcceleratorKind.ofKey(w);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("configuration " + AcceleratorService.PID + ": 'placement.order' "
                        + e.getMessage());
            }
            if (!kinds.contains(k)) {
                kinds.add(k);
            }
        }
        if (!kinds.contains(AcceleratorKind.CPU)) {
            kinds.add(AcceleratorKind.CPU);
        }
        List<String> engines = words(c.engine_order());
        if (engines.isEmpty()) {
            throw new IllegalArgumentException("configuration " + AcceleratorService.PID
                    + ": 'engine.order' is empty; list engine names, e.g. tensorrt,onnx");
        }
        String precision = c.precision().strip().toLowerCase(Locale.ROOT);
        if (!PRECISIONS.contains(precision)) {
            throw new IllegalArgumentException("configuration " + AcceleratorService.PID + ": 'precision' is '"
                    + c.precision() + "'; expected fp32, fp16 or int8");
        }
        for (String[] kv : new String[][]{{"memory.budget.cpu.mb", "" + c.memory_budget_cpu_mb()},
                {"memory.budget.gpu.mb", "" + c.memory_budget_gpu_mb()},
                {"max.resident.models", "" + c.max_resident_models()}}) {
            if (Integer.parseInt(kv[1]) < 0) {
                throw new IllegalArgumentException("configuration " + AcceleratorService.PID + ": '" + kv[0]
                        + "' is " + kv[1] + "; expected 0 (the default) or more");
            }
        }
        if (c.min_residency_ms() < 0 || c.min_residency_ms() > 86_400_000L) {
            throw new IllegalArgumentException("configuration " + AcceleratorService.PID + ": 'min.residency.ms' is "
                    + c.min_residency_ms() + "; expected 0 (off) to 86400000 (a day), default "
                    + DEFAULT_MIN_RESIDENCY_MS);
        }
        return new PlacementSettings(kinds, engines, precision, c.memory_budget_cpu_mb(), c.memory_budget_gpu_mb(),
                c.max_resident_models(), c.min_residency_ms());
    }

    /** {@code a} with its budget: the configured MiB, else the default share of its memory. */
    Accelerator withBudget(Accelerator a) {
        return switch (a.kind()) {
            case CPU -> a.withBudget(cpuBudgetMiB > 0 ? cpuBudgetMiB * MIB : a.totalMemoryBytes() / 2);
            case GPU, DLA -> a.withBudget(gpuBudgetMiB > 0 ? gpuBudgetMiB * MIB : a.totalMemoryBytes() * 8 / 10);
        };
    }

    private static List<String> words(String list) {
        List<String> out = new ArrayList<>();
        for (String w : (list == null ? "" : list).split(",")) {
            String t = w.strip().toLowerCase(Locale.ROOT);
            if (!t.isEmpty() && !out.contains(t)) {
                out.add(t);
            }
        }
        return out;
    }
}
