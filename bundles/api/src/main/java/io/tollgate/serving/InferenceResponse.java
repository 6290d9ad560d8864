package io.tollgate.serving;

import io.tollgate.model.Tensor;
import java.util.List;

/**
 * The answer to an {@link InferenceRequest}.
 *
 * @param model        model name
 * @param version      model version that served the request
 * @param id           the request's id, {@link InferenceRequest#id()} unchanged
 * @param outputs      output tensors in model order
 * @param computeNanos engine time spent on this request
 * @param accelerator  where it ran, e.g. {@code cpu}
 */
public record InferenceResponse(String model, String version, String id, List<Tensor> outputs,
                                long computeNanos, String accelerator) {
    public InferenceResponse {
        outputs = List.copyOf(outputs);
    }
}
