package io.tollgate.serving.internal;

import static org.junit.Assert.assertArrayEquals;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

import io.tollgate.engine.spi.EngineException;
import io.tollgate.engine.spi.LoadedModel;
import io.tollgate.model.DataType;
import io.tollgate.model.Tensor;
import io.tollgate.model.TensorSpec;
import io.tollgate.serving.InferenceException;
import io.tollgate.serving.InferenceException.Reason;
import io.tollgate.serving.ModelConfig;
import io.tollgate.serving.ModelConfig.DynamicBatching;
import io.tollgate.serving.ModelConfig.InstanceGroup;
import io.tollgate.serving.ModelConfig.QueuePolicy;
import io.tollgate.serving.ModelConfig.QueuePolicy.TimeoutAction;
import io.tollgate.serving.ModelConfig.VersionPolicy;
import io.tollgate.serving.ModelStatistics;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.After;
import org.junit.Test;

/**
 * Scheduling of {@link BatchScheduler}: priorities, queue timeouts, queue-full, instances and how batches form.
 * The model is a fake {@link LoadedModel} (it echoes its input, and can be held or slowed down) because these tests
 * are about when and with what the engine is called, not about what it computes; {@code BatchingCorrectnessTest}
 * checks the answers with the real ONNX Runtime.
 */
public class BatchSchedulerTest {
    /** Lateness allowed for a timer on a shared, loaded 2-core build machine. */
    private static final long SLACK_MS = 400;
    private final ExecutorService workers = Executors.newFixedThreadPool(8);
    private final ScheduledThreadPoolExecutor timer = new ScheduledThreadPoolExecutor(1);
    private final EchoModel model = new EchoModel();
    private final VersionStatistics statistics = new VersionStatistics();
    /** Ids of the requests answered, in the order they were (one instance, one request per run: the run order). */
    private final List<String> order = Collections.synchronizedList(new ArrayList<>());

    @After
    public void stop() {
        model.hold.countDown();
        workers.shutdownNow();
        timer.shutdownNow();
    }

    @Test
    public void higherPriorityIsDequeuedFirst() throws Exception {
        BatchScheduler s = scheduler(config(1, batching(List.of(), 0, 3, 2, QueuePolicy.DEFAULT), 1));
        model.holdRuns();
        Answer blocker = submit(s, "blocker", 1, Map.of());
        model.awaitRunning(1);
        List<Answer> answers = new ArrayList<>();
        answers.add(submit(s, "low-1", 1, Map.of("priority", 3)));
        answers.add(submit(s, "default-1", 1, Map.of()));          // default level 2
        answers.add(submit(s, "high-1", 1, Map.of("priority", 1)));
        answers.add(submit(s, "low-2", 1, Map.of("priority", 3L)));
        answers.add(submit(s, "high-2", 1, Map.of("priority", 1)));
        model.release();
        blocker.await();
        for (Answer a : answers) {
            a.await();
        }
        assertEquals(List.of("blocker", "high-1", "high-2", "default-1", "low-1", "low-2"), order);
    }

    @Test
    public void aQueuedRequestPastItsTimeoutIsRejectedAtOnce() throws Exception {
        BatchScheduler s = scheduler(config(1, batching(List.of(), 0, 0, 0, QueuePolicy.DEFAULT), 1));
        model.holdRuns();
        submit(s, "blocker", 1, Map.of());
        model.awaitRunning(1);
        long start = System.nanoTime();
        Answer late = submit(s, "late", 1, Map.of("timeout", 50_000));   // 50 ms
        InferenceException e = late.awaitFailure();
        long tookMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
        assertEquals(Reason.TIMEOUT, e.reason());
        assertTrue(e.getMessage(), e.getMessage().contains("timeout of 50000 µs"));
        assertTrue("answered after " + tookMs + " ms, not within its 50 ms timeout + slack", tookMs < 50 + SLACK_MS);
        assertTrue("answered before its timeout: " + tookMs + " ms", tookMs >= 49);
        model.release();
        Thread.sleep(100);
        assertEquals("the rejected request never ran", List.of("blocker"), order);
        assertEquals(1, statistics.snapshot("m", "1").inferenceStats().fail().count());
    }

