package io.tollgate.engine.onnx.internal;

import static org.junit.Assert.assertArrayEquals;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

import io.tollgate.engine.spi.EngineException;
import io.tollgate.engine.spi.EngineException.Reason;
import io.tollgate.engine.spi.LoadedModel;
import io.tollgate.model.DataType;
import io.tollgate.model.Tensor;
import io.tollgate.model.TensorSpec;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.After;
import org.junit.Before;
import org.junit.Test;

/** add.onnx (sum = a + b, diff = a - b over FP32 [batch, 3]) on real ONNX Runtime. */
public class OnnxLoadedModelTest {
    private OnnxEngine engine;
    private LoadedModel model;

    @Before
    public void load() throws EngineException {
        engine = new OnnxEngine();
        model = engine.load(TestModels.artifact("add.onnx"));
    }

    @After
    public void close() {
        model.close();
    }

    @Test
    public void signatureComesFromTheModel() {
        assertEquals(List.of(new TensorSpec("a", DataType.FP32, new long[] {-1, 3}),
                new TensorSpec("b", DataType.FP32, new long[] {-1, 3})), model.inputs());
        assertEquals(List.of(new TensorSpec("sum", DataType.FP32, new long[] {-1, 3}),
                new TensorSpec("diff", DataType.FP32, new long[] {-1, 3})), model.outputs());
    }

    @Test
    public void allOutputsInModelOrderWhenNoneRequested() throws EngineException {
        List<Tensor> out = model.run(inputs(new float[] {1, 2, 3, 4, 5, 6}, new float[] {10, 20, 30, 40, 50, 60}),
                Set.of());
        assertEquals(2, out.size());
        assertEquals("sum", out.get(0).name());
        assertArrayEquals(new long[] {2, 3}, out.get(0).shape());
        assertArrayEquals(new float[] {11, 22, 33, 44, 55, 66}, out.get(0).toFloats(), 0f);
        assertEquals("diff", out.get(1).name());
        assertArrayEquals(new float[] {-9, -18, -27, -36, -45, -54}, out.get(1).toFloats(), 0f);
    }

    @Test
    public void onlyRequestedOutputsAreReturned() throws EngineException {
        List<Tensor> out = model.run(inputs(new float[] {1, 2, 3}, new float[] {1, 1, 1}), Set.of("diff"));
        assertEquals(1, out.size());
        assertEquals("diff", out.get(0).name());
        assertArrayEquals(new float[] {0, 1, 2}, out.get(0).toFloats(), 0f);

        // a request order different from the model's still comes back in model order
        out = model.run(inputs(new float[] {1, 2, 3}, new float[] {1, 1, 1}), new java.util.LinkedHashSet<>(
                List.of("diff", "sum")));
        assertEquals(List.of("sum", "diff"), out.stream().map(Tensor::name).toList());
    }

    @Test
    public void unknownOutputIsNamedInTheError() {
        EngineException e = runFails(inputs(new float[] {1, 2, 3}, new float[] {1, 2, 3}), Set.of("product"));
        assertEquals(Reason.RUN_FAILED, e.reason());
        assertTrue(e.getMessage(), e.getMessage().contains("'product'") && e.getMessage().contains("[sum, diff]"));
    }

    @Test
    public void badInputsAreNamedInTheError() {
        Tensor a = Tensor.ofFloats("a", new long[] {1, 3}, new float[] {1, 2, 3});
        EngineException missing = runFails(List.of(a), Set.of());
        assertTrue(missing.getMessage(), missing.getMessage().contains("[b]"));

        EngineException unknown = runFails(List.of(a, Tensor.ofFloats("c", new long[] {1, 3}, new float[3])), Set.of());
        assertTrue(unknown.getMessage(), unknown.getMessage().contains("'c' is not an input"));

        EngineException type = runFails(List.of(a, Tensor.ofInts("b", new long[] {1, 3}, new int[3])), Set.of());
        assertTrue(type.getMessage(), type.getMessage().contains("'b' is INT32") && type.getMessage().contains("FP32"));

        EngineException shape = runFails(List.of(a, Tensor.ofFloats("b", new long[] {1, 4}, new float[4])), Set.of());
        assertTrue(shape.getMessage(), shape.getMessage().contains("[1, 4]") && shape.getMessage().contains("[-1, 3]"));
        assertEquals(Reason.RUN_FAILED, shape.reason());
    }

    @Test
    public void eightThreadsRunConcurrentlyWithCorrectResults() throws Exception {
        int threads = 8;
        int runsPerThread = 200;
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        CountDownLatch start = new CountDownLatch(1);
        try {
            List<Future<Integer>> done = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                int thread = t;
                Callable<Integer> job = () -> {
                    start.await();
                    for (int r = 0; r < runsPerThread; r++) {
                        int batch = 1 + (r % 4);
                        float[] a = new float[batch * 3];
                        float[] b = new float[batch * 3];
                        for (int i = 0; i < a.length; i++) {
                            a[i] = thread * 1000 + r + i;
                            b[i] = i * 0.5f;
                        }
                        List<Tensor> out = model.run(inputs(batch, a, b), Set.of("sum"));
                        float[] sum = out.get(0).toFloats();
                        assertEquals(a.length, sum.length);
                        for (int i = 0; i < a.length; i++) {
                            assertEquals("thread " + thread + " run " + r, a[i] + b[i], sum[i], 0f);
                        }
                    }
                    return runsPerThread;
                };
                done.add(pool.submit(job));
            }
            start.countDown();
            int total = 0;
            for (Future<Integer> f : done) {
                total += f.get(60, TimeUnit.SECONDS);
            }
            assertEquals(threads * runsPerThread, total);
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    public void runAfterCloseFailsClearlyAndCloseIsIdempotent() throws EngineException {
        model.run(inputs(new float[] {1, 2, 3}, new float[] {1, 2, 3}), Set.of());
        assertEquals(1, engine.openModels());
        model.close();
        model.close(); // second close: no exception
        assertEquals(0, engine.openModels());

        EngineException e = runFails(inputs(new float[] {1, 2, 3}, new float[] {1, 2, 3}), Set.of());
        assertEquals(Reason.UNAVAILABLE, e.reason());
        assertTrue(e.getMessage(), e.getMessage().contains("closed"));
        assertTrue(e.getMessage(), e.getMessage().contains("test model add.onnx"));
    }

    @Test
    public void deactivateClosesModelsLeftOpen() throws EngineException {
        LoadedModel second = engine.load(TestModels.artifact("add.onnx"));
        assertEquals(2, engine.openModels());
        engine.deactivate();
        assertEquals(0, engine.openModels());
        try {
            second.run(inputs(new float[] {1, 2, 3}, new float[] {1, 2, 3}), Set.of());
            fail("a model closed by deactivate must not run");
        } catch (EngineException e) {
            assertEquals(Reason.UNAVAILABLE, e.reason());
        }
    }

    private EngineException runFails(List<Tensor> in, Set<String> outputs) {
        try {
            model.run(in, outputs);
        } catch (EngineException e) {
            return e;
        }
        throw new AssertionError("expected the run to fail");
    }

    private static List<Tensor> inputs(float[] a, float[] b) {
        return inputs(a.length / 3, a, b);
    }

    private static List<Tensor> inputs(int batch, float[] a, float[] b) {
        long[] shape = {batch, 3};
        return List.of(Tensor.ofFloats("a", shape, a), Tensor.ofFloats("b", shape, b));
    }
}
