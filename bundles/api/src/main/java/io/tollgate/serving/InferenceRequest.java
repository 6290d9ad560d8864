package io.tollgate.serving;

import io.tollgate.model.Tensor;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * One inference call as the endpoint decoded it.
 *
 * @param model            model name
 * @param version          model version, or {@code null} for the serving (newest ready) version
 * @param id               client's request id ("" when none was given)
 * @param inputs           input tensors, by name
 * @param requestedOutputs output names to return; empty means all
 * @param tenant           who is billed ({@code "default"} until API keys map callers to tenants)
 * @param parameters       protocol request parameters, passed through
 */
public record InferenceRequest(
        String model,
        String version,
        String id,
        List<Tensor> inputs,
        List<String> requestedOutputs,
        String tenant,
        Map<String, Object> parameters) {

    public InferenceRequest {
        Objects.requireNonNull(model, "model");
        id = id == null ? "" : id;
        inputs = List.copyOf(inputs);
        requestedOutputs = List.copyOf(requestedOutputs);
        tenant = tenant == null || tenant.isBlank() ? "default" : tenant;
        parameters = parameters == null ? Map.of() : Map.copyOf(parameters);
    }
}
