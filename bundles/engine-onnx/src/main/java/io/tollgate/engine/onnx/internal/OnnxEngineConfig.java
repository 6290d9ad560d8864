package io.tollgate.engine.onnx.internal;

import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;
import org.osgi.service.metatype.annotations.Option;

/**
 * Configuration of the ONNX Runtime engine, PID {@value OnnxEngine#PID}. Every key is optional; the
 * defaults run on the CPU with ONNX Runtime's own thread counts. Property keys follow the DS name
 * mapping: {@code intra_op_threads()} reads the key {@code intra.op.threads}.
 */
@ObjectClassDefinition(name = "Tollgate ONNX Runtime engine",
        description = "Session settings for every model the 'onnx' engine loads; a plugin's descriptor"
                + " parameters (intra_op_threads, inter_op_threads, optimization_level) override them per model.")
public @interface OnnxEngineConfig {

    @AttributeDefinition(name = "Intra-op threads", min = "0",
            description = "Threads one operator may use; 0 = ONNX Runtime's default (one per physical core).")
    int intra_op_threads() default 0;

    @AttributeDefinition(name = "Inter-op threads", min = "0",
            description = "Threads running independent operators in parallel; 0 = ONNX Runtime's default.")
    int inter_op_threads() default 0;

    @AttributeDefinition(name = "Graph optimization level",
            options = {@Option(label = "All", value = "ALL"), @Option(label = "Extended", value = "EXTENDED"),
                       @Option(label = "Basic", value = "BASIC"), @Option(label = "None", value = "NONE")})
    String optimization_level() default "ALL";

    @AttributeDefinition(name = "Execution providers",
            description = "Comma list tried in order: cuda, tensorrt, cpu. Providers this ONNX Runtime build"
                    + " lacks are skipped with a warning; the CPU is always the last resort.")
    String execution_providers() default "cpu";

    @AttributeDefinition(name = "CUDA device", min = "0", description = "GPU index for the cuda and tensorrt providers.")
    int cuda_device_id() default 0;

    @AttributeDefinition(name = "Memory pattern optimization",
            description = "Pre-plans buffers for repeated input shapes; costs memory when batch sizes vary a lot.")
    boolean memory_pattern() default true;

    @AttributeDefinition(name = "CPU memory arena",
            description = "Pools CPU allocations; turn off on small devices to return memory between requests.")
    boolean cpu_arena() default true;
}
