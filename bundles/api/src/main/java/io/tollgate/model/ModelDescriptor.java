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
 * @param precision      precision an accelerator engine builds it in: {@code fp32} (default), {@code fp16} or
 *                       {@code int8} (since 1.3; the CPU engine ignores it)
 * @param engines        serialized engines shipped for firmware profiles (since 1.3; empty = build on the box)
 * @param pipeline       the plugin's pre/post-processing code and stage models, or {@code null} for a plain model
 *                       (since 1.4; issue 13)
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
        Map<String, String> parameters,
        String precision,
        List<PrebuiltEngine> engines,
        PipelineSpec pipeline) {

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
        precision = precision == null || precision.isBlank() ? "fp32" : precision;
        if (!PrebuiltEngine.PRECISIONS.contains(precision)) {
            throw new IllegalArgumentException("precision '" + precision + "' is not one of fp32, fp16, int8");
        }
        engines = engines == null ? List.of() : List.copyOf(engines);
    }

    /** A descriptor without a pipeline (the 1.3 shape). */
    public ModelDescriptor(String name, String version, String platform, String engine, String file,
                           List<TensorSpec> inputs, List<TensorSpec> outputs, int maxBatchSize, List<String> labels,
                           String meter, String licenseFeature, Map<String, String> parameters, String precision,
                           List<PrebuiltEngine> engines) {
        this(name, version, platform, engine, file, inputs, outputs, maxBatchSize, labels, meter, licenseFeature,
                parameters, precision, engines, null);
    }

    /** Whether the plugin carries pre/post-processing code and stage models (since 1.4). */
    public boolean isPipeline() {
        return pipeline != null;
    }

    /** A descriptor without precision or prebuilt engines: {@code fp32}, built on the box (the 1.2 shape). */
    public ModelDescriptor(String name, String version, String platform, String engine, String file,
                           List<TensorSpec> inputs, List<TensorSpec> outputs, int maxBatchSize, List<String> labels,
                           String meter, String licenseFeature, Map<String, String> parameters) {
        this(name, version, platform, engine, file, inputs, outputs, maxBatchSize, labels, meter, licenseFeature,
                parameters, "fp32", List.of());
    }

    /** The same descriptor naming another engine (e.g. {@code onnx} when the one it names is unavailable). */
    public ModelDescriptor withEngine(String newEngine) {
        return new ModelDescriptor(name, version, platform, newEngine, file, inputs, outputs, maxBatchSize, labels,
                meter, licenseFeature, parameters, precision, engines, pipeline);
    }

    /** The same descriptor with inputs and outputs replaced (e.g. filled from the model itself). */
    public ModelDescriptor withSignature(List<TensorSpec> newInputs, List<TensorSpec> newOutputs) {
        return new ModelDescriptor(name, version, platform, engine, file, newInputs, newOutputs, maxBatchSize,
                labels, meter, licenseFeature, parameters, precision, engines, pipeline);
    }
}
