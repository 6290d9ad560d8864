package io.tollgate.serving.internal;

import io.tollgate.engine.spi.EngineException;
import io.tollgate.engine.spi.LoadedModel;
import io.tollgate.model.Tensor;
import io.tollgate.model.TensorSpec;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Test-only loaded model: each output is FP32 with the batch of the first input and the output's
 * remaining dimensions, every element equal to the model's tag. Runs can be held at a gate; a run
 * after close fails loudly, so use-after-close cannot pass unnoticed.
 */
final class FakeModel implements LoadedModel {
    private final List<TensorSpec> inputs;
    private final List<TensorSpec> outputs;
    private final float tag;
    final AtomicInteger closes = new AtomicInteger();
    final AtomicInteger runs = new AtomicInteger();
    final AtomicInteger running = new AtomicInteger();
    final AtomicInteger runsAfterClose = new AtomicInteger();
    final List<String> runThreads = new java.util.concurrent.CopyOnWriteArrayList<>();
    /** When set, runs wait for it. */
    volatile CountDownLatch runGate;
    /** Counts down when a run has started (tests wait on it to know a request is in flight). */
    volatile CountDownLatch runStarted = new CountDownLatch(0);
    /** When set, runs fail with this message. */
    volatile String failRuns;
    volatile EngineException.Reason failReason = EngineException.Reason.RUN_FAILED;

    FakeModel(List<TensorSpec> inputs, List<TensorSpec> outputs, float tag) {
        this.inputs = List.copyOf(inputs);
        this.outputs = List.copyOf(outputs);
        this.tag = tag;
    }

    float tag() {
        return tag;
    }

    @Override
    public List<TensorSpec> inputs() {
        return inputs;
    }

    @Override
    public List<TensorSpec> outputs() {
        return outputs;
    }

    @Override
    public String accelerator() {
        return "fake-cpu";
    }

    @Override
    public List<Tensor> run(List<Tensor> given, Set<String> requested) throws EngineException {
        runs.incrementAndGet();
        running.incrementAndGet();
        runThreads.add(Thread.currentThread().getName());
        try {
            if (closes.get() > 0) {
                runsAfterClose.incrementAndGet();
                throw new IllegalStateException("run on a closed model");
            }
            runStarted.countDown();
            CountDownLatch gate = runGate;
            if (gate != null) {
                try {
                    gate.await(10, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
            if (failRuns != null) {
                throw new EngineException(failReason, failRuns);
            }
            long batch = given.isEmpty() ? 1 : given.get(0).batchSize();
            List<Tensor> out = new ArrayList<>();
            for (TensorSpec o : outputs) {
                if (!requested.isEmpty() && !requested.contains(o.name())) {
                    continue;
                }
                long[] shape = o.shape();
                if (shape.length > 0) {
                    shape[0] = batch;
                }
                float[] values = new float[(int) Arrays.stream(shape).reduce(1, (a, b) -> a * b)];
                Arrays.fill(values, tag);
                out.add(Tensor.ofFloats(o.name(), shape, values));
            }
            return out;
        } finally {
            running.decrementAndGet();
        }
    }

    @Override
    public void close() {
        closes.incrementAndGet();
    }
}
