package io.tollgate.engine.spi;

import io.tollgate.model.Tensor;
import io.tollgate.model.TensorSpec;
import java.util.List;
import java.util.Set;
import org.osgi.annotation.versioning.ConsumerType;

/**
 * A model held by an engine (e.g. an ONNX Runtime session). {@link #run} is called concurrently
 * from serving threads; {@link #close} is called once, after the last run has returned, and frees
 * the engine's memory.
 */
@ConsumerType
public interface LoadedModel extends AutoCloseable {
    /** Inputs as the model file declares them. */
    List<TensorSpec> inputs();

    /** Outputs as the model file declares them. */
    List<TensorSpec> outputs();

    /** Accelerator the model runs on, e.g. {@code cpu}. */
    String accelerator();

    /**
     * Runs the model.
     *
     * @param inputs           one tensor per model input, already checked against {@link #inputs()}
     * @param requestedOutputs output names to return; empty means all
     * @return the outputs in model order
     * @throws EngineException with {@link EngineException.Reason#RUN_FAILED} when the engine rejects or fails the run
     */
    List<Tensor> run(List<Tensor> inputs, Set<String> requestedOutputs) throws EngineException;

    @Override
    void close();
}
