package io.tollgate.engine.tensorrt.internal;

import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;

/**
 * Configuration of the TensorRT engine, PID {@value TensorRtEngine#PID}. Every key is optional. Property keys follow
 * the DS name mapping: {@code cache_directory()} reads {@code cache.directory}.
 */
@ObjectClassDefinition(name = "Tollgate TensorRT engine",
        description = "Builds TensorRT engines from a plugin's ONNX model (or takes the prebuilt one shipped for this"
                + " firmware profile) and caches them on disk.")
public @interface TensorRtEngineConfig {

    @AttributeDefinition(name = "Engine cache folder",
            description = "Serialized engines, one file per GPU, TensorRT version, precision and model SHA-256;"
                    + " relative to the working directory.")
    String cache_directory() default "data/engines";

    @AttributeDefinition(name = "CUDA device", min = "0", description = "GPU index the engine uses.")
    int cuda_device_id() default 0;

    @AttributeDefinition(name = "Workspace (MiB)", min = "1",
            description = "TensorRT's build workspace memory pool limit, in MiB.")
    int workspace_mb() default 512;

    @AttributeDefinition(name = "Firmware profile",
            description = "Profile whose prebuilt engines (descriptor field 'engines') this box may use, e.g."
                    + " jetson-orin-nano-jp6; empty = always build on the box. Set by the firmware profile.")
    String profile() default "";
}
