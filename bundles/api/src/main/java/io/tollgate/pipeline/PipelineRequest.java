package io.tollgate.pipeline;

import io.tollgate.model.Tensor;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * One request to a pipeline, as serving validated it against the descriptor's inputs.
 *
 * @param id               the request id (the one its usage record carries)
 * @param tenant           who is billed (from the caller's API key); state a pipeline keeps between requests (a
 *                         stream) must be keyed by tenant too, so one tenant cannot read or disturb another's
 * @param inputs           the input tensors, by the descriptor's input names
 * @param requestedOutputs output names the client asked for; empty means all
 * @param parameters       the request's protocol parameters ({@code "parameters": {...}}), e.g. {@code stream_id}
 */
public record PipelineRequest(String id, String tenant, List<Tensor> inputs, List<String> requestedOutputs,
                              Map<String, Object> parameters) {
    public PipelineRequest {
        Objects.requireNonNull(id, "id");
        Objects.requireNonNull(tenant, "tenant");
        inputs = List.copyOf(inputs);
        requestedOutputs = List.copyOf(requestedOutputs);
        parameters = parameters == null ? Map.of() : Map.copyOf(parameters);
    }

    /** The input named {@code name}, if the request has it. */
    public Optional<Tensor> input(String name) {
        return inputs.stream().filter(t -> t.name().equals(name)).findFirst();
    }

    /** Whether the client asked for {@code output} (true when it asked for none in particular). */
    public boolean wants(String output) {
        return requestedOutputs.isEmpty() || requestedOutputs.contains(output);
    }
}
