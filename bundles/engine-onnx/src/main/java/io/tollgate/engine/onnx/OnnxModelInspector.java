package io.tollgate.engine.onnx;

import io.tollgate.engine.onnx.internal.OnnxEngine;
import io.tollgate.engine.onnx.internal.OnnxExternalData;
import io.tollgate.engine.onnx.internal.OnnxSignatureReader;
import io.tollgate.engine.spi.EngineException;
import io.tollgate.engine.spi.ModelSignature;
import io.tollgate.engine.spi.ModelSignatureInspector;
import java.util.List;
import java.util.Optional;

/**
 * Reads an ONNX model's inputs, outputs and custom metadata with ONNX Runtime, the same way the engine does when
 * it loads a plugin. Needs no OSGi framework: {@code tollgate plugin pack} calls it with this bundle and the ONNX
 * Runtime bundle on its class path. Thread-safe; each call opens and closes one small session.
 */
public final class OnnxModelInspector implements ModelSignatureInspector {
    /** The engine name plugin descriptors use for ONNX models. */
    public static final String ENGINE = OnnxEngine.NAME;

    @Override
    public String engine() {
        return ENGINE;
    }

    /**
     * Why the engine would refuse {@code model} before ONNX Runtime sees it — it keeps tensor data in other files,
     * which Tollgate never reads (docs/plugins.md) — or empty. Needs no ONNX Runtime ({@code plugin inspect}).
     *
     * @return e.g. "refers to tensor data outside the model file (tensor 'w' -> '../key.pem'); ...", to follow the
     *         model's name; "cannot be checked ..." when the bytes are no protobuf message this check can read
     * @since 1.1
     */
    public static Optional<String> refusal(byte[] model) {
        Optional<List<String>> references = OnnxExternalData.references(model);
        if (references.isEmpty()) {
            return Optional.of("cannot be checked for tensor data outside the model file (its protobuf is malformed"
                    + " or nested too deep)");
        }
        return references.get().isEmpty() ? Optional.empty() : Optional.of(OnnxExternalData.refusal(references.get()));
    }

    @Override
    public ModelSignature inspect(byte[] model, String origin) throws EngineException {
        return OnnxSignatureReader.read(model, origin);
    }
}
