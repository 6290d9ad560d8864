package io.tollgate.serving.internal;

import static org.junit.Assert.assertArrayEquals;
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
}
