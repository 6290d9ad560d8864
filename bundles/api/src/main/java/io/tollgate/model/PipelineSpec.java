package io.tollgate.model;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * The code and the stage models of a capability plugin (issue 13): a plugin that takes raw inputs (image, text, audio
 * bytes) and whose pre- and post-processing run inside the appliance. Descriptor field
 * {@code "pipeline": {"class": "io.acme.ocr.OcrPipeline", "stages": {"det": "models/det.onnx", "rec": "models/rec.onnx"}}}.
 * Only a vendor-signed plugin whose license has {@code allow_code} can carry the class (docs/plugins.md).
 *
 * @param className fully qualified name of the plugin's {@code io.tollgate.pipeline.Pipeline} implementation (public,
 *                  with a public no-argument constructor), loaded from the plugin bundle
 * @param stages    stage name to model file, relative to {@code TOLLGATE-INF/}, in declaration order; each is loaded
 *                  by the descriptor's {@code engine} (names: 1-64 characters {@code [A-Za-z0-9_.-]})
 * @since 1.4
 */
public record PipelineSpec(String className, Map<String, String> stages) {
    public PipelineSpec {
        Objects.requireNonNull(className, "className");
        if (className.isBlank()) {
            throw new IllegalArgumentException("pipeline.class is blank");
        }
        Objects.requireNonNull(stages, "stages");
        stages = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(stages));
        for (Map.Entry<String, String> e : stages.entrySet()) {
            if (!e.getKey().matches("[A-Za-z0-9_.-]{1,64}")) {
                throw new IllegalArgumentException("pipeline stage name '" + e.getKey()
                        + "' is not 1-64 characters of A-Z a-z 0-9 _ . -");
            }
            Objects.requireNonNull(e.getValue(), "pipeline.stages." + e.getKey());
        }
    }
}
