package io.tollgate.model;

import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * What a model plugin declares about its model ({@code TOLLGATE-INF/model.json} in the plugin jar).
 *
 * @param name           model name as clients address it ({@code /v2/models/{name}})
 * @param version        model version (semantic, e.g. {@code 1.2.0})
 * @param platform       model format, e.g. {@code onnx}
 * @param engine         engine that runs it, e.g. {@code onnx}; must match a {@code tollgate.engine} capability
 * @param file           model file path inside the plugin, relative to {@code TOLLGATE-INF/}
 * @param inputs         declared inputs; empty means "take them from the model"
 * @param outputs        declared outputs; empty means "take them from the model"
 * @param maxBatchSize   largest first dimension accepted per request (0 = the model has no batch dimension)
 * @param labels         class labels for classification outputs (may be empty)
 * @param meter          meter this model bills (e.g. {@code inference})
 * @param licenseFeature license entitlement the model needs ("" = none)
 * @param parameters     free-form engine parameters (e.g. {@code intra_op_threads})
 */
public record ModelDescriptor(
        String name,
        String version,
        String platform,
        String engine,
        String file,
        List<TensorSpec> inputs,
        List<TensorSpec> outputs,
        int maxBatchSize,
        List<String> labels,
        String meter,
        String licenseFeature,
        Map<String, String> parameters) {

    public ModelDescriptor {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(version, "version");
        Objects.requireNonNull(platform, "platform");
        Objects.requireNonNull(engine, "engine");
        Objects.requireNonNull(file, "file");
        inputs = List.copyOf(inputs);
        outputs = List.copyOf(outputs);
        labels = List.copyOf(labels);
        meter = meter == null || meter.isBlank() ? "inference" : meter;
        licenseFeature = licenseFeature == null ? "" : licenseFeature;
        parameters = Map.copyOf(parameters);
    }

    /** The same descriptor with inputs and outputs replaced (e.g. filled from the model itself). */
    public ModelDescriptor withSignature(List<TensorSpec> newInputs, List<TensorSpec> newOutputs) {
        return new ModelDescriptor(name, version, platform, engine, file, newInputs, newOutputs, maxBatchSize,
                labels, meter, licenseFeature, parameters);
    }
}
