package io.tollgate.pipeline;

import io.tollgate.engine.spi.EngineException;
import io.tollgate.engine.spi.LoadedModel;
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

    /**
     * A stage over a model an engine loaded: serving's own adapter, and what a plugin's unit test uses around an
     * engine it loaded itself. The stage does not own the model (closing it is the caller's).
     * {@code EngineException.Reason.INVALID_INPUT} becomes {@link PipelineException.Reason#INVALID_INPUT}, every other
     * reason {@link PipelineException.Reason#FAILED}, with the stage's name before the engine's message.
     */
    static PipelineStage of(String name, LoadedModel model) {
        java.util.Objects.requireNonNull(name, "name");
        java.util.Objects.requireNonNull(model, "model");
        return new PipelineStage() {
            @Override
            public String name() {
                return name;
            }

            @Override
            public List<TensorSpec> inputs() {
                return model.inputs();
            }

            @Override
            public List<TensorSpec> outputs() {
                return model.outputs();
            }

            @Override
            public String accelerator() {
                return model.accelerator();
            }

            @Override
            public List<Tensor> run(List<Tensor> inputs, Set<String> requestedOutputs) throws PipelineException {
                try {
                    return model.run(inputs, requestedOutputs);
                } catch (EngineException e) {
                    PipelineException.Reason r = e.reason() == EngineException.Reason.INVALID_INPUT
                            ? PipelineException.Reason.INVALID_INPUT : PipelineException.Reason.FAILED;
                    throw new PipelineException(r, "stage " + name + ": " + e.getMessage(), e);
                }
            }

            @Override
            public String toString() {
                return "stage " + name + " on " + model.accelerator();
            }
        };
    }
}
