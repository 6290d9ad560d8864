package io.tollgate.engine.tensorrt.internal;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

import io.tollgate.engine.spi.EngineException;
import io.tollgate.engine.spi.ModelArtifact;
import java.lang.annotation.Annotation;
import java.util.List;
import java.util.Map;
import org.junit.Test;

public class TensorRtEngineTest {

    static TensorRtEngineConfig config(String cacheDirectory, int device, int workspaceMb) {
        return new TensorRtEngineConfig() {
            public Class<? extends Annotation> annotationType() { return TensorRtEngineConfig.class; }
            public String cache_directory() { return cacheDirectory; }
            public int cuda_device_id() { return device; }
            public int workspace_mb() { return workspaceMb; }
            public String profile() { return ""; }
        };
    }

    @Test
    public void unavailableEngineSaysWhyAndRefusesLoadsWithThatReason() {
        TensorRtEngine engine = new TensorRtEngine(config("data/engines", 0, 512),
                d -> TensorRtNatives.Probe.unavailable("no CUDA driver (libcuda.so.1 not found)"));
        assertEquals("tensorrt", engine.name());
        assertFalse(engine.availability().available());
        assertEquals("none", engine.accelerator());
        ModelArtifact artifact = new ModelArtifact(OptimizationProfilesTest.descriptor(1, List.of()), new byte[] {1},
                "plugin p 1.0.0, TOLLGATE-INF/model.onnx");
        try {
            engine.load(artifact);
            fail("an unavailable engine loaded a model");
        } catch (EngineException e) {
            assertEquals(EngineException.Reason.UNAVAILABLE, e.reason());
            assertEquals("TensorRT engine unavailable: no CUDA driver (libcuda.so.1 not found)", e.getMessage());
        }
    }

    @Test
    public void realProbeOnThisMachineNeverThrows() {
        TensorRtEngine engine = new TensorRtEngine(config("data/engines", 0, 512), Map.of());
        assertTrue(engine.availability().available() || !engine.availability().reason().isBlank());
    }

    @Test
    public void badConfigurationIsRefusedNamingTheKey() {
        try {
            new TensorRtEngine(config("x", -1, 512), d -> TensorRtNatives.Probe.unavailable("n/a"));
            fail();
        } catch (IllegalArgumentException e) {
            assertTrue(e.getMessage(), e.getMessage().startsWith("cuda.device.id=-1"));
        }
        try {
            new TensorRtEngine(config("x", 0, 0), d -> TensorRtNatives.Probe.unavailable("n/a"));
            fail();
        } catch (IllegalArgumentException e) {
            assertTrue(e.getMessage(), e.getMessage().startsWith("workspace.mb=0"));
        }
    }

    @Test
    public void dlaPlacementNamesTheCore() throws EngineException {
        assertEquals(-1, TensorRtEngine.dlaCore("cuda:0", "m"));
        assertEquals(-1, TensorRtEngine.dlaCore("", "m"));
        assertEquals(1, TensorRtEngine.dlaCore("dla:1", "m"));
    }
}
