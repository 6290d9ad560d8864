package io.tollgate.accelerators.internal;

import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;
import org.osgi.service.metatype.annotations.Option;

/**
 * Configuration of placement, PID {@value AcceleratorService#PID}; firmware profiles set it (issue 12). Every key is
 * optional. Keys follow the DS name mapping: {@code memory_budget_cpu_mb()} is {@code memory.budget.cpu.mb}.
 */
@ObjectClassDefinition(name = "Tollgate accelerators and placement",
        description = "Where model instances run: accelerator and engine preference, precision, memory budgets.")
public @interface AcceleratorsConfig {
    @AttributeDefinition(name = "Placement order",
            description = "Comma list of accelerator kinds by preference: dla, gpu, cpu. The CPU is always the last resort.")
    String placement_order() default "gpu,cpu";

    @AttributeDefinition(name = "Engine order", description = "Comma list of engine names by preference: tensorrt, onnx.")
    String engine_order() default "onnx";

    @AttributeDefinition(name = "Precision", options = {@Option(label = "FP32", value = "fp32"),
            @Option(label = "FP16", value = "fp16"), @Option(label = "INT8", value = "int8")},
            description = "Wanted precision; a plugin that does not list it runs at its first listed precision.")
    String precision() default "fp32";

    @AttributeDefinition(name = "CPU memory budget (MiB)", min = "0",
            description = "Memory the models placed on the CPU may take; 0 = half the physical memory.")
    int memory_budget_cpu_mb() default 0;

    @AttributeDefinition(name = "GPU memory budget (MiB)", min = "0",
            description = "Memory the models placed on each GPU may take; 0 = 80% of the GPU's memory.")
    int memory_budget_gpu_mb() default 0;

    @AttributeDefinition(name = "Max resident models", min = "0",
            description = "Most model instances loaded at once on the whole box; 0 = no limit.")
    int max_resident_models() default 0;

    @AttributeDefinition(name = "Minimum residency (ms)", min = "0",
            description = "A model instance placed or used less than this many ms ago is not evicted; a request for a"
                    + " model that cannot be placed until then gets 503 + Retry-After. 0 = off.")
    long min_residency_ms() default 30_000;
}
