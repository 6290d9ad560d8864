package io.tollgate.engine.spi;

import io.tollgate.model.TensorSpec;
import java.util.List;
import java.util.Map;

/**
 * What a model file declares about itself.
 *
 * @param inputs   inputs in model order; dynamic (symbolic or unknown) dimensions are -1
 * @param outputs  outputs in model order
 * @param metadata the model's custom metadata (for ONNX, {@code metadata_props}), e.g. {@code labels}
 * @since 1.1
 */
public record ModelSignature(List<TensorSpec> inputs, List<TensorSpec> outputs, Map<String, String> metadata) {
    public ModelSignature {
        inputs = List.copyOf(inputs);
        outputs = List.copyOf(outputs);
        metadata = Map.copyOf(metadata);
    }
}
