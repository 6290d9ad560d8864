package io.tollgate.engine.onnx;

import io.tollgate.engine.onnx.internal.OnnxEngine;
import io.tollgate.engine.onnx.internal.OnnxSignatureReader;
import io.tollgate.engine.spi.EngineException;
import io.tollgate.engine.spi.ModelSignature;
import io.tollgate.engine.spi.ModelSignatureInspector;

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

    @Override
    public ModelSignature inspect(byte[] model, String origin) throws EngineException {
        return OnnxSignatureReader.read(model, origin);
    }
}
