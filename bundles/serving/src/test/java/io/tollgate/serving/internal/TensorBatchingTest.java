package io.tollgate.serving.internal;

import static org.junit.Assert.assertArrayEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertTrue;

import io.tollgate.model.Tensor;
import java.util.List;
import org.junit.Test;

/** Merging requests' inputs into one batch tensor. */
public class TensorBatchingTest {
    @Test
    public void aMergedBatchIsOneDirectBufferTheEngineReadsInPlace() {
        Tensor a = Tensor.ofFloats("x", new long[] {1, 2}, new float[] {1, Float.intBitsToFloat(0x7fc00001)});
        Tensor b = Tensor.ofFloats("x", new long[] {2, 2}, new float[] {-0f, 3, 4, 5});
        Tensor merged = TensorBatching.concat(List.of(List.of(a), List.of(b))).get(0);
        assertTrue(merged.data().isDirect());
        assertArrayEquals(new long[] {3, 2}, merged.shape());
        int[] bits = new int[6];
        for (int i = 0; i < 6; i++) {
            bits[i] = merged.data().getInt(i * 4);
        }
        assertArrayEquals(new int[] {Float.floatToRawIntBits(1), 0x7fc00001, Float.floatToRawIntBits(-0f),
                Float.floatToRawIntBits(3), Float.floatToRawIntBits(4), Float.floatToRawIntBits(5)}, bits);
    }

    @Test
    public void requestsMergeOnlyWithTheSameNamesTypesAndDimensionsAfterTheFirst() {
        Tensor x1 = Tensor.ofFloats("x", new long[] {1, 2}, new float[] {1, 2});
        Tensor x3 = Tensor.ofFloats("x", new long[] {3, 2}, new float[6]);
        Tensor y = Tensor.ofFloats("y", new long[] {1, 2}, new float[2]);
        Tensor wider = Tensor.ofFloats("x", new long[] {1, 3}, new float[3]);
        Tensor deeper = Tensor.ofFloats("x", new long[] {1, 2, 1}, new float[2]);
        Tensor ints = Tensor.of("x", io.tollgate.model.DataType.INT32, new long[] {1, 2},
                java.nio.ByteBuffer.allocate(8).order(java.nio.ByteOrder.LITTLE_ENDIAN));
        Tensor scalar = Tensor.ofFloats("x", new long[] {}, new float[] {1});
        assertTrue(TensorBatching.mergeable(List.of(x1), List.of(x3)));      // the batch dimension may differ
        assertTrue(TensorBatching.mergeable(List.of(x1, y), List.of(x3, y)));
        assertFalse(TensorBatching.mergeable(List.of(x1), List.of(y)));
        assertFalse(TensorBatching.mergeable(List.of(x1), List.of(wider)));
        assertFalse(TensorBatching.mergeable(List.of(x1), List.of(deeper)));
        assertFalse(TensorBatching.mergeable(List.of(x1), List.of(ints)));
        assertFalse(TensorBatching.mergeable(List.of(x1), List.of(x1, y)));
        assertFalse(TensorBatching.mergeable(List.of(scalar), List.of(scalar)));   // no batch dimension: never
    }
}
