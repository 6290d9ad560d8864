package io.tollgate.engine.spi;

import io.tollgate.model.ModelDescriptor;
import java.util.Objects;

/**
 * A model to load: its descriptor, the bytes of its model file and where they came from
 * (for messages, e.g. {@code plugin io.acme.ocr 1.2.0, TOLLGATE-INF/model.onnx}).
 */
public record ModelArtifact(ModelDescriptor descriptor, byte[] modelBytes, String origin) {
    public ModelArtifact {
        Objects.requireNonNull(descriptor, "descriptor");
        Objects.requireNonNull(modelBytes, "modelBytes");
        Objects.requireNonNull(origin, "origin");
    }
}