    @Test
    public void theQueuePolicysDefaultTimeoutAppliesAndARequestMayOnlyShortenIt() throws Exception {
        QueuePolicy policy = new QueuePolicy(TimeoutAction.REJECT, 40_000, true, 0);
        BatchScheduler s = scheduler(config(1, batching(List.of(), 0, 0, 0, policy), 1));
        model.holdRuns();
        submit(s, "blocker", 1, Map.of());
        model.awaitRunning(1);
        long start = System.nanoTime();
        Answer longer = submit(s, "asks-longer", 1, Map.of("timeout", 10_000_000));
        assertEquals(Reason.TIMEOUT, longer.awaitFailure().reason());
        assertTrue(System.nanoTime() - start < TimeUnit.MILLISECONDS.toNanos(40 + SLACK_MS));
        model.release();
    }

    @Test
    public void withDelayATimedOutRequestIsKeptAndServed() throws Exception {
        QueuePolicy delay = new QueuePolicy(TimeoutAction.DELAY, 0, true, 0);
        BatchScheduler s = scheduler(config(1, batching(List.of(), 0, 0, 0, delay), 1));
        model.holdRuns();
        submit(s, "blocker", 1, Map.of());
        model.awaitRunning(1);
        Answer kept = submit(s, "kept", 1, Map.of("timeout", 10_000));
        Thread.sleep(100);
        assertTrue("a DELAY request is not answered when its timeout passes", !kept.future.isDone());
        model.release();
        kept.await();
    }

    @Test
    public void aFullPriorityLevelIsOverloadedAtOnceWhileOtherLevelsStillQueue() throws Exception {
        QueuePolicy small = new QueuePolicy(TimeoutAction.REJECT, 0, true, 2);
        DynamicBatching b = new DynamicBatching(List.of(), 0, 2, 2, QueuePolicy.DEFAULT, Map.of(2, small));
        BatchScheduler s = scheduler(config(1, b, 1));
        model.holdRuns();
        submit(s, "blocker", 1, Map.of());
        model.awaitRunning(1);
        submit(s, "q1", 1, Map.of());
        submit(s, "q2", 1, Map.of("priority", 2));
        long start = System.nanoTime();
        try {
            submit(s, "q3", 1, Map.of());
            fail("a third request at level 2 (max_queue_size 2) was queued");
        } catch (InferenceException e) {
            assertEquals(Reason.OVERLOADED, e.reason());
            assertTrue(e.getMessage(), e.getMessage().contains("max_queue_size 2"));
        }
        assertTrue("refused at once, not after a wait for room", System.nanoTime() - start
                < TimeUnit.MILLISECONDS.toNanos(2000));
        Answer high = submit(s, "high", 1, Map.of("priority", 1));   // level 1 has no limit of its own
        model.release();
        high.await();
    }

    @Test
    public void invalidPriorityAndTimeoutAreBadRequestsWithTheRule() {
        BatchScheduler s = scheduler(config(1, batching(List.of(), 0, 3, 2, QueuePolicy.DEFAULT), 1));
        for (Object bad : new Object[] {4, -1, "1", 1.5, true}) {
            try {
                submit(s, "bad", 1, Map.of("priority", bad));
                fail("priority " + bad + " was accepted");
            } catch (InferenceException e) {
                assertEquals(Reason.BAD_REQUEST, e.reason());
                assertTrue(e.getMessage(), e.getMessage().contains("from 0 to 3 (1 is the highest"));
            }
        }
        for (Object bad : new Object[] {-5, "100", 2.5}) {
            try {
                submit(s, "bad", 1, Map.of("timeout", bad));
                fail("timeout " + bad + " was accepted");
            } catch (InferenceException e) {
                assertEquals(Reason.BAD_REQUEST, e.reason());
                assertTrue(e.getMessage(), e.getMessage().contains("whole number of microseconds"));
            }
        }
        assertEquals(0, s.queued());
    }

    @Test
    public void instancesBoundConcurrentRunsAndEveryInstanceIsUsed() throws Exception {
        for (int instances : new int[] {1, 3}) {
            EchoModel slow = new EchoModel();
            slow.sleepMs = 60;
            BatchScheduler s = new BatchScheduler("model 'm' 1", config(1, null, instances), () -> slow, workers,
                    timer, new VersionStatistics());
            List<Answer> answers = new ArrayList<>();
            for (int i = 0; i < 9; i++) {
                answers.add(submit(s, "r" + i, 1, Map.of()));
            }
            for (Answer a : answers) {
                a.await();
            }
            assertEquals("instances " + instances, instances, slow.maxConcurrent.get());
        }
    }

