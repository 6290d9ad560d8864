package io.tollgate.engine.tensorrt.internal;

import io.tollgate.accelerator.AcceleratorKind;
import io.tollgate.accelerator.EngineAvailability;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import org.bytedeco.cuda.cudart.cudaDeviceProp;
import org.bytedeco.cuda.global.cudart;
import org.bytedeco.javacpp.Loader;
import org.bytedeco.tensorrt.global.nvinfer;
import org.bytedeco.tensorrt.global.nvonnxparser;

/**
 * The JNI boundary: loads the CUDA runtime and TensorRT through javacpp once, and says whether they work here.
 * Everything that can go wrong at this boundary (no driver, no TensorRT, no device, a glue library for another
 * architecture) becomes a one-line reason, never an exception out of the engine's activation.
 */
final class TensorRtNatives {
    private TensorRtNatives() {
    }

    /**
     * What the probe found.
     *
     * @param availability    available on GPU (and DLA when the device has cores), or unavailable with the reason
     * @param gpu             the device the engine uses, when available
     * @param tensorrtVersion e.g. {@code 10.3.0}, when available
     */
    record Probe(EngineAvailability availability, Optional<GpuDevice> gpu, String tensorrtVersion) {
        static Probe unavailable(String reason) {
            return new Probe(EngineAvailability.unavailable(reason), Optional.empty(), "");
        }
    }

    // The first probe of a JVM is the only one that sees the whole cause: once a preset's static initializer has
    // failed, the JVM answers every later use with a bare NoClassDefFoundError ("Could not initialize class ...")
    // that no longer names the missing library. So the answer is kept (per device) for the JVM's life: javacpp
    // cannot load a library twice anyway, so a driver installed later needs a restart either way.
    private static final Map<Integer, Probe> PROBES = new ConcurrentHashMap<>();

    /** Loads the natives and describes CUDA device {@code deviceId}, once per JVM; never throws. */
    static Probe probe(int deviceId) {
        return PROBES.computeIfAbsent(deviceId, TensorRtNatives::probeOnce);
    }

    private static Probe probeOnce(int deviceId) {
        try {
            return probeOrThrow(deviceId);
        } catch (UnsatisfiedLinkError | NoClassDefFoundError | ExceptionInInitializerError e) {
            return Probe.unavailable(NativeFailure.reason(e));
        } catch (RuntimeException e) {
            // javacpp wraps some loader failures (e.g. an unwritable cache folder) in RuntimeException
            return Probe.unavailable("the CUDA/TensorRT native libraries could not be loaded: " + e);
        }
    }

    private static Probe probeOrThrow(int deviceId) {
        Loader.load(cudart.class);
        int[] value = new int[1];
        int rc = cudart.cudaDriverGetVersion(value);
        if (rc != cudart.cudaSuccess || value[0] == 0) {
            return Probe.unavailable("no CUDA driver (cudaDriverGetVersion: " + error(rc) + ")");
        }
        rc = cudart.cudaGetDeviceCount(value);
        if (rc != cudart.cudaSuccess || value[0] == 0) {
            return Probe.unavailable("no CUDA device visible (" + error(rc) + ")");
        }
        if (deviceId >= value[0]) {
            return Probe.unavailable("CUDA device " + deviceId + " was configured but only " + value[0]
                    + " device(s) are visible");
        }
        GpuDevice gpu;
        try (cudaDeviceProp props = new cudaDeviceProp()) {
            rc = cudart.cudaGetDeviceProperties(props, deviceId);
            if (rc != cudart.cudaSuccess) {
                return Probe.unavailable("cannot read CUDA device " + deviceId + " (" + error(rc) + ")");
            }
            gpu = new GpuDevice(deviceId, props.name().getString().trim(), props.major() + "." + props.minor(),
                    props.totalGlobalMem());
        }
        Loader.load(nvinfer.class);
        Loader.load(nvonnxparser.class);
        String version = version(nvinfer.getInferLibVersion());
        return new Probe(EngineAvailability.on(AcceleratorKind.GPU), Optional.of(gpu), version);
    }

    /** {@code getInferLibVersion()} as {@code major.minor.patch} (TensorRT 10+: M*10000+m*100+p; before: M*1000+m*100+p). */
    static String version(int encoded) {
        int major = encoded >= 100_000 ? encoded / 10_000 : encoded / 1_000;
        int rest = encoded >= 100_000 ? encoded % 10_000 : encoded % 1_000;
        return major + "." + rest / 100 + "." + rest % 100;
    }

    static String error(int rc) {
        try {
            return "CUDA error " + rc + ": " + cudart.cudaGetErrorString(rc).getString();
        } catch (RuntimeException | LinkageError e) {
            return "CUDA error " + rc;
        }
    }
}
