package io.tollgate.engine.tensorrt.internal;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;

import io.tollgate.model.ModelDescriptor;
import io.tollgate.model.PrebuiltEngine;
import java.util.List;
import java.util.Map;
import org.junit.Test;

public class PrebuiltEnginesTest {
    private static final PrebuiltEngine NANO_FP16 = new PrebuiltEngine("jetson-orin-nano-jp6", "engines/nano-fp16.plan",
            "fp16", "10.3");
    private static final PrebuiltEngine AGX_ANY = new PrebuiltEngine("jetson-agx-orin-jp6", "engines/agx.plan", "fp16",
            "10.x");
    private static final ModelDescriptor D = new ModelDescriptor("m", "1.0.0", "onnx", "tensorrt", "model.onnx",
            List.of(), List.of(), 1, List.of(), "inference", "", Map.of(), "fp16", List.of(NANO_FP16, AGX_ANY));

    @Test
    public void picksTheEngineOfThisProfilePrecisionAndTensorRtRelease() {
        assertEquals(NANO_FP16, PrebuiltEngines.select(D, "jetson-orin-nano-jp6", "fp16", "10.3.0").orElseThrow());
        assertEquals(AGX_ANY, PrebuiltEngines.select(D, "jetson-agx-orin-jp6", "fp16", "10.7.1").orElseThrow());
    }

    @Test
    public void buildsOnTheBoxWhenNothingMatches() {
        assertFalse(PrebuiltEngines.select(D, "jetson-orin-nano-jp6", "fp16", "10.4.0").isPresent()); // other minor
        assertFalse(PrebuiltEngines.select(D, "jetson-orin-nano-jp6", "fp16", "11.3.0").isPresent()); // other major
        assertFalse(PrebuiltEngines.select(D, "jetson-orin-nano-jp6", "int8", "10.3.0").isPresent()); // precision
        assertFalse(PrebuiltEngines.select(D, "x86-nvidia", "fp16", "10.3.0").isPresent());           // profile
        assertFalse(PrebuiltEngines.select(D, "", "fp16", "10.3.0").isPresent());                     // none set
    }
}
