package io.tollgate.engine.onnx.internal;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

import io.tollgate.engine.onnx.internal.OnnxSettings.OptimizationLevel;
import io.tollgate.engine.spi.EngineException;
import java.lang.annotation.Annotation;
import java.util.List;
import java.util.Map;
import org.junit.Test;

/** Configuration validation (what @Activate refuses) and per-model overrides. */
public class OnnxSettingsTest {

    @Test
    public void defaultsAreCpuWithOrtThreadDefaults() {
        OnnxSettings d = OnnxSettings.defaults();
        assertEquals(0, d.intraOpThreads());
        assertEquals(0, d.interOpThreads());
        assertEquals(OptimizationLevel.ALL, d.optimizationLevel());
        assertEquals(List.of("cpu"), d.executionProviders());
        assertTrue(d.memoryPattern() && d.cpuArena());
        assertEquals(d, OnnxSettings.fromConfig(config("ALL", "cpu", 0)));
    }

    @Test
    public void activationRefusesAnUnknownOptimizationLevel() {
        try {
            new OnnxEngine(config("FASTEST", "cpu", 0));
            fail("activation must fail on a bad optimization level");
        } catch (IllegalArgumentException e) {
            assertTrue(e.getMessage(), e.getMessage().contains("optimization.level='FASTEST'"));
            assertTrue(e.getMessage(), e.getMessage().contains("[ALL, EXTENDED, BASIC, NONE]"));
        }
    }

    @Test
    public void activationRefusesBadProvidersAndThreads() {
        assertRefused(config("ALL", "cuda,opencl", 0), "'opencl'", "[cuda, tensorrt, cpu]");
        assertRefused(config("ALL", "cpu,cuda", 0), "put 'cpu' last");
        assertRefused(config("ALL", " , ", 0), "names no execution provider");
        assertRefused(config("ALL", "cuda,cuda", 0), "'cuda' twice");
        assertRefused(config("ALL", "cpu", -1), "intra.op.threads=-1");
    }

    @Test
    public void levelsAndProvidersAreCaseInsensitive() {
        OnnxSettings s = OnnxSettings.fromConfig(config("extended", " CUDA , TensorRT,cpu ", 2));
        assertEquals(OptimizationLevel.EXTENDED, s.optimizationLevel());
        assertEquals(List.of("cuda", "tensorrt", "cpu"), s.executionProviders());
        assertEquals(2, s.intraOpThreads());
    }

    @Test
    public void propertiesAcceptDottedAndUnderscoredKeys() {
        OnnxSettings s = OnnxSettings.fromProperties(Map.of("intra_op_threads", "3", "inter.op.threads", 2,
                "optimization_level", "NONE", "execution.providers", "cuda", "cpu_arena", "false"));
        assertEquals(3, s.intraOpThreads());
        assertEquals(2, s.interOpThreads());
        assertEquals(OptimizationLevel.NONE, s.optimizationLevel());
        assertEquals(List.of("cuda"), s.executionProviders());
        assertFalse(s.cpuArena());
        assertTrue(s.memoryPattern());
        try {
            OnnxSettings.fromProperties(Map.of("memory_pattern", "yes"));
            fail();
        } catch (IllegalArgumentException e) {
            assertTrue(e.getMessage(), e.getMessage().contains("memory.pattern='yes'"));
        }
    }

    @Test
    public void descriptorParametersOverrideOnlyTheirKeys() throws EngineException {
        OnnxSettings base = OnnxSettings.fromProperties(Map.of("intra_op_threads", "4", "execution_providers", "cuda"));
        OnnxSettings model = base.withParameters(Map.of("intra_op_threads", "1", "optimization_level", "basic"), "m");
        assertEquals(1, model.intraOpThreads());
        assertEquals(OptimizationLevel.BASIC, model.optimizationLevel());
        assertEquals(base.interOpThreads(), model.interOpThreads());
        assertEquals(base.executionProviders(), model.executionProviders());
        assertEquals(base, base.withParameters(Map.of("unrelated", "x"), "m"));
    }

    @Test
    public void aMisspeltKeyStopsTheEngineWithTheRightSpelling() {
        try {
            new OnnxEngine(config("all", "cpu", 1), Map.of("intra_op_threads", "2", "tollgate.engine", "onnx",
                    "component.name", "io.tollgate.engine.onnx.internal.OnnxEngine"));
            fail("a misspelt key must stop the engine, not leave the default in place");
        } catch (IllegalArgumentException e) {
            assertTrue(e.getMessage(), e.getMessage().contains("configuration io.tollgate.engine.onnx has an unknown "
                    + "key 'intra_op_threads' (did you mean 'intra.op.threads'?)"));
        }
    }

    private static void assertRefused(OnnxEngineConfig config, String... fragments) {
        try {
            new OnnxEngine(config);
            fail("activation must fail for " + String.join(" ", fragments));
        } catch (IllegalArgumentException e) {
            for (String f : fragments) {
                assertTrue(e.getMessage(), e.getMessage().contains(f));
            }
        }
    }

    /** A configuration as DS would hand it to the @Activate constructor. */
    static OnnxEngineConfig config(String level, String providers, int intraThreads) {
        return new OnnxEngineConfig() {
            @Override
            public Class<? extends Annotation> annotationType() {
                return OnnxEngineConfig.class;
            }

            @Override
            public int intra_op_threads() {
                return intraThreads;
            }

            @Override
            public int inter_op_threads() {
                return 0;
            }

            @Override
            public String optimization_level() {
                return level;
            }

            @Override
            public String execution_providers() {
                return providers;
            }

            @Override
            public int cuda_device_id() {
                return 0;
            }

            @Override
            public boolean memory_pattern() {
                return true;
            }

            @Override
            public boolean cpu_arena() {
                return true;
            }
        };
    }
}
