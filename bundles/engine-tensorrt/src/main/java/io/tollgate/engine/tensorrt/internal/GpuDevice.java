package io.tollgate.engine.tensorrt.internal;

import java.util.Objects;

/**
 * A CUDA device as the CUDA runtime describes it.
 *
 * @param index             CUDA device index (accelerator id {@code cuda:<index>})
 * @param name              e.g. {@code Orin} or {@code NVIDIA RTX A2000}
 * @param computeCapability e.g. {@code 8.7}
 * @param totalMemoryBytes  device memory in bytes
 */
record GpuDevice(int index, String name, String computeCapability, long totalMemoryBytes) {
    GpuDevice {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(computeCapability, "computeCapability");
    }

    /** The accelerator id placements and usage records use. */
    String acceleratorId() {
        return "cuda:" + index;
    }
}
