package io.tollgate.engine.onnx.internal;

import static org.junit.Assert.assertArrayEquals;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertTrue;

import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtProvider;
import io.tollgate.engine.spi.EngineException;
import io.tollgate.engine.spi.LoadedModel;
import io.tollgate.model.Tensor;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.Assume;
import org.junit.Test;

/**
 * Execution provider choice. There is no GPU (and no onnxruntime_gpu build) on the build machines, so these
 * tests prove the fallback to the CPU, not CUDA itself.
 */
public class ExecutionProviderTest {

    @Test
    public void planKeepsRequestedProvidersTheBuildOffers() {
        ExecutionProviderPlan gpu = ExecutionProviderPlan.choose(List.of("tensorrt", "cuda", "cpu"),
                Set.of(OrtProvider.CPU, OrtProvider.CUDA, OrtProvider.TENSOR_RT), 1);
        assertEquals(List.of(OrtProvider.TENSOR_RT, OrtProvider.CUDA), gpu.gpuProviders());
        assertEquals("cuda:1", gpu.accelerator());
        assertFalse(gpu.fallbackWarning(Set.of()).isPresent());

        ExecutionProviderPlan partial = ExecutionProviderPlan.choose(List.of("tensorrt", "cuda"),
                Set.of(OrtProvider.CPU, OrtProvider.CUDA), 0);
        assertEquals(List.of(OrtProvider.CUDA), partial.gpuProviders());
        assertEquals("cuda:0", partial.accelerator());
        assertTrue(partial.fallbackWarning(Set.of(OrtProvider.CPU, OrtProvider.CUDA)).orElseThrow()
                .contains("[tensorrt]"));

        ExecutionProviderPlan cpu = ExecutionProviderPlan.choose(List.of("cuda", "cpu"), Set.of(OrtProvider.CPU), 0);
        assertTrue(cpu.gpuProviders().isEmpty());
        assertEquals("cpu", cpu.accelerator());
        String warning = cpu.fallbackWarning(Set.of(OrtProvider.CPU)).orElseThrow();
        assertTrue(warning, warning.contains("[cuda]") && warning.contains("run on cpu")
                && warning.contains(OnnxEngine.PID));
    }

    @Test
    public void cudaRequestedFallsBackToCpuWhenOrtLacksIt() throws EngineException {
        Set<OrtProvider> available = OrtEnvironment.getAvailableProviders();
        Assume.assumeFalse("this ONNX Runtime offers CUDA (" + available + "): the fallback cannot be shown here",
                available.contains(OrtProvider.CUDA));

        OnnxEngine engine = new OnnxEngine(OnnxSettings.fromProperties(
                Map.of("execution_providers", "cuda,tensorrt,cpu")));
        assertEquals("cpu", engine.accelerator());
        try (LoadedModel model = engine.load(TestModels.artifact("add.onnx"))) {
            assertEquals("cpu", model.accelerator());
            assertArrayEquals(new float[] {2, 4, 6}, runAdd(model), 0f);
        }
    }

    @Test
    public void providerOrtRefusesToAttachFallsBackToCpuForThisAndLaterModels() throws EngineException {
        // Pretend the build offers CUDA: attaching it then fails (no CUDA provider library, no driver) and the
        // engine must still load the model, on the CPU, and stop trying CUDA for later models.
        OnnxEngine engine = new OnnxEngine(OnnxSettings.fromProperties(Map.of("execution_providers", "cuda")),
                Set.of(OrtProvider.CPU, OrtProvider.CUDA));
        Assume.assumeTrue("CUDA really is usable here", engine.accelerator().equals("cuda:0"));
        try (LoadedModel first = engine.load(TestModels.artifact("add.onnx"))) {
            Assume.assumeFalse("CUDA attached: a GPU is present", first.accelerator().startsWith("cuda"));
            assertEquals("cpu", first.accelerator());
            assertEquals("cpu", engine.accelerator());
            assertArrayEquals(new float[] {2, 4, 6}, runAdd(first), 0f);
        }
        try (LoadedModel second = engine.load(TestModels.artifact("add.onnx"))) {
            assertEquals("cpu", second.accelerator());
        }
    }

    @Test
    public void placementChoosesTheProvidersPerModel() {
        Set<OrtProvider> gpuBuild = Set.of(OrtProvider.CPU, OrtProvider.CUDA, OrtProvider.TENSOR_RT);
        ExecutionProviderPlan configured = ExecutionProviderPlan.choose(List.of("tensorrt", "cuda", "cpu"), gpuBuild, 0);
        // no placement: the configuration decides
        assertEquals(configured, configured.forPlacement("", gpuBuild).plan());
        // placed on the CPU: no GPU provider even though configured
        ExecutionProviderPlan.Placed onCpu = configured.forPlacement("cpu", gpuBuild);
        assertEquals("cpu", onCpu.plan().accelerator());
        assertFalse(onCpu.reason().isPresent());
        // placed on the second GPU: the configured providers on device 1
        ExecutionProviderPlan.Placed onGpu1 = configured.forPlacement("cuda:1", gpuBuild);
        assertEquals(List.of(OrtProvider.TENSOR_RT, OrtProvider.CUDA), onGpu1.plan().gpuProviders());
        assertEquals("cuda:1", onGpu1.plan().accelerator());
        // configured cpu only, placed on a GPU of a GPU build: CUDA
        ExecutionProviderPlan cpuOnly = ExecutionProviderPlan.choose(List.of("cpu"), gpuBuild, 0);
        assertEquals(List.of(OrtProvider.CUDA), cpuOnly.forPlacement("cuda:0", gpuBuild).plan().gpuProviders());
        // a CPU-only build (this machine's): the CPU, and why
        ExecutionProviderPlan cpuBuild = ExecutionProviderPlan.choose(List.of("cuda", "cpu"), Set.of(OrtProvider.CPU), 0);
        ExecutionProviderPlan.Placed fallback = cpuBuild.forPlacement("cuda:0", Set.of(OrtProvider.CPU));
        assertEquals("cpu", fallback.plan().accelerator());
        assertTrue(fallback.reason().orElseThrow(), fallback.reason().get().contains("placement put the model on"
                + " cuda:0 but this ONNX Runtime offers no GPU execution provider"));
        // a DLA core is TensorRT's
        assertTrue(configured.forPlacement("dla:0", gpuBuild).reason().orElseThrow().contains("engine tensorrt"));
    }

    @Test
    public void placementOnAGpuThisBuildLacksLoadsOnTheCpu() throws EngineException {
        Set<OrtProvider> available = OrtEnvironment.getAvailableProviders();
        Assume.assumeFalse("this ONNX Runtime offers CUDA", available.contains(OrtProvider.CUDA));
        OnnxEngine engine = new OnnxEngine(OnnxSettings.defaults());
        io.tollgate.engine.spi.ModelArtifact plain = TestModels.artifact("add.onnx");
        io.tollgate.engine.spi.ModelArtifact placed = new io.tollgate.engine.spi.ModelArtifact(plain.descriptor(),
                plain.modelBytes(), plain.origin(), "cuda:0", "", null);
        try (LoadedModel model = engine.load(placed)) {
            assertEquals("cpu", model.accelerator());
            assertArrayEquals(new float[] {2, 4, 6}, runAdd(model), 0f);
        }
    }

    private static float[] runAdd(LoadedModel model) throws EngineException {
        Tensor a = Tensor.ofFloats("a", new long[] {1, 3}, new float[] {1, 2, 3});
        return model.run(List.of(a, a.rename("b")), Set.of("sum")).get(0).toFloats();
    }
}
