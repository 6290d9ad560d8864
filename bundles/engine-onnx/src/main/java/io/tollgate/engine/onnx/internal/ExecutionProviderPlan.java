package io.tollgate.engine.onnx.internal;

import ai.onnxruntime.OrtProvider;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * Which GPU execution providers the engine attaches to each session, decided from what configuration
 * asks for and what this ONNX Runtime build offers ({@code OrtEnvironment.getAvailableProviders()}).
 * The CPU provider is implicit and always last: ONNX Runtime gives it every node the others cannot run.
 *
 * @param gpuProviders providers to attach, in order (CUDA and/or TensorRT); empty means CPU only
 * @param deviceId     GPU index the GPU providers use
 * @param unavailable  requested providers this build lacks (for the fallback warning)
 */
record ExecutionProviderPlan(List<OrtProvider> gpuProviders, int deviceId, List<String> unavailable) {

    ExecutionProviderPlan {
        gpuProviders = List.copyOf(gpuProviders);
        unavailable = List.copyOf(unavailable);
    }

    /** Keeps the requested providers (see {@link OnnxSettings#PROVIDERS}) that {@code available} contains. */
    static ExecutionProviderPlan choose(List<String> requested, Set<OrtProvider> available, int deviceId) {
        List<OrtProvider> chosen = new ArrayList<>();
        List<String> missing = new ArrayList<>();
        for (String name : requested) {
            OrtProvider provider = switch (name) {
                case "cuda" -> OrtProvider.CUDA;
                case "tensorrt" -> OrtProvider.TENSOR_RT;
                default -> null; // "cpu": implicit
            };
            if (provider == null) {
                continue;
            }
            if (available.contains(provider)) {
                chosen.add(provider);
            } else {
                missing.add(name);
            }
        }
        return new ExecutionProviderPlan(chosen, deviceId, missing);
    }

    /** Where a model loaded with this plan runs: {@code cpu} or {@code cuda:<device>}. */
    String accelerator() {
        return gpuProviders.isEmpty() ? "cpu" : "cuda:" + deviceId;
    }

    /** This plan without {@code failed} (after ONNX Runtime refused to attach it). */
    ExecutionProviderPlan without(OrtProvider failed, String name) {
        List<OrtProvider> rest = new ArrayList<>(gpuProviders);
        rest.remove(failed);
        List<String> missing = new ArrayList<>(unavailable);
        missing.add(name);
        return new ExecutionProviderPlan(rest, deviceId, missing);
    }

    /** The one warning to log when configuration asked for providers this build lacks. */
    Optional<String> fallbackWarning(Set<OrtProvider> available) {
        if (unavailable.isEmpty()) {
            return Optional.empty();
        }
        return Optional.of("execution provider(s) " + unavailable + " requested by " + OnnxEngine.PID + " "
                + OnnxSettings.PROVIDERS_KEY + " are not available in this ONNX Runtime (it offers " + available
                + "); models run on " + accelerator() + ". A GPU needs the onnxruntime_gpu build, a CUDA driver"
                + " and a visible device.");
    }

    static String providerName(OrtProvider provider) {
        return provider == OrtProvider.TENSOR_RT ? "tensorrt" : "cuda";
    }
}