    @Test
    public void requestsQueuedTogetherRunAsOneBatchAndGetTheirOwnRowsBack() throws Exception {
        BatchScheduler s = scheduler(config(16, batching(List.of(), 200_000, 0, 0, QueuePolicy.DEFAULT), 1));
        model.holdRuns();
        submit(s, "blocker", 1, Map.of());
        model.awaitRunning(1);
        List<Answer> answers = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            answers.add(submit(s, "r" + i, 1 + i % 3, Map.of()));
        }
        model.release();
        for (int i = 0; i < 5; i++) {
            List<Tensor> out = answers.get(i).await();
            assertArrayEquals(rows("r" + i, 1 + i % 3).toFloats(), out.get(0).toFloats(), 0f);
            assertEquals(1 + i % 3, out.get(0).batchSize());
        }
        // 5 requests of 1+2+3+1+2 rows queued behind the blocker: one run of 9 rows (below max_batch_size 16, so it
        // left when its oldest request had waited the 200 ms delay)
        assertEquals(List.of(1L, 9L), model.batchRows());
        ModelStatistics st = settled(6);
        assertEquals(6, st.inferenceCount());
        assertEquals(2, st.executionCount());
        assertEquals(List.of(1, 9), st.batchStats().stream().map(ModelStatistics.BatchStatistics::batchSize).toList());
    }

    @Test
    public void aPreferredSizeLeavesAtOnceAndALoneRequestAfterTheDelay() throws Exception {
        BatchScheduler s = scheduler(config(8, batching(List.of(4), 3_000_000, 0, 0, QueuePolicy.DEFAULT), 1));
        long start = System.nanoTime();
        List<Answer> four = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            four.add(submit(s, "p" + i, 1, Map.of()));
        }
        for (Answer a : four) {
            a.await();
        }
        long fourMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
        assertTrue("a batch at the preferred size waited " + fourMs + " ms for the delay: runs " + model.batchRows(),
                fourMs < 1500);   // far below the 3 s delay, with room for a loaded build machine
        start = System.nanoTime();
        submit(s, "alone", 1, Map.of()).await();
        long aloneMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
        assertTrue("a lone request left after " + aloneMs + " ms, not after the 3000 ms delay", aloneMs >= 2990);
        assertTrue("a lone request waited " + aloneMs + " ms", aloneMs < 3000 + SLACK_MS);
        assertEquals(List.of(4L, 1L), model.batchRows());
    }

    @Test
    public void aReachedPreferredSizeLeavesAtOnceWithTheLargestOneReached() throws Exception {
        BatchScheduler s = scheduler(config(8, batching(List.of(2, 4), 3_000_000, 0, 0, QueuePolicy.DEFAULT), 1));
        model.holdRuns();
        submit(s, "blocker", 2, Map.of());   // 2 rows: a preferred size, so it runs at once (and is held)
        model.awaitRunning(1);
        Answer a = submit(s, "a", 1, Map.of());
        Answer b = submit(s, "b", 1, Map.of());
        Answer c = submit(s, "c", 1, Map.of());
        long released = System.nanoTime();
        model.release();
        a.await();
        b.await();
        long abMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - released);
        assertTrue("3 rows queued reach preferred size 2: they left after " + abMs + " ms, not at once", abMs < 1500);
        c.await();
        long cMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - released);
        assertTrue("the lone rest waits the 3000 ms delay, not " + cMs + " ms", cMs >= 2900);
        assertEquals(List.of(2L, 2L, 1L), model.batchRows());
    }

    @Test
    public void requestsWhoseShapesCannotMergeRunInSeparateBatches() throws Exception {
        BatchScheduler s = scheduler(config(16, batching(List.of(), 100_000, 0, 0, QueuePolicy.DEFAULT), 1));
        model.holdRuns();
        submit(s, "blocker", 1, Map.of());
        model.awaitRunning(1);
        Answer a = submit(s, "a", 2, Map.of());
        Answer wide = new Answer();
        s.submit("wide", List.of(Tensor.ofFloats("x", new long[] {1, 3}, new float[] {7, 8, 9})), Set.of(), 1,
                Map.of(), wide);
        Answer b = submit(s, "b", 1, Map.of());
        model.release();
        assertEquals(2, a.await().get(0).batchSize());
        assertArrayEquals(new float[] {7, 8, 9}, wide.await().get(0).toFloats(), 0f);
        b.await();
        assertEquals(List.of(1L, 3L, 1L), model.batchRows());
    }

    @Test
    public void anEngineFailureFailsEveryRequestOfTheBatch() throws Exception {
        BatchScheduler s = scheduler(config(16, batching(List.of(), 50_000, 0, 0, QueuePolicy.DEFAULT), 1));
        model.failWith = new EngineException(EngineException.Reason.RUN_FAILED, "out of memory");
        Answer a = submit(s, "a", 1, Map.of());
        Answer b = submit(s, "b", 2, Map.of());
        assertEquals(Reason.ENGINE_FAILURE, a.awaitFailure().reason());
        assertEquals(Reason.ENGINE_FAILURE, b.awaitFailure().reason());
        ModelStatistics st = statistics.snapshot("m", "1");
        assertEquals(0, st.inferenceCount());
        assertEquals(2, st.inferenceStats().fail().count());
    }

    @Test
    public void closingFailsWhatIsQueuedAndRefusesMore() throws Exception {
        BatchScheduler s = scheduler(config(1, batching(List.of(), 0, 0, 0, QueuePolicy.DEFAULT), 1));
        model.holdRuns();
        submit(s, "blocker", 1, Map.of());
        model.awaitRunning(1);
        Answer queued = submit(s, "queued", 1, Map.of());
        s.close(null);
        assertEquals(Reason.MODEL_NOT_READY, queued.awaitFailure().reason());
        try {
            submit(s, "after", 1, Map.of());
            fail("a closed scheduler queued a request");
        } catch (InferenceException e) {
            assertEquals(Reason.MODEL_NOT_READY, e.reason());
        }
        model.release();
    }

    @Test
    public void anErrorFromARunAnswersEveryRequestOfTheBatchCountsItAndTheWorkerServesOn() throws Exception {
        // an Error (not only an Exception) from a run: each request of the batch is answered at once and counted
        // as a failure; an OutOfMemoryError is 503 "retry later", any other Error 500; then the scheduler serves on
        BatchScheduler s = scheduler(config(4, batching(List.of(), 20_000, 0, 0, QueuePolicy.DEFAULT), 1));
        model.errorWith = new OutOfMemoryError("test");
        Answer a = submit(s, "oom-a", 1, Map.of());
        Answer b = submit(s, "oom-b", 1, Map.of());
        InferenceException ea = a.awaitFailure();
        assertEquals(Reason.OVERLOADED, ea.reason());
        assertEquals("out of memory while serving model 'm' 1: retry later", ea.getMessage());
        assertEquals(Reason.OVERLOADED, b.awaitFailure().reason());
        model.errorWith = new StackOverflowError("deep");
        InferenceException so = submit(s, "so", 1, Map.of()).awaitFailure();
        assertEquals(Reason.ENGINE_FAILURE, so.reason());
        assertTrue(so.getMessage(), so.getMessage().contains("java.lang.StackOverflowError: deep"));
        assertEquals(3, statistics.snapshot("m", "1").inferenceStats().fail().count());
        model.errorWith = null;
        submit(s, "after", 1, Map.of()).await();
        assertEquals(List.of("after"), order);
    }

    // ---- helpers ----

    /** The statistics once {@code served} successes are counted (a success is counted just after its answer). */
    private ModelStatistics settled(long served) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        ModelStatistics st = statistics.snapshot("m", "1");
        while (st.inferenceCount() < served && System.nanoTime() < deadline) {
            Thread.sleep(1);
            st = statistics.snapshot("m", "1");
        }
        return st;
    }

    private BatchScheduler scheduler(ModelConfig config) {
        return new BatchScheduler("model 'm' 1", config, () -> model, workers, timer, statistics);
    }

    static ModelConfig config(int maxBatch, DynamicBatching batching, int instances) {
        return new ModelConfig("m", "onnxruntime_onnx", "onnxruntime", maxBatch,
                List.of(new TensorSpec("x", DataType.FP32, new long[] {2})),
                List.of(new TensorSpec("x", DataType.FP32, new long[] {2})), VersionPolicy.LATEST_ONE, "", batching,
                List.of(new InstanceGroup("", instances, InstanceGroup.Kind.KIND_CPU)), Map.of());
    }

    static DynamicBatching batching(List<Integer> preferred, long delayMicros, int levels, int defaultLevel,
                                    QueuePolicy policy) {
        return new DynamicBatching(preferred, delayMicros, levels, defaultLevel, policy, Map.of());
    }

    /** A request's input: {@code rows} rows of 2 values derived from its id, so each request's rows differ. */
    private static Tensor rows(String id, int rows) {
        float[] v = new float[rows * 2];
        for (int i = 0; i < v.length; i++) {
            v[i] = id.hashCode() % 1000 + i;
        }
        return Tensor.ofFloats("x", new long[] {rows, 2}, v);
    }

    private Answer submit(BatchScheduler s, String id, int rows, Map<String, Object> parameters)
            throws InferenceException {
        Answer a = new Answer();
        a.id = id;
        s.submit(id, List.of(rows(id, rows)), Set.of(), rows, parameters, a);
        return a;
    }

    private final class Answer implements BatchScheduler.Outcome {
        final CompletableFuture<List<Tensor>> future = new CompletableFuture<>();
        String id;

        @Override
        public boolean served(List<Tensor> outputs, long computeNanos) {
            order.add(id);
            return future.complete(outputs);
        }

        @Override
        public void failed(InferenceException e) {
            future.completeExceptionally(e);
        }

        List<Tensor> await() throws Exception {
            return future.get(5, TimeUnit.SECONDS);
        }

        InferenceException awaitFailure() throws Exception {
            try {
                future.get(5, TimeUnit.SECONDS);
            } catch (java.util.concurrent.ExecutionException e) {
                return (InferenceException) e.getCause();
            }
            throw new AssertionError("request " + id + " was served");
        }
    }

    /** Echoes its input as output "x"; counts concurrent runs; can hold runs until released. */
    private static final class EchoModel implements LoadedModel {
        final List<float[]> runs = Collections.synchronizedList(new ArrayList<>());
        final List<Long> rows = Collections.synchronizedList(new ArrayList<>());
        final AtomicInteger running = new AtomicInteger();
        final AtomicInteger maxConcurrent = new AtomicInteger();
        final AtomicInteger started = new AtomicInteger();
        volatile CountDownLatch hold = new CountDownLatch(0);
        volatile long sleepMs;
        volatile EngineException failWith;
        volatile Error errorWith;

        void holdRuns() {
            hold = new CountDownLatch(1);
        }

        void release() {
            hold.countDown();
        }

        void awaitRunning(int n) throws InterruptedException {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
            while (started.get() < n) {
                assertTrue("the engine did not start " + n + " runs", System.nanoTime() < deadline);
                Thread.sleep(1);
            }
        }

        List<Long> batchRows() {
            return List.copyOf(rows);
        }

        @Override
        public List<TensorSpec> inputs() {
            return List.of(new TensorSpec("x", DataType.FP32, new long[] {-1, -1}));
        }

        @Override
        public List<TensorSpec> outputs() {
            return inputs();
        }

        @Override
        public String accelerator() {
            return "cpu";
        }

        @Override
        public List<Tensor> run(List<Tensor> inputs, Set<String> requestedOutputs) throws EngineException {
            int now = running.incrementAndGet();
            maxConcurrent.accumulateAndGet(now, Math::max);
            started.incrementAndGet();
            try {
                hold.await(5, TimeUnit.SECONDS);
                if (sleepMs > 0) {
                    Thread.sleep(sleepMs);
                }
                if (failWith != null) {
                    throw failWith;
                }
                if (errorWith != null) {
                    throw errorWith;
                }
                Tensor x = inputs.get(0);
                rows.add(x.batchSize());
                runs.add(x.toFloats());
                return List.of(x);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new EngineException(EngineException.Reason.RUN_FAILED, "interrupted");
            } finally {
                running.decrementAndGet();
            }
        }

        @Override
        public void close() {
        }
    }
}
