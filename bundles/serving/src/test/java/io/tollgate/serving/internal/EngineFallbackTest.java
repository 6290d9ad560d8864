package io.tollgate.serving.internal;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import io.tollgate.accelerator.EngineAvailability;
import io.tollgate.engine.spi.EngineException;
import io.tollgate.engine.spi.InferenceEngine;
import io.tollgate.engine.spi.LoadedModel;
import io.tollgate.engine.spi.ModelArtifact;
import io.tollgate.model.Tensor;
import io.tollgate.serving.InferenceRequest;
import io.tollgate.serving.InferenceResponse;
import io.tollgate.serving.ModelState;
import io.tollgate.serving.ModelStatus;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.After;
import org.junit.Test;

/** A plugin naming an engine that is unavailable here (TensorRT without a GPU) runs on the onnx engine (issue 12). */
public class EngineFallbackTest {
    private final FakeEngine onnx = new FakeEngine("onnx");
    private final FakeUsageJournal journal = new FakeUsageJournal();
    private ServingService service;

    /** The TensorRT engine of a box without an NVIDIA driver. */
    private static final class UnavailableEngine implements InferenceEngine {
        final AtomicInteger loads = new AtomicInteger();

        public String name() {
            return "tensorrt";
        }

        public String accelerator() {
            return "none";
        }

        public EngineAvailability availability() {
            return EngineAvailability.unavailable("no CUDA driver (libcuda.so.1 not found)");
        }

        public LoadedModel load(ModelArtifact artifact) throws EngineException {
            loads.incrementAndGet();
            throw new EngineException(EngineException.Reason.UNAVAILABLE, "unavailable");
        }
    }

    private final UnavailableEngine tensorrt = new UnavailableEngine();

    @After
    public void stop() {
        if (service != null) {
            service.deactivate();
        }
    }

    private static FakePluginSource plugin(String platform) {
        FakePluginSource p = FakePluginSource.plugin(1, "fm", "1.0.0", FakeEngine.model(5));
        p.put("TOLLGATE-INF/model.json", "{\"name\":\"fm\",\"version\":\"1.0.0\",\"platform\":\"" + platform
                + "\",\"engine\":\"tensorrt\",\"precision\":\"fp16\",\"file\":\"model.bin\",\"max_batch_size\":8}");
        return p;
    }

    private ServingService start() {
        service = new ServingService(new ServingSettings(4, 16, 2_000, 10_000, 2_000, 50), journal);
        service.bindEntitlements(io.tollgate.serving.testing.InMemoryEntitlements.everything());
        service.bindEngine(tensorrt);
        service.bindEngine(onnx);
        service.trackerOpened(java.util.Set.of());
        return service;
    }

    private ModelStatus await(ModelState state) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (System.nanoTime() < deadline) {
            Optional<ModelStatus> s = service.model("fm", "1.0.0");
            if (s.isPresent() && s.get().state() == state) {
                return s.get();
            }
            Thread.sleep(20);
        }
        throw new AssertionError("fm never reached " + state + ": " + service.model("fm", "1.0.0")
                + " plugins " + service.plugins());
    }

    @Test
    public void onnxModelForAnUnavailableEngineRunsOnTheOnnxEngine() throws Exception {
        start().pluginStarted(plugin("onnx"));
        ModelStatus s = await(ModelState.READY);
        assertEquals("onnx", s.descriptor().engine());
        assertEquals("fp16", s.descriptor().precision());
        assertEquals(0, tensorrt.loads.get());
        assertEquals(1, onnx.loads.get());
        InferenceRequest request = new InferenceRequest("fm", null, "r1",
                List.of(Tensor.ofFloats("image", new long[] {1, 4}, new float[] {1, 2, 3, 4})), List.of(), null, null);
        InferenceResponse r = service.infer(request).toCompletableFuture().get(10, TimeUnit.SECONDS);
        assertEquals(5f, r.outputs().get(0).toFloats()[0], 0f);
    }

    @Test
    public void aModelOnlyThatEngineRunsFailsWithItsReason() throws Exception {
        start().pluginStarted(plugin("tensorrt_plan"));
        await(ModelState.FAILED);
        assertEquals(1, tensorrt.loads.get());
        assertEquals(0, onnx.loads.get());
        String error = service.plugins().get(0).error();
        assertTrue(error, error.contains("engine 'tensorrt' cannot load the model (UNAVAILABLE)"));
    }
}
