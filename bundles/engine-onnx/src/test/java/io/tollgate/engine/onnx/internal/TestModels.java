package io.tollgate.engine.onnx.internal;

import io.tollgate.engine.spi.ModelArtifact;
import io.tollgate.model.ModelDescriptor;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.List;
import java.util.Map;

/** The models made by src/test/resources/models/make_models.py, as bytes and artifacts. */
final class TestModels {
    private TestModels() {
    }

    static byte[] bytes(String file) {
        try (InputStream in = TestModels.class.getResourceAsStream("/models/" + file)) {
            if (in == null) {
                throw new IllegalStateException("test model /models/" + file + " is missing; run make_models.py");
            }
            return in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static ModelArtifact artifact(String file) {
        return artifact(file, Map.of());
    }

    static ModelArtifact artifact(String file, Map<String, String> parameters) {
        return artifact(file, bytes(file), parameters);
    }

    static ModelArtifact artifact(String file, byte[] bytes, Map<String, String> parameters) {
        String name = file.replace(".onnx", "");
        ModelDescriptor descriptor = new ModelDescriptor(name, "1.0.0", "onnx", "onnx", file, List.of(), List.of(),
                0, List.of(), "inference", "", parameters);
        return new ModelArtifact(descriptor, bytes, "test model " + file);
    }
}
