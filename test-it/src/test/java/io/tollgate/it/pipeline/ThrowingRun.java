package io.tollgate.it.pipeline;

import io.tollgate.model.Tensor;
import io.tollgate.pipeline.Pipeline;
import io.tollgate.pipeline.PipelineContext;
import io.tollgate.pipeline.PipelineRequest;
import java.util.List;

/**
 * A pipeline with a bug: every run throws (answered 5xx, the appliance serves on). By default an unchecked exception;
 * with request parameter {@code throw}: {@code "oom"} an {@link OutOfMemoryError}, {@code "stack"} a
 * {@link StackOverflowError}, {@code "error"} a plain {@link Error}.
 */
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
        Object kind = request.parameters().get("throw");
        if ("oom".equals(kind)) {
            throw new OutOfMemoryError("test");
        }
        if ("stack".equals(kind)) {
            throw new StackOverflowError("test");
        }
        if ("error".equals(kind)) {
            throw new Error("test");
        }
        throw new IllegalStateException("the plugin's own bug");
    }

    @Override
    public void close() {
    }
}
