package io.tollgate.engine.onnx.internal;

import static org.junit.Assert.assertEquals;

import io.tollgate.engine.onnx.OnnxModelInspector;
import io.tollgate.engine.spi.ModelSignature;
import io.tollgate.engine.spi.ModelSignatureInspector;
import org.junit.Test;

/** The exported entry point answers exactly what the engine's own reader does. */
public class OnnxModelInspectorTest {
    private final ModelSignatureInspector inspector = new OnnxModelInspector();

    @Test
    public void namesTheEngineAndReadsTheSignature() throws Exception {
        assertEquals(OnnxEngine.NAME, inspector.engine());
        byte[] model = TestModels.bytes("add.onnx");
        ModelSignature s = inspector.inspect(model, "add.onnx");
        assertEquals(OnnxSignatureReader.read(model, "add.onnx"), s);
    }
}
