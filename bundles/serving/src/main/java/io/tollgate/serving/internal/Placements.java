package io.tollgate.serving.internal;

import io.tollgate.accelerator.EngineAvailability;
import io.tollgate.accelerator.EvictionListener;
import io.tollgate.accelerator.Placement;
import io.tollgate.accelerator.PlacementException;
import io.tollgate.accelerator.PlacementRequest;
import io.tollgate.accelerator.PlacementService;
import io.tollgate.engine.spi.InferenceEngine;
import io.tollgate.model.ModelDescriptor;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Serving's side of placement (issue 12): asks the {@link PlacementService} (when one is registered; without it
 * nothing is placed and nothing is evicted, as before) where a model instance goes before its engine loads it,
 * touches it on each request for least-recently-used eviction, and releases its reservation when its version closes
 * or fails. Each reservation is owned by one {@link ModelVersion}: a version that drains after its model was evicted
 * and loaded again does not release its successor's reservation.
 *
 * <p>Memory estimate: the model file's size times {@value #ESTIMATE_FACTOR} (ONNX Runtime holds the weights once
 * more as initializers and allocates activations beside them); a descriptor parameter {@code memory_bytes} overrides it.
 *
 * <p>Threads: {@link #place} and {@link #release} on the lifecycle thread; {@link #touch} on request threads.
 */
final class Placements {
    private static final Logger LOG = LoggerFactory.getLogger(Placements.class);
    /** Estimated bytes of a loaded model per byte of its model file. */
    static final int ESTIMATE_FACTOR = 2;

    private volatile PlacementService service;
    private final Map<String, ModelVersion> owners = new ConcurrentHashMap<>();
    /** The request each owned reservation was made with, to place a version again (lifecycle thread). */
    private final Map<String, PlacementRequest> requests = new ConcurrentHashMap<>();
    /** Fallbacks already logged at WARN: a model evicted and loaded again many times warns once. */
    private final java.util.Set<String> warnedFallback = ConcurrentHashMap.newKeySet();

    void bind(PlacementService s) {
        service = s;
    }

    void unbind(PlacementService s) {
        if (service == s) {
            service = null;
            owners.clear();
        }
    }

    boolean active() {
        return service != null;
    }

    /**
     * Places {@code version} for the engine its descriptor names and, for an ONNX model, the {@code onnx} engine too
     * ({@code cpu}, when registered): placement chooses among them by {@code engine.order} and each engine's own
     * {@link InferenceEngine#availability()}, and says in the placement's reason when it fell back. Evicted instances
     * go to {@code listener}. Empty when no placement service is registered.
     *
     * @param cpu the {@code onnx} engine, or null when it is not registered (then only {@code engine} is offered)
     * @throws PlacementException when it cannot be placed (the load fails with the message)
     */
    Optional<Placement> place(ModelVersion version, ModelDescriptor descriptor, InferenceEngine engine,
                              InferenceEngine cpu, long fileBytes, EvictionListener listener)
            throws PlacementException {
        PlacementService s = service;
        if (s == null) {
            return Optional.empty();
        }
        PlacementRequest request = new PlacementRequest(descriptor.name(), descriptor.version(),
                engines(descriptor, engine, cpu), precisions(descriptor), estimate(descriptor, fileBytes));
        Placement p = s.place(request, listener);
        owners.put(p.key(), version);
        requests.put(p.key(), request);
        if (p.fallback() && warnedFallback.add(p.key() + "\n" + p.acceleratorId() + "\n" + p.reason())) {
            LOG.warn("{}: placed {}", version.label(), describe(p));     // once per model and fallback; INFO after
        } else {
            LOG.info("{}: placed {}", version.label(), describe(p));
        }
        return Optional.of(p);
    }

    /** Frees {@code version}'s reservation, if it still owns one. */
    void release(ModelVersion version) {
        PlacementService s = service;
        String key = version.name() + ":" + version.descriptor().version();
        if (s != null && owners.remove(key, version)) {
            s.release(version.name(), version.descriptor().version());
        }
    }

    /**
     * A version that became READY after placement evicted it while it was loading holds no reservation: place it again
     * (which may evict others), so that the budget counts it.
     */
    void placedAgainIfEvicted(ModelVersion version, EvictionListener listener) {
        PlacementService s = service;
        String key = version.name() + ":" + version.version();
        PlacementRequest request = requests.get(key);
        if (s == null || request == null || owners.containsKey(key)) {
            return;
        }
        try {
            Placement p = s.place(request, listener);
            owners.put(key, version);
            LOG.info("{}: evicted while it loaded; placed again {}", version.label(), describe(p));
        } catch (PlacementException e) {
            LOG.warn("{}: evicted while it loaded and cannot be placed again ({}); it serves unaccounted until it"
                    + " unloads", version.label(), e.getMessage());
        }
    }

    /** {@code version} lost its reservation to an eviction: it owns none any more. */
    void evicted(String model, String modelVersion) {
        owners.remove(model + ":" + modelVersion);
    }

    /** True when {@code version} holds its model's reservation now. */
    boolean owns(ModelVersion version) {
        return owners.get(version.name() + ":" + version.version()) == version;
    }

    /** A request for {@code version} arrived. */
    void touch(ModelVersion version) {
        PlacementService s = service;
        if (s != null) {
            s.touch(version.name(), version.descriptor().version());
        }
    }

    static String describe(Placement p) {
        return "on " + p.acceleratorId() + " with " + p.engine() + " at " + p.precision() + " ("
                + String.format(Locale.ROOT, "%.1f MiB", p.bytes() / 1048576.0) + " reserved)"
                + (p.fallback() ? ": " + p.reason() : "");
    }

    /** The name of the engine an ONNX model can always run on (ONNX Runtime's CPU provider). */
    static final String ONNX_ENGINE = "onnx";

    /**
     * The engines offered to placement, in the plugin's order, each with what it reports about itself: the named
     * engine first, then {@value #ONNX_ENGINE} when the model's platform is {@code onnx} (a plugin packed for
     * TensorRT carries its ONNX model and runs on ONNX Runtime too) and {@code cpu} is registered.
     */
    static Map<String, EngineAvailability> engines(ModelDescriptor d, InferenceEngine named, InferenceEngine cpu) {
        Map<String, EngineAvailability> out = new LinkedHashMap<>();
        out.put(named.name(), available(named));
        if (cpu != null && ONNX_ENGINE.equals(d.platform()) && !named.name().equals(cpu.name())) {
            out.put(cpu.name(), available(cpu));
        }
        return out;
    }

    /** {@link InferenceEngine#availability()}, an engine that throws being unavailable with what it threw. */
    private static EngineAvailability available(InferenceEngine engine) {
        try {
            EngineAvailability a = engine.availability();
            return a == null ? EngineAvailability.unavailable("engine '" + engine.name() + "' reports no availability")
                    : a;
        } catch (RuntimeException | LinkageError e) {
            return EngineAvailability.unavailable("engine '" + engine.name() + "' failed to report availability: "
                    + e);
        }
    }

    /** The descriptor's {@code precision} (model API 1.3; {@code fp32} when it names none). */
    static List<String> precisions(ModelDescriptor d) {
        String p = d.precision();
        return List.of(p == null || p.isBlank() ? "fp32" : p.strip().toLowerCase(Locale.ROOT));
    }

    static long estimate(ModelDescriptor d, long fileBytes) {
        String given = d.parameters().get("memory_bytes");
        if (given != null) {
            try {
                return Long.parseLong(given.strip());
            } catch (NumberFormatException e) {
                LOG.warn("model '{}': parameter memory_bytes '{}' is no number; estimating {} x the file size",
                        d.name(), given, ESTIMATE_FACTOR);
            }
        }
        return fileBytes * ESTIMATE_FACTOR;
    }
}
