package io.tollgate.it.pipeline;

import io.tollgate.model.Tensor;
import io.tollgate.pipeline.Pipeline;
import io.tollgate.pipeline.PipelineContext;
import io.tollgate.pipeline.PipelineException;
import io.tollgate.pipeline.PipelineRequest;
import java.util.List;

/** A pipeline whose {@link #open} refuses: its plugin must end FAILED with this message. */
public class FailingOpen implements Pipeline {
    @Override
    public void open(PipelineContext context) throws PipelineException {
        throw new PipelineException(PipelineException.Reason.FAILED, "the dictionary dict.txt is missing");
    }

    @Override
    public long quantity(PipelineRequest request) {
        return 1;
    }

    @Override
    public List<Tensor> run(PipelineRequest request) {
        return List.of();
    }

    @Override
    public void close() {
    }
}
