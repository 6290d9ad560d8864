package io.tollgate.engine.onnx.internal;

import io.tollgate.config.ConfigurationKeys;
import java.util.Map;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtProvider;
import ai.onnxruntime.OrtSession.SessionOptions;
import ai.onnxruntime.OrtSession;
import io.tollgate.engine.spi.EngineException.Reason;
import io.tollgate.engine.spi.EngineException;
import io.tollgate.engine.spi.InferenceEngine;
import io.tollgate.engine.spi.LoadedModel;
import io.tollgate.engine.spi.ModelArtifact;
import io.tollgate.engine.spi.ModelSignature;
import io.tollgate.model.TensorSpec;
import java.nio.ByteOrder;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.ConfigurationPolicy;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.metatype.annotations.Designate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The {@code onnx} inference engine: loads model files into ONNX Runtime sessions.
 *
 * <p>In OSGi it is a DS component configured under {@value #PID}. Outside OSGi (tests, the launcher)
 * construct it directly: {@code new OnnxEngine()} for the defaults or
 * {@code new OnnxEngine(OnnxSettings.fromProperties(Map.of("intra_op_threads", "2")))}.
 *
 * <p>Execution providers are chosen once, at construction, from the configured list and the providers
 * this ONNX Runtime build offers; anything missing falls back to the CPU with one warning.
 */
@Component(service = InferenceEngine.class, configurationPid = OnnxEngine.PID,
        configurationPolicy = ConfigurationPolicy.OPTIONAL,
        property = InferenceEngine.NAME_PROPERTY + "=" + OnnxEngine.NAME)
@Designate(ocd = OnnxEngineConfig.class)
public final class OnnxEngine implements InferenceEngine {
    /** Configuration PID. */
    public static final String PID = "io.tollgate.engine.onnx";
    /** Engine name, matched against a descriptor's {@code engine} and the {@code tollgate.engine} capability. */
    public static final String NAME = "onnx";

    private static final Logger LOG = LoggerFactory.getLogger(OnnxEngine.class);

    private final OrtEnvironment env;
    private final OnnxSettings settings;
    private final Set<OrtProvider> available;
    private final Set<OnnxLoadedModel> open = ConcurrentHashMap.newKeySet();
    /** Placement fallback reasons already logged (each once per engine, not once per model). */
    private final Set<String> explained = ConcurrentHashMap.newKeySet();
    private volatile ExecutionProviderPlan providers;

    /**
     * DS activation.
     *
     * @throws IllegalArgumentException naming the key and accepted values when the configuration is invalid
     * @throws IllegalStateException    when ONNX Runtime cannot run on this machine
     */
    @Activate
    public OnnxEngine(OnnxEngineConfig config, Map<String, Object> properties) {
        this(OnnxSettings.fromConfig(checked(config, properties)));
    }

    /** Without DS: the configuration as given (its keys are the annotation's own). */
    public OnnxEngine(OnnxEngineConfig config) {
        this(OnnxSettings.fromConfig(config));
    }

    private static OnnxEngineConfig checked(OnnxEngineConfig config, Map<String, Object> properties) {
        ConfigurationKeys.refuseUnknown(PID, OnnxEngineConfig.class, properties, InferenceEngine.NAME_PROPERTY);
        return config;
    }

    /** An engine with {@link OnnxSettings#defaults()}: CPU, ORT's thread defaults. */
    public OnnxEngine() {
        this(OnnxSettings.defaults());
    }

    /** An engine with the given settings, for callers outside OSGi. */
    public OnnxEngine(OnnxSettings settings) {
        this(settings, null);
    }

    /** Tests pass {@code available} to pretend a provider exists; null asks ONNX Runtime. */
    OnnxEngine(OnnxSettings settings, Set<OrtProvider> available) {
        if (ByteOrder.nativeOrder() != ByteOrder.LITTLE_ENDIAN) {
            // Tensor data is little-endian and handed to ORT as raw bytes.
            throw new IllegalStateException("the ONNX engine needs a little-endian CPU; this one is "
                    + ByteOrder.nativeOrder());
        }
        this.settings = settings;
        try {
            this.env = OnnxSignatureReader.environment();
        } catch (EngineException e) {
            throw new IllegalStateException(e.getMessage(), e);
        }
        this.available = available != null ? Set.copyOf(available) : availableProviders();
        this.providers = ExecutionProviderPlan.choose(settings.executionProviders(), this.available,
                settings.cudaDeviceId());
        providers.fallbackWarning(this.available).ifPresent(LOG::warn);
        LOG.info("ONNX Runtime {} engine ready on {}: optimization {}, intra-op threads {}, inter-op threads {}",
                env.getVersion(), providers.accelerator(), settings.optimizationLevel(),
                threads(settings.intraOpThreads()), threads(settings.interOpThreads()));
    }

    private static Set<OrtProvider> availableProviders() {
        EnumSet<OrtProvider> providers = OrtEnvironment.getAvailableProviders();
        return providers.isEmpty() ? Set.of(OrtProvider.CPU) : Set.copyOf(providers);
    }

    private static String threads(int n) {
        return n == 0 ? "ORT default" : Integer.toString(n);
    }

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public String accelerator() {
        return providers.accelerator();
    }

    /** The settings this engine runs with (before per-model overrides). */
    public OnnxSettings settings() {
        return settings;
    }

    /**
     * Loads the model file of {@code artifact} into a new session.
     *
     * @throws EngineException {@link Reason#CORRUPT_MODEL} when ONNX Runtime cannot parse the bytes,
     *                         {@link Reason#UNSUPPORTED} for unknown operators, invalid descriptor parameters,
     *                         non-tensor inputs/outputs and inputs ORT's Java API cannot feed (UINT16/32/64)
     */
    @Override
    public LoadedModel load(ModelArtifact artifact) throws EngineException {
        String origin = artifact.origin();
        OnnxSettings modelSettings = settings.withParameters(artifact.descriptor().parameters(), origin);
        OrtSession session;
        String accelerator;
        try (SessionOptions options = new SessionOptions()) {
            modelSettings.applyTo(options);
            accelerator = attachProviders(options, origin, artifact.accelerator());
            session = OnnxSignatureReader.open(env, artifact.modelBytes(), options, origin);
        } catch (OrtException e) {
            throw new EngineException(Reason.UNSUPPORTED, "model " + origin + ": ONNX Runtime refused the session"
                    + " settings " + modelSettings + ": " + e.getMessage(), e);
        }
        try {
            ModelSignature signature = OnnxSignatureReader.signatureOf(session, origin);
            for (TensorSpec in : signature.inputs()) {
                if (OrtTensorConverter.inputJavaType(in.type()) == null) {
                    throw new EngineException(Reason.UNSUPPORTED, "model " + origin + " input '" + in.name()
                            + "' is " + in.type() + ", which ONNX Runtime's Java API cannot pass to a model (it has"
                            + " no unsigned 16/32/64-bit tensors); re-export the model with a signed or wider input");
                }
            }
            OnnxLoadedModel model = new OnnxLoadedModel(env, session, signature, origin, accelerator, open::remove);
            open.add(model);
            LOG.info("loaded model {} on {}: inputs {}, outputs {}", origin, accelerator, signature.inputs(),
                    signature.outputs());
            return model;
        } catch (EngineException | RuntimeException e) {
            closeQuietly(session, origin);
            throw e;
        }
    }

    /**
     * Attaches the GPU providers the placement ({@code placedOn}, "" = none: the configuration's plan) asks for; a
     * placement this build cannot honour runs on the CPU with its reason logged once; a provider ORT refuses is
     * dropped for this and later models.
     */
    private String attachProviders(SessionOptions options, String origin, String placedOn) {
        ExecutionProviderPlan.Placed placed = providers.forPlacement(placedOn, available);
        placed.reason().filter(explained::add).ifPresent(reason -> LOG.warn("model {}: {}", origin, reason));
        ExecutionProviderPlan plan = placed.plan();
        boolean attached = false;
        for (OrtProvider provider : plan.gpuProviders()) {
            try {
                if (provider == OrtProvider.TENSOR_RT) {
                    options.addTensorrt(plan.deviceId());
                } else {
                    options.addCUDA(plan.deviceId());
                }
                attached = true;
            } catch (OrtException | RuntimeException e) {
                String name = ExecutionProviderPlan.providerName(provider);
                ExecutionProviderPlan reduced = providers.without(provider, name);
                providers = reduced;
                LOG.warn("execution provider '{}' could not be attached for model {} ({}); it and later models"
                        + " run on {}", name, origin, e.getMessage(), attached ? plan.accelerator() : reduced.accelerator());
            }
        }
        return attached ? plan.accelerator() : "cpu";
    }

    private static void closeQuietly(OrtSession session, String origin) {
        try {
            session.close();
        } catch (OrtException | RuntimeException e) {
            LOG.warn("ONNX Runtime failed to free the session of model {}: {}", origin, e.toString());
        }
    }

    /** Frees models whose owner did not close them before the engine went away. */
    @Deactivate
    void deactivate() {
        List<OnnxLoadedModel> leftovers = List.copyOf(open);
        if (!leftovers.isEmpty()) {
            LOG.warn("ONNX engine stopping with {} model(s) still loaded; closing them: {}", leftovers.size(),
                    leftovers.stream().map(OnnxLoadedModel::origin).toList());
            leftovers.forEach(OnnxLoadedModel::close);
        }
    }

    /** Number of models loaded and not yet closed. */
    int openModels() {
        return open.size();
    }
}
