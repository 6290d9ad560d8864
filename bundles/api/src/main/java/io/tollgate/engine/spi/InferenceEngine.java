package io.tollgate.engine.spi;

import io.tollgate.accelerator.AcceleratorKind;
import io.tollgate.accelerator.EngineAvailability;
import org.osgi.annotation.versioning.ConsumerType;

/**
 * An inference engine, registered as an OSGi service. The serving extender picks the engine whose
 * {@link #name()} equals the plugin descriptor's {@code engine} field.
 */
@ConsumerType
public interface InferenceEngine {
    /** Service property carrying {@link #name()}, for filters. */
    String NAME_PROPERTY = "tollgate.engine";

    /** Engine name, e.g. {@code onnx} or {@code tensorrt}. */
    String name();

    /** Which accelerator a newly loaded model lands on, e.g. {@code cpu} or {@code cuda:0}. */
    String accelerator();

    /**
     * Whether this engine can load models on this box now. An engine whose native libraries or device are missing
     * stays registered (so plugins naming it resolve and the reason is visible) and says why here; serving then
     * loads the model with the next engine of the configured engine order (issue 12).
     *
     * @return by default, available on the CPU
     * @since 1.3
     */
    default EngineAvailability availability() {
        return EngineAvailability.on(AcceleratorKind.CPU);
    }

    /**
     * Loads a model. The returned model is ready to run; its signature is what the model file
     * itself declares, which the caller validates against the plugin descriptor.
     *
     * @throws EngineException with {@link EngineException.Reason#CORRUPT_MODEL} when the file cannot be parsed,
     *                         {@link EngineException.Reason#UNSUPPORTED} when it uses something this engine lacks
     */
    LoadedModel load(ModelArtifact artifact) throws EngineException;
}
