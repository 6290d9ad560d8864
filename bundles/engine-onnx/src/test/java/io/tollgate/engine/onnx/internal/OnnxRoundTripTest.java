package io.tollgate.engine.onnx.internal;

import static org.junit.Assert.assertArrayEquals;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

import io.tollgate.engine.spi.EngineException;
import io.tollgate.engine.spi.LoadedModel;
import io.tollgate.model.DataType;
import io.tollgate.model.Shapes;
import io.tollgate.model.Tensor;
import io.tollgate.model.TensorSpec;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import org.junit.AfterClass;
import org.junit.BeforeClass;
import org.junit.Test;

/** Every datatype ORT's Java API can feed goes through real ONNX Runtime Identity nodes and back bit for bit. */
public class OnnxRoundTripTest {
    /** The types echo.onnx carries (one in_X -> out_X Identity each). */
    private static final List<DataType> ECHO_TYPES = List.of(DataType.FP32, DataType.FP64, DataType.INT8,
            DataType.UINT8, DataType.INT16, DataType.INT32, DataType.INT64, DataType.BOOL, DataType.FP16,
            DataType.BF16, DataType.BYTES);

    private static OnnxEngine engine;
    private static LoadedModel echo;
    private static LoadedModel lookup;

    @BeforeClass
    public static void load() throws EngineException {
        engine = new OnnxEngine();
        echo = engine.load(TestModels.artifact("echo.onnx"));
        lookup = engine.load(TestModels.artifact("string_lookup.onnx"));
    }

    @AfterClass
    public static void close() {
        echo.close();
        lookup.close();
    }

    @Test
    public void echoSignatureHasEveryTypeWithDynamicDims() {
        assertEquals(ECHO_TYPES.size(), echo.inputs().size());
        for (int i = 0; i < ECHO_TYPES.size(); i++) {
            DataType type = ECHO_TYPES.get(i);
            // batch is symbolic ("batch"), the second dim unnamed: both map to -1
            assertEquals(new TensorSpec("in_" + type, type, new long[] {-1, -1}), echo.inputs().get(i));
            assertEquals(new TensorSpec("out_" + type, type, new long[] {-1, -1}), echo.outputs().get(i));
        }
        assertEquals("cpu", echo.accelerator());
    }

    @Test
    public void everyTypeRoundTripsBitExactly() throws EngineException {
        long[] shape = {3, 5};
        Random random = new Random(20261123);
        List<Tensor> inputs = new ArrayList<>();
        for (DataType type : ECHO_TYPES) {
            inputs.add(sample(type, shape, random));
        }
        List<Tensor> outputs = echo.run(inputs, Set.of());

        assertEquals(ECHO_TYPES.size(), outputs.size());
        for (int i = 0; i < ECHO_TYPES.size(); i++) {
            Tensor in = inputs.get(i);
            Tensor out = outputs.get(i);
            assertEquals("out_" + in.type(), out.name());
            assertEquals(in.type(), out.type());
            assertArrayEquals(in.shape(), out.shape());
            if (in.type() == DataType.BYTES) {
                assertEquals(in.strings().size(), out.strings().size());
                for (int e = 0; e < in.strings().size(); e++) {
                    assertArrayEquals("BYTES element " + e, in.strings().get(e), out.strings().get(e));
                }
            } else {
                assertEquals(in.type() + " bytes differ", in.data(), out.data());
            }
        }
    }

    @Test
    public void emptyBatchRoundTrips() throws EngineException {
        long[] shape = {0, 4};
        List<Tensor> inputs = new ArrayList<>();
        for (DataType type : ECHO_TYPES) {
            inputs.add(sample(type, shape, new Random(1)));
        }
        for (Tensor out : echo.run(inputs, Set.of())) {
            assertArrayEquals(out.name(), shape, out.shape());
            assertEquals(0, out.elementCount());
        }
    }

