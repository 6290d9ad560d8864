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

    /**
     * A placement service that, like bundles/accelerators' table on a CPU-only box, takes the first engine of the
     * request that is available and says why it passed over the others; records the requests it got.
     */
    private static final class FirstAvailable implements io.tollgate.accelerator.PlacementService {
        final List<io.tollgate.accelerator.PlacementRequest> requests =
                new java.util.concurrent.CopyOnWriteArrayList<>();

        @Override
        public io.tollgate.accelerator.Placement place(io.tollgate.accelerator.PlacementRequest r,
                                                       io.tollgate.accelerator.EvictionListener listener)
                throws io.tollgate.accelerator.PlacementException {
            requests.add(r);
            List<String> notes = new java.util.ArrayList<>();
            for (var e : r.engines().entrySet()) {
                if (e.getValue().available()) {
                    return new io.tollgate.accelerator.Placement(r.model(), r.version(), "cpu",
                            io.tollgate.accelerator.AcceleratorKind.CPU, e.getKey(), r.precisions().get(0),
                            r.estimatedBytes(), notes.isEmpty() ? "" : "on cpu with " + e.getKey() + ": "
                            + String.join("; ", notes));
                }
                notes.add(e.getKey() + " unavailable: " + e.getValue().reason());
            }
            throw new io.tollgate.accelerator.PlacementException(
                    io.tollgate.accelerator.PlacementException.Reason.NO_ENGINE, String.join("; ", notes));
        }

        @Override
        public void release(String model, String version) {
        }

        @Override
        public void touch(String model, String version) {
        }

        @Override
        public Optional<io.tollgate.accelerator.Placement> placement(String model, String version) {
            return Optional.empty();
        }

        @Override
        public List<io.tollgate.accelerator.Placement> placements() {
            return List.of();
        }
    }

    private final FirstAvailable placement = new FirstAvailable();

    private ServingService start() {
        return start(false);
    }

    private ServingService start(boolean placed) {
        service = new ServingService(new ServingSettings(4, 16, 2_000, 10_000, 2_000, 50), journal);
        service.bindEntitlements(io.tollgate.serving.testing.InMemoryEntitlements.everything());
        if (placed) {
            service.placement(placement);
        }
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

    @Test
    public void placementIsOfferedBothEnginesWithTheirOwnAvailabilityAndItsChoiceIsLoaded() throws Exception {
        start(true).pluginStarted(plugin("onnx"));
        ModelStatus s = await(ModelState.READY);
        assertEquals(1, placement.requests.size());
        io.tollgate.accelerator.PlacementRequest r = placement.requests.get(0);
        assertEquals(List.of("tensorrt", "onnx"), List.copyOf(r.engines().keySet()));
        assertEquals("the engine's own report, not a guess from its name",
                "no CUDA driver (libcuda.so.1 not found)", r.engines().get("tensorrt").reason());
        assertTrue(r.engines().get("onnx").available());
        assertEquals("the descriptor's precision field", List.of("fp16"), r.precisions());
        assertEquals("onnx", s.descriptor().engine());
        assertEquals(0, tensorrt.loads.get());
        assertEquals(1, onnx.loads.get());
        assertEquals("the placement's accelerator reaches the engine", "cpu", onnx.lastArtifact.accelerator());
        assertEquals("fp16", onnx.lastArtifact.precision());
    }

    @Test
    public void aNonOnnxModelIsOfferedOnlyItsEngine() throws Exception {
        start(true).pluginStarted(plugin("tensorrt_plan"));
        await(ModelState.FAILED);
        assertEquals(List.of("tensorrt"), List.copyOf(placement.requests.get(0).engines().keySet()));
        assertEquals(0, onnx.loads.get());
        String error = service.plugins().get(0).error();
        assertTrue(error, error.contains("cannot be placed") && error.contains("libcuda.so.1"));
    }
}
