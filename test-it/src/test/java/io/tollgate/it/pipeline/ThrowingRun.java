package io.tollgate.it.pipeline;

import io.tollgate.model.Tensor;
import io.tollgate.pipeline.Pipeline;
import io.tollgate.pipeline.PipelineContext;
import io.tollgate.pipeline.PipelineRequest;
import java.util.List;

/** A pipeline with a bug: every run throws an unchecked exception (answered 500, the appliance serves on). */
public class ThrowingRun implements Pipeline {
    @Override
    public void open(PipelineContext context) {
        context.stage("classify");
    }

    @Override
    public long quantity(PipelineRequest request) {
        return 1;
    }

    @Override
    public List<Tensor> run(PipelineRequest request) {
        throw new IllegalStateException("the plugin's own bug");
    }

    @Override
    public void close() {
    }
}
