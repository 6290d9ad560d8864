package io.tollgate.serving.internal;

import io.tollgate.accelerator.AcceleratorKind;
import io.tollgate.accelerator.EngineAvailability;
import io.tollgate.accelerator.EvictionListener;
import io.tollgate.accelerator.Placement;
import io.tollgate.accelerator.PlacementException;
import io.tollgate.accelerator.PlacementRequest;
import io.tollgate.accelerator.PlacementService;
import io.tollgate.engine.spi.InferenceEngine;
import io.tollgate.model.ModelDescriptor;
import java.util.ArrayList;
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
     * Places {@code version} for {@code engine}; evicted instances go to {@code listener}. Empty when no placement
     * service is registered.
     *
     * @throws PlacementException when it cannot be placed (the load fails with the message)
     */
    Optional<Placement> place(ModelVersion version, ModelDescriptor descriptor, InferenceEngine engine, long fileBytes,
                              EvictionListener listener) throws PlacementException {
        PlacementService s = service;
        if (s == null) {
            return Optional.empty();
        }
        PlacementRequest request = new PlacementRequest(descriptor.name(), descriptor.version(),
                Map.of(engine.name(), availability(engine)), precisions(descriptor), estimate(descriptor, fileBytes));
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

    /**
     * What the engine can drive. Until engines report it themselves (the TensorRT work of issue 12 adds
     * {@code InferenceEngine.availability()}), it follows from the accelerator the engine says it loads onto.
     */
    static EngineAvailability availability(InferenceEngine engine) {
        String acc = engine.accelerator() == null ? "" : engine.accelerator();
        if (engine.name().equals("tensorrt")) {
            return EngineAvailability.on(AcceleratorKind.GPU, AcceleratorKind.DLA);
        }
        return acc.startsWith("cuda") ? EngineAvailability.on(AcceleratorKind.CPU, AcceleratorKind.GPU)
                : EngineAvailability.on(AcceleratorKind.CPU);
    }

    /** The descriptor parameter {@code precisions} (comma list), else fp32. */
    static List<String> precisions(ModelDescriptor d) {
        List<String> out = new ArrayList<>();
        for (String p : d.parameters().getOrDefault("precisions", "fp32").split(",")) {
            if (!p.isBlank()) {
                out.add(p.strip().toLowerCase(Locale.ROOT));
            }
        }
        return out;
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
