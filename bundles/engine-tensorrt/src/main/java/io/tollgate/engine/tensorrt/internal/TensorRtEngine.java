package io.tollgate.engine.tensorrt.internal;

import io.tollgate.accelerator.EngineAvailability;
import io.tollgate.config.ConfigurationKeys;
import io.tollgate.engine.spi.EngineException;
import io.tollgate.engine.spi.EngineException.Reason;
import io.tollgate.engine.spi.InferenceEngine;
import io.tollgate.engine.spi.LoadedModel;
import io.tollgate.engine.spi.ModelArtifact;
import io.tollgate.model.PrebuiltEngine;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.IntFunction;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.ConfigurationPolicy;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.metatype.annotations.Designate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The {@code tensorrt} inference engine. Registered on every box, GPU or not: where the CUDA driver, a device or
 * TensorRT is missing it says so once ({@code TensorRT engine unavailable: <reason>}, no stack trace) and through
 * {@link #availability()}, refuses loads with {@link Reason#UNAVAILABLE}, and serving loads the plugin with the next
 * engine of the engine order (onnx on the CPU).
 *
 * <p>Loading a model: a prebuilt plan shipped in the plugin for this firmware profile, precision and TensorRT
 * release; else a cached plan (key: GPU name + compute capability, TensorRT version, precision, model SHA-256, device);
 * else a build from the ONNX bytes (minutes on a Jetson; progress in the log and {@link #builds()}), stored in the
 * cache. Threads: {@link #load} runs on serving's loader thread and may block there for the whole build.
 */
@Component(service = InferenceEngine.class, configurationPid = TensorRtEngine.PID,
        configurationPolicy = ConfigurationPolicy.OPTIONAL,
        property = InferenceEngine.NAME_PROPERTY + "=" + TensorRtEngine.NAME)
@Designate(ocd = TensorRtEngineConfig.class)
public final class TensorRtEngine implements InferenceEngine {
    /** Configuration PID. */
    public static final String PID = "io.tollgate.engine.tensorrt";
    /** Engine name, matched against a descriptor's {@code engine} and the {@code tollgate.engine} capability. */
    public static final String NAME = "tensorrt";

    private static final Logger LOG = LoggerFactory.getLogger(TensorRtEngine.class);

    private final TensorRtNatives.Probe probe;
    private final EngineCache cache;
    private final long workspaceBytes;
    private final String profile;
    private final Map<String, String> builds = new ConcurrentHashMap<>();
    private final Set<TensorRtLoadedModel> open = ConcurrentHashMap.newKeySet();

    /** DS activation: validates the configuration, probes the natives once. */
    @Activate
    public TensorRtEngine(TensorRtEngineConfig config, Map<String, Object> properties) {
        this(checked(config, properties), TensorRtNatives::probe);
    }

    /** With a probe of the tests' choosing (a pretend GPU for everything up to the native calls). */
    TensorRtEngine(TensorRtEngineConfig config, IntFunction<TensorRtNatives.Probe> prober) {
        if (config.cuda_device_id() < 0) {
            throw new IllegalArgumentException("cuda.device.id=" + config.cuda_device_id() + " is negative; use 0 or more");
        }
        if (config.workspace_mb() < 1) {
            throw new IllegalArgumentException("workspace.mb=" + config.workspace_mb() + " must be 1 or more (MiB)");
        }
        this.cache = new EngineCache(Path.of(config.cache_directory()));
        this.workspaceBytes = (long) config.workspace_mb() << 20;
        this.profile = config.profile().strip();
        this.probe = prober.apply(config.cuda_device_id());
        if (probe.availability().available()) {
            GpuDevice gpu = probe.gpu().orElseThrow();
            LOG.info("TensorRT {} engine ready on {} ({}, compute capability {}, {} MiB); engine cache {}",
                    probe.tensorrtVersion(), gpu.acceleratorId(), gpu.name(), gpu.computeCapability(),
                    gpu.totalMemoryBytes() >> 20, cache.directory().toAbsolutePath());
        } else {
            // One line, no stack trace: a box without an NVIDIA GPU is a normal box (issue 12).
            LOG.info("TensorRT engine unavailable: {}; plugins naming it run on the next engine of the engine order",
                    probe.availability().reason());
        }
    }

    private static TensorRtEngineConfig checked(TensorRtEngineConfig config, Map<String, Object> properties) {
        ConfigurationKeys.refuseUnknown(PID, TensorRtEngineConfig.class, properties, InferenceEngine.NAME_PROPERTY);
        return config;
    }

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public String accelerator() {
        return probe.gpu().map(GpuDevice::acceleratorId).orElse("none");
    }

    @Override
    public EngineAvailability availability() {
        return probe.availability();
    }

    /** Models whose engine is being built right now, with their progress line (for /admin/plugins and logs). */
    public Map<String, String> builds() {
        return Map.copyOf(builds);
    }

    /**
     * @throws EngineException {@link Reason#UNAVAILABLE} with the probe's reason on a box without CUDA/TensorRT;
     *                         {@link Reason#CORRUPT_MODEL} or {@link Reason#UNSUPPORTED} when TensorRT cannot parse or
     *                         build the model
     */
    @Override
    public LoadedModel load(ModelArtifact artifact) throws EngineException {
        EngineAvailability availability = probe.availability();
        if (!availability.available()) {
            throw new EngineException(Reason.UNAVAILABLE, "TensorRT engine unavailable: " + availability.reason());
        }
        GpuDevice gpu = probe.gpu().orElseThrow();
        String origin = artifact.origin();
        int dlaCore = dlaCore(artifact.accelerator(), origin);
        String device = dlaCore >= 0 ? "dla:" + dlaCore : "gpu";
        String accelerator = dlaCore >= 0 ? device : gpu.acceleratorId();
        byte[] plan = plan(artifact, gpu, dlaCore, device, origin);
        TensorRtLoadedModel model = new TensorRtLoadedModel(plan, artifact.descriptor(), origin, accelerator,
                open::remove);
        open.add(model);
        LOG.info("loaded model {} on {} (TensorRT {}, {}): inputs {}, outputs {}", origin, accelerator,
                probe.tensorrtVersion(), artifact.precision(), model.inputs(), model.outputs());
        return model;
    }

    private byte[] plan(ModelArtifact artifact, GpuDevice gpu, int dlaCore, String device, String origin)
            throws EngineException {
        String precision = artifact.precision();
        Optional<PrebuiltEngine> prebuilt = dlaCore >= 0 ? Optional.empty()
                : PrebuiltEngines.select(artifact.descriptor(), profile, precision, probe.tensorrtVersion());
        if (prebuilt.isPresent()) {
            try {
                LOG.info("model {}: using the prebuilt TensorRT engine {} for profile {}", origin,
                        prebuilt.get().file(), profile);
                return artifact.resources().read(prebuilt.get().file());
            } catch (IOException e) {
                LOG.warn("model {}: prebuilt engine {} unreadable ({}); building one", origin, prebuilt.get().file(),
                        e.toString());
            }
        }
        EngineCacheKey key = EngineCacheKey.of(gpu, probe.tensorrtVersion(), precision, artifact.modelBytes(), device);
        Optional<byte[]> cached = cache.get(key);
        if (cached.isPresent()) {
            LOG.info("model {}: using the cached TensorRT engine {}", origin, key.fileName());
            return cached.get();
        }
        LOG.info("model {}: building a TensorRT engine for {} ({}, {}); this takes minutes on a Jetson", origin,
                device, gpu.name(), precision);
        long start = System.nanoTime();
        byte[] plan = TensorRtBuilder.build(artifact.descriptor(), artifact.modelBytes(), dlaCore, workspaceBytes,
                origin, builds);
        Path file = cache.put(key, plan);
        LOG.info("model {}: TensorRT engine built in {} s ({} bytes), cached as {}", origin,
                (System.nanoTime() - start) / 1_000_000_000L, plan.length, file);
        return plan;
    }

    /** The DLA core a placement names ({@code dla:1} gives 1), or -1 for the GPU. */
    static int dlaCore(String accelerator, String origin) throws EngineException {
        if (accelerator == null || !accelerator.startsWith("dla:")) {
            return -1;
        }
        try {
            return Integer.parseInt(accelerator.substring(4));
        } catch (NumberFormatException e) {
            throw new EngineException(Reason.UNSUPPORTED, "model " + origin + ": accelerator '" + accelerator
                    + "' is no DLA core id (dla:0, dla:1)");
        }
    }

    @Deactivate
    void deactivate() {
        List<TensorRtLoadedModel> leftovers = List.copyOf(open);
        if (!leftovers.isEmpty()) {
            LOG.warn("TensorRT engine stopping with {} model(s) still loaded; closing them", leftovers.size());
            leftovers.forEach(TensorRtLoadedModel::close);
        }
    }
}
