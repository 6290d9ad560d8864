package io.tollgate.engine.tensorrt.internal;

import static org.junit.Assert.assertArrayEquals;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

import io.tollgate.engine.spi.EngineException;
import io.tollgate.model.DataType;
import io.tollgate.model.ModelDescriptor;
import io.tollgate.model.TensorSpec;
import java.util.List;
import java.util.Map;
import org.junit.Test;

public class OptimizationProfilesTest {

    static ModelDescriptor descriptor(int maxBatch, List<TensorSpec> inputs) {
        return new ModelDescriptor("m", "1.0.0", "onnx", "tensorrt", "model.onnx", inputs, List.of(), maxBatch,
                List.of(), "inference", "", Map.of());
    }

    private static TensorSpec spec(String name, long... shape) {
        return new TensorSpec(name, DataType.FP32, shape);
    }

    @Test
    public void dynamicBatchRunsFromOneToMaxBatchSize() throws EngineException {
        List<OptimizationProfiles.InputRange> ranges = OptimizationProfiles.of(descriptor(256, List.of()),
                List.of(spec("image", -1, 1, 28, 28)), "m");
        assertEquals(1, ranges.size());
        OptimizationProfiles.InputRange r = ranges.get(0);
        assertArrayEquals(new long[] {1, 1, 28, 28}, r.min());
        assertArrayEquals(new long[] {256, 1, 28, 28}, r.opt());
        assertArrayEquals(new long[] {256, 1, 28, 28}, r.max());
        assertTrue(r.dynamic());
    }

    @Test
    public void declaredShapeFixesOtherDynamicDimensions() throws EngineException {
        // a detector exported with dynamic height and width; the plugin declares 640x640
        ModelDescriptor d = descriptor(8, List.of(spec("x", -1, 3, 640, 640)));
        OptimizationProfiles.InputRange r = OptimizationProfiles.of(d, List.of(spec("x", -1, 3, -1, -1)), "det").get(0);
        assertArrayEquals(new long[] {1, 3, 640, 640}, r.min());
        assertArrayEquals(new long[] {8, 3, 640, 640}, r.max());
    }

    @Test
    public void staticInputsNeedNoProfile() throws EngineException {
        OptimizationProfiles.InputRange r = OptimizationProfiles.of(descriptor(0, List.of()),
                List.of(spec("a", 1, 3)), "add").get(0);
        assertFalse(r.dynamic());
        assertArrayEquals(new long[] {1, 3}, r.max());
    }

    @Test
    public void unboundedDimensionIsRefusedNamingInputAndDimension() {
        try {
            OptimizationProfiles.of(descriptor(4, List.of()), List.of(spec("tokens", -1, -1)), "minilm");
            fail("an unbounded sequence length was accepted");
        } catch (EngineException e) {
            assertEquals(EngineException.Reason.UNSUPPORTED, e.reason());
            assertTrue(e.getMessage(), e.getMessage().contains("'tokens'") && e.getMessage().contains("dimension 1"));
        }
        try {
            OptimizationProfiles.of(descriptor(0, List.of()), List.of(spec("image", -1, 10)), "m");
            fail("a dynamic batch without max_batch_size was accepted");
        } catch (EngineException e) {
            assertTrue(e.getMessage(), e.getMessage().contains("max_batch_size is 0"));
        }
    }
}
