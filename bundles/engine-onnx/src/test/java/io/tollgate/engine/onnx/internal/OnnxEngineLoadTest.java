package io.tollgate.engine.onnx.internal;

import static org.junit.Assert.assertArrayEquals;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import io.tollgate.engine.spi.EngineException;
import io.tollgate.engine.spi.EngineException.Reason;
import io.tollgate.engine.spi.LoadedModel;
import io.tollgate.model.DataType;
import io.tollgate.model.Tensor;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.BeforeClass;
import org.junit.Test;

/** What load() accepts and how it refuses what it cannot run. */
public class OnnxEngineLoadTest {
    private static OnnxEngine engine;

    @BeforeClass
    public static void start() {
        engine = new OnnxEngine();
    }

    @Test
    public void engineIsNamedOnnxAndRunsOnTheCpu() {
        assertEquals("onnx", engine.name());
        assertEquals("cpu", engine.accelerator());
    }

    @Test
    public void corruptBytesAreCorruptModel() {
        byte[] garbage = "this is not an onnx model, just text".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
        EngineException e = loadFails(TestModels.artifact("garbage.onnx", garbage, Map.of()));
        assertEquals(Reason.CORRUPT_MODEL, e.reason());
        assertTrue(e.getMessage(), e.getMessage().startsWith(
                "model test model garbage.onnx could not be loaded by ONNX Runtime: "));
        assertTrue(e.getMessage(), e.getMessage().contains("protobuf parsing failed"));
    }

    @Test
    public void truncatedAndEmptyFilesAreCorruptModel() {
        byte[] add = TestModels.bytes("add.onnx");
        assertEquals(Reason.CORRUPT_MODEL,
                loadFails(TestModels.artifact("cut.onnx", Arrays.copyOf(add, add.length / 2), Map.of())).reason());
        assertEquals(Reason.CORRUPT_MODEL, loadFails(TestModels.artifact("empty.onnx", new byte[0], Map.of())).reason());
    }

    @Test
    public void unknownOperatorIsUnsupported() {
        EngineException e = loadFails(TestModels.artifact("unknown_op.onnx"));
        assertEquals(Reason.UNSUPPORTED, e.reason());
        assertTrue(e.getMessage(), e.getMessage().contains("Frobnicate"));
    }

    @Test
    public void unsignedWideInputIsUnsupported() {
        EngineException e = loadFails(TestModels.artifact("uint16_input.onnx"));
        assertEquals(Reason.UNSUPPORTED, e.reason());
        assertTrue(e.getMessage(), e.getMessage().contains("input 'x' is UINT16"));
        assertEquals("the refused session is closed, not leaked", 0, engine.openModels());
    }

    @Test
    public void sequenceOutputIsUnsupported() {
        EngineException e = loadFails(TestModels.artifact("sequence_output.onnx"));
        assertEquals(Reason.UNSUPPORTED, e.reason());
        assertTrue(e.getMessage(), e.getMessage().contains("output 'seq'") && e.getMessage().contains("not a tensor"));
    }

    @Test
    public void unsignedWideOutputsComeBackWithTheirTypes() throws EngineException {
        try (LoadedModel model = engine.load(TestModels.artifact("unsigned_outputs.onnx"))) {
            Tensor x = Tensor.ofInts("x", new long[] {3}, new int[] {0, 1, 65535});
            List<Tensor> out = model.run(List.of(x), Set.of());
            assertEquals(List.of(DataType.UINT16, DataType.UINT32, DataType.UINT64),
                    out.stream().map(Tensor::type).toList());
            ByteBuffer u16 = out.get(0).data();
            assertEquals(6, u16.remaining());
            assertEquals(65535, u16.getShort(4) & 0xFFFF);
            assertEquals(65535L, out.get(1).data().getInt(8) & 0xFFFFFFFFL);
            assertEquals(65535L, out.get(2).data().getLong(16));
        }
    }

    @Test
    public void unsignedWideInputTensorIsRefusedPrecisely() throws EngineException {
        // The model takes INT32; a UINT16 tensor sent anyway is refused before ORT sees it.
        try (LoadedModel model = engine.load(TestModels.artifact("unsigned_outputs.onnx"))) {
            ByteBuffer data = ByteBuffer.allocate(2).order(ByteOrder.LITTLE_ENDIAN).putShort(0, (short) 7);
            EngineException e = runFails(model, Tensor.of("x", DataType.UINT16, new long[] {1}, data));
            assertEquals(Reason.RUN_FAILED, e.reason());
            assertTrue(e.getMessage(), e.getMessage().contains("'x' is UINT16") && e.getMessage().contains("INT32"));
        }
        EngineException e = assertThrowsEngine(() -> OrtTensorConverter.toOnnx(OnnxSignatureReader.environment(),
                Tensor.of("x", DataType.UINT32, new long[] {1}, ByteBuffer.allocate(4)), "m"));
        assertEquals(Reason.UNSUPPORTED, e.reason());
        assertTrue(e.getMessage(), e.getMessage().contains("UINT32"));
    }

    @Test
    public void descriptorParametersAreAppliedPerModel() throws EngineException {
        Map<String, String> parameters = Map.of("intra_op_threads", "1", "inter_op_threads", "1",
                "optimization_level", "basic", "labels_hint", "ignored by the engine");
        try (LoadedModel model = engine.load(TestModels.artifact("add.onnx", parameters))) {
            Tensor a = Tensor.ofFloats("a", new long[] {1, 3}, new float[] {1, 2, 3});
            Tensor b = Tensor.ofFloats("b", new long[] {1, 3}, new float[] {3, 2, 1});
            assertArrayEquals(new float[] {4, 4, 4}, model.run(List.of(a, b), Set.of("sum")).get(0).toFloats(), 0f);
        }
    }

    @Test
    public void invalidDescriptorParametersAreNamed() {
        EngineException level = loadFails(TestModels.artifact("add.onnx", Map.of("optimization_level", "FAST")));
        assertEquals(Reason.UNSUPPORTED, level.reason());
        assertTrue(level.getMessage(), level.getMessage().contains("optimization_level='FAST'")
                && level.getMessage().contains("[ALL, EXTENDED, BASIC, NONE]"));

        EngineException threads = loadFails(TestModels.artifact("add.onnx", Map.of("intra_op_threads", "many")));
        assertTrue(threads.getMessage(), threads.getMessage().contains("intra_op_threads='many'"));

        EngineException negative = loadFails(TestModels.artifact("add.onnx", Map.of("inter_op_threads", "-2")));
        assertTrue(negative.getMessage(), negative.getMessage().contains("inter_op_threads=-2"));
    }

    private interface EngineCall {
        Object call() throws Exception;
    }

    private static EngineException assertThrowsEngine(EngineCall call) {
        try {
            call.call();
        } catch (EngineException e) {
            return e;
        } catch (Exception e) {
            throw new AssertionError("expected an EngineException, got " + e, e);
        }
        throw new AssertionError("expected an EngineException");
    }

    private static EngineException runFails(LoadedModel model, Tensor input) {
        return assertThrowsEngine(() -> model.run(List.of(input), Set.of()));
    }

    private static EngineException loadFails(io.tollgate.engine.spi.ModelArtifact artifact) {
        return assertThrowsEngine(() -> engine.load(artifact));
    }
}
