package io.tollgate.model;

import static org.junit.Assert.assertArrayEquals;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;
import org.junit.Test;

public class TensorTest {
    @Test
    public void floatsRoundTripLittleEndian() {
        Tensor t = Tensor.ofFloats("x", new long[] {2, 2}, new float[] {1f, -2.5f, Float.NaN, 0f});
        assertEquals(DataType.FP32, t.type());
        assertEquals(2, t.batchSize());
        assertEquals(4, t.elementCount());
        assertArrayEquals(new float[] {1f, -2.5f, Float.NaN, 0f}, t.toFloats(), 0f);
        ByteBuffer raw = t.data();
        assertEquals(ByteOrder.LITTLE_ENDIAN, raw.order());
        assertEquals(0x3f800000, Integer.reverseBytes(raw.duplicate().order(ByteOrder.BIG_ENDIAN).getInt(0)));
    }

    @Test
    public void dataIsReadOnlyAndShapeIsCopied() {
        long[] shape = {1, 3};
        Tensor t = Tensor.ofInts("i", shape, new int[] {1, 2, 3});
        shape[1] = 99;
        assertArrayEquals(new long[] {1, 3}, t.shape());
        assertTrue(t.data().isReadOnly());
        t.shape()[0] = 42;
        assertArrayEquals(new long[] {1, 3}, t.shape());
    }

    @Test
    public void byteCountMustMatchShapeAndType() {
        try {
            Tensor.of("x", DataType.FP16, new long[] {3}, ByteBuffer.allocate(5));
            fail();
        } catch (IllegalArgumentException e) {
            assertEquals("tensor 'x' of type FP16 and shape [3] needs 6 bytes but has 5", e.getMessage());
        }
    }

    @Test
    public void bytesTensorsHoldOneStringPerElement() {
        Tensor t = Tensor.ofBytes("s", new long[] {2}, List.of("a".getBytes(), new byte[] {0, (byte) 0xff}));
        assertEquals(DataType.BYTES, t.type());
        assertArrayEquals(new byte[] {0, (byte) 0xff}, t.strings().get(1));
        try {
            Tensor.ofBytes("s", new long[] {3}, List.of(new byte[0]));
            fail();
        } catch (IllegalArgumentException e) {
            assertTrue(e.getMessage(), e.getMessage().contains("needs 3 elements but has 1"));
        }
        try {
            t.data();
            fail();
        } catch (IllegalStateException expected) {
            assertTrue(expected.getMessage().contains("BYTES"));
        }
    }

    @Test
    public void shapesMatchSpecsWithDynamicDimensions() {
        assertTrue(Shapes.matches(new long[] {-1, 1, 28, 28}, new long[] {7, 1, 28, 28}));
        assertFalse(Shapes.matches(new long[] {-1, 1, 28, 28}, new long[] {7, 3, 28, 28}));
        assertFalse(Shapes.matches(new long[] {-1, 10}, new long[] {10}));
        assertEquals(0, Shapes.elementCount(new long[] {4, 0}));
        assertEquals(1, Shapes.elementCount(new long[] {}));
        try {
            Shapes.elementCount(new long[] {-1, 2});
            fail();
        } catch (IllegalArgumentException e) {
            assertTrue(e.getMessage().contains("negative"));
        }
        try {
            Shapes.elementCount(new long[] {Long.MAX_VALUE, 2});
            fail();
        } catch (ArithmeticException expected) {
            // overflow is refused, never wrapped
        }
    }

    @Test
    public void dataTypesParseByProtocolNameAndSayWhatIsAccepted() {
        assertEquals(DataType.BF16, DataType.parse("bf16"));
        assertEquals(8, DataType.UINT64.byteSize());
        assertFalse(DataType.BYTES.isFixedSize());
        try {
            DataType.parse("FP33");
            fail();
        } catch (IllegalArgumentException e) {
            assertTrue(e.getMessage(), e.getMessage().contains("'FP33'") && e.getMessage().contains("FP32"));
        }
    }
}
