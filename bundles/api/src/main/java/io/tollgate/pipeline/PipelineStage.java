package io.tollgate.pipeline;

import io.tollgate.model.Tensor;
import io.tollgate.model.TensorSpec;
import java.util.List;
import java.util.Set;
import org.osgi.annotation.versioning.ProviderType;

/**
 * One stage model of a pipeline, loaded by the engine its descriptor names, on the accelerator the placement chose.
 * Thread-safe; owned by serving (a pipeline never closes it).
 */
@ProviderType
public interface PipelineStage {
    /** The stage's name in the descriptor's {@code pipeline.stages}. */
    String name();

    /** Inputs as the model file declares them (dynamic dimensions are -1). */
    List<TensorSpec> inputs();

    /** Outputs as the model file declares them. */
    List<TensorSpec> outputs();

    /** Where it runs, e.g. {@code cpu} or {@code cuda:0}. */
    String accelerator();

    /**
     * Runs the stage model once.
     *
     * @param inputs           one tensor per model input, named as {@link #inputs()} names them, in any order
     * @param requestedOutputs output names to return; empty means all
     * @return the outputs in model order
     * @throws PipelineException with {@link PipelineException.Reason#FAILED} when the engine refused or failed the run
     *                           (the engine's message)
     */
    List<Tensor> run(List<Tensor> inputs, Set<String> requestedOutputs) throws PipelineException;
}