    @Test
    public void stringsReachTheModelAsTheirUtf8Bytes() throws EngineException {
        // CategoryMapper compares the bytes ORT holds with the UTF-8 words stored in the model file.
        Tensor text = bytes("text", "\u4e2d\u6587", "plain", "h\u00e9llo", "\u20acuro", "nope");
        Tensor index = Tensor.ofLongs("index", new long[] {5}, new long[] {3, 2, 1, 0, 9});
        List<Tensor> out = lookup.run(List.of(text, index), Set.of());

        assertEquals("index_of_text", out.get(0).name());
        long[] ids = new long[5];
        out.get(0).data().asLongBuffer().get(ids);
        assertArrayEquals(new long[] {2, 0, 1, 3, -1}, ids);

        assertEquals("text_of_index", out.get(1).name());
        assertEquals(DataType.BYTES, out.get(1).type());
        List<String> expected = List.of("\u20acuro", "\u4e2d\u6587", "h\u00e9llo", "plain", "?");
        for (int i = 0; i < expected.size(); i++) {
            assertArrayEquals(expected.get(i).getBytes(StandardCharsets.UTF_8), out.get(1).strings().get(i));
        }
    }

    @Test
    public void stringsOrtWouldAlterAreRefused() {
        assertRefused(new byte[] {'o', 'k'}, "\uD83D\uDE00".getBytes(StandardCharsets.UTF_8), "beyond U+FFFF");
        assertRefused(new byte[] {'o', 'k'}, new byte[] {'a', 0, 'b'}, "NUL");
        assertRefused(new byte[] {'o', 'k'}, new byte[] {(byte) 0xC3, 0x28}, "not valid UTF-8");
    }

    private static void assertRefused(byte[] good, byte[] bad, String why) {
        Tensor text = Tensor.ofBytes("text", new long[] {2}, List.of(good, bad));
        Tensor index = Tensor.ofLongs("index", new long[] {1}, new long[] {0});
        try {
            lookup.run(List.of(text, index), Set.of());
            fail("expected the element to be refused: " + why);
        } catch (EngineException e) {
            assertEquals(EngineException.Reason.INVALID_INPUT, e.reason());
            assertTrue(e.getMessage(), e.getMessage().contains("input 'text'"));
            assertTrue(e.getMessage(), e.getMessage().contains("element 1"));
            assertTrue(e.getMessage(), e.getMessage().contains(why));
        }
    }

    private static Tensor bytes(String name, String... values) {
        List<byte[]> elements = new ArrayList<>();
        for (String v : values) {
            elements.add(v.getBytes(StandardCharsets.UTF_8));
        }
        return Tensor.ofBytes(name, new long[] {values.length}, elements);
    }

    /** Random data for in_TYPE; floating types start with NaN payloads, -0, subnormals and infinities. */
    private static Tensor sample(DataType type, long[] shape, Random random) {
        int count = (int) Shapes.elementCount(shape);
        String name = "in_" + type;
        if (type == DataType.BYTES) {
            String[] words = {"", "plain", "h\u00e9llo", "\u4e2d\u6587", "\u20ac", "tab\tand\nnewline", "\uFFFD\uFFFC"};
            List<byte[]> elements = new ArrayList<>();
            for (int i = 0; i < count; i++) {
                String w = words[i % words.length] + (i >= words.length ? Integer.toString(random.nextInt(1000)) : "");
                elements.add(w.getBytes(StandardCharsets.UTF_8));
            }
            return Tensor.ofBytes(name, shape, elements);
        }
        ByteBuffer data = ByteBuffer.allocate(count * type.byteSize()).order(ByteOrder.LITTLE_ENDIAN);
        random.nextBytes(data.array());
        if (type == DataType.BOOL) {
            for (int i = 0; i < count; i++) {
                data.put(i, (byte) (random.nextBoolean() ? 1 : 0));
            }
        }
        Map<DataType, long[]> specials = new HashMap<>();
        specials.put(DataType.FP32, new long[] {0x7FC00001L, 0xFF800000L, 0x80000000L, 0x00000001L, 0x7F800000L,
                0x7F800001L});
        specials.put(DataType.FP64, new long[] {0x7FF8000000000001L, 0x8000000000000000L, 0x0000000000000001L});
        specials.put(DataType.FP16, new long[] {0x7E01, 0x8000, 0x0001, 0x7C00, 0xFC00, 0x7C01});
        specials.put(DataType.BF16, new long[] {0x7FC1, 0x8000, 0x0001, 0x7F80, 0xFF80, 0x7F81});
        long[] s = specials.get(type);
        if (s != null && count >= s.length) {
            for (int i = 0; i < s.length; i++) {
                switch (type.byteSize()) {
                    case 2 -> data.putShort(i * 2, (short) s[i]);
                    case 4 -> data.putInt(i * 4, (int) s[i]);
                    default -> data.putLong(i * 8, s[i]);
                }
            }
        }
        return Tensor.of(name, type, shape, data);
    }
}
