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

    /**
     * The plan for one model whose placement (issue 12) names {@code acceleratorId}: {@code ""} keeps this plan (the
     * configuration decides); {@code cpu} runs on the CPU whatever is configured; {@code cuda:<n>} attaches the GPU
     * providers on device {@code n}: those configured, else CUDA, as far as this build offers them. When the placement
     * cannot be honoured the plan is the CPU and {@code reason} says why.
     *
     * @param available providers this ONNX Runtime build offers
     */
    Placed forPlacement(String acceleratorId, Set<OrtProvider> available) {
        if (acceleratorId == null || acceleratorId.isEmpty()) {
            return new Placed(this, Optional.empty());
        }
        ExecutionProviderPlan cpu = new ExecutionProviderPlan(List.of(), deviceId, List.of());
        if (acceleratorId.equals("cpu")) {
            return new Placed(cpu, Optional.empty());
        }
        if (acceleratorId.startsWith("cuda:")) {
            int device;
            try {
                device = Integer.parseInt(acceleratorId.substring(5));
            } catch (NumberFormatException e) {
                return new Placed(cpu, Optional.of("placement names accelerator '" + acceleratorId
                        + "', which is no CUDA device id (cuda:0, cuda:1); models run on cpu"));
            }
            // the configured GPU providers that are usable; none configured: CUDA, if the build has it. Providers
            // missing from the build or refused before (unavailable) are not tried again.
            List<OrtProvider> usable = !gpuProviders.isEmpty() ? gpuProviders
                    : unavailable.isEmpty() && available.contains(OrtProvider.CUDA) ? List.of(OrtProvider.CUDA)
                    : List.of();
            if (usable.isEmpty()) {
                return new Placed(cpu, Optional.of("placement put the model on " + acceleratorId + " but this ONNX"
                        + " Runtime offers no GPU execution provider (it offers " + available + "; a GPU needs the"
                        + " onnxruntime_gpu build and a CUDA driver); models run on cpu"));
            }
            return new Placed(new ExecutionProviderPlan(usable, device, List.of()), Optional.empty());
        }
        return new Placed(cpu, Optional.of("placement put the model on " + acceleratorId + ", which ONNX Runtime does"
                + " not drive (a DLA core needs engine tensorrt); models run on cpu"));
    }

    /** A per-model plan and, when it is not what the placement asked for, why. */
    record Placed(ExecutionProviderPlan plan, Optional<String> reason) {
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
