package io.tollgate.engine.onnx.internal;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

import io.tollgate.engine.spi.EngineException.Reason;
import io.tollgate.engine.spi.EngineException;
import io.tollgate.engine.spi.ModelSignature;
import io.tollgate.model.DataType;
import io.tollgate.model.TensorSpec;
import java.util.List;
import java.util.Map;
import org.junit.Test;

/** The reader behind the exported OnnxModelInspector (tollgate plugin pack) and the engine's loads. */
public class OnnxSignatureReaderTest {

    @Test
    public void readsInputsOutputsAndCustomMetadata() throws EngineException {
        ModelSignature s = OnnxSignatureReader.read(TestModels.bytes("add.onnx"));
        assertEquals(List.of(new TensorSpec("a", DataType.FP32, new long[] {-1, 3}),
                new TensorSpec("b", DataType.FP32, new long[] {-1, 3})), s.inputs());
        assertEquals(List.of(new TensorSpec("sum", DataType.FP32, new long[] {-1, 3}),
                new TensorSpec("diff", DataType.FP32, new long[] {-1, 3})), s.outputs());
        assertEquals(Map.of("labels", "x,y,z", "author", "tollgate tests"), s.metadata());
    }

    @Test
    public void readsTypesTheEngineCannotFeedButCanDescribe() throws EngineException {
        ModelSignature s = OnnxSignatureReader.read(TestModels.bytes("uint16_input.onnx"), "uint16_input.onnx");
        assertEquals(List.of(new TensorSpec("x", DataType.UINT16, new long[] {-1})), s.inputs());
        assertTrue(s.metadata().isEmpty());
    }

    @Test
    public void corruptBytesAreCorruptModel() {
        try {
            OnnxSignatureReader.read(new byte[] {8, 1, 18, 3, 'b', 'a', 'd', 0x7f}, "bad.onnx");
            fail();
        } catch (EngineException e) {
            assertEquals(Reason.CORRUPT_MODEL, e.reason());
            assertTrue(e.getMessage(), e.getMessage().startsWith("model bad.onnx could not be loaded by ONNX Runtime: "));
        }
    }
}
