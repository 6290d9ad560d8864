package io.tollgate.engine.onnx.internal;

import static org.junit.Assert.assertArrayEquals;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import io.tollgate.model.DataType;
import io.tollgate.model.Tensor;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import org.junit.Test;

/** How tensor data reaches ONNX Runtime: a direct buffer in place, a heap buffer copied once. */
public class OrtTensorConverterTest {
    private static float[] values(OnnxTensor t) {
        FloatBuffer b = t.getFloatBuffer();
        float[] out = new float[b.remaining()];
        b.get(out);
        return out;
    }

    @Test
    public void aDirectBufferIsReadInPlaceAndAHeapBufferIsCopied() throws Exception {
        OrtEnvironment env = OrtEnvironment.getEnvironment();
        ByteBuffer direct = ByteBuffer.allocateDirect(12).order(ByteOrder.LITTLE_ENDIAN);
        direct.putFloat(1).putFloat(2).putFloat(3).flip();
        // Tensor.of keeps a read-only view, as the endpoint's JSON decoder hands it over
        try (OnnxTensor t = OrtTensorConverter.toOnnx(env, Tensor.of("x", DataType.FP32, new long[] {3}, direct), "m")) {
            assertArrayEquals(new float[] {1, 2, 3}, values(t), 0f);
            direct.putFloat(4, 20f);   // the session would read the caller's memory: no copy was made
            assertArrayEquals(new float[] {1, 20, 3}, values(t), 0f);
        }
        ByteBuffer heap = ByteBuffer.allocate(12).order(ByteOrder.LITTLE_ENDIAN);
        heap.putFloat(1).putFloat(2).putFloat(3).flip();
        try (OnnxTensor t = OrtTensorConverter.toOnnx(env, Tensor.of("x", DataType.FP32, new long[] {3}, heap), "m")) {
            heap.putFloat(4, 20f);
            assertArrayEquals(new float[] {1, 2, 3}, values(t), 0f);
        }
    }
}
