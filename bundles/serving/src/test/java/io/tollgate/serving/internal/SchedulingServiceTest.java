package io.tollgate.serving.internal;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

import io.tollgate.model.Tensor;
import io.tollgate.serving.InferenceException;
import io.tollgate.serving.InferenceException.Reason;
import io.tollgate.serving.InferenceRequest;
import io.tollgate.serving.InferenceResponse;
import io.tollgate.serving.ModelConfig;
import io.tollgate.serving.ModelConfig.DynamicBatching;
import io.tollgate.serving.ModelConfig.InstanceGroup;
import io.tollgate.serving.ModelConfig.QueuePolicy;
import io.tollgate.serving.ModelState;
import io.tollgate.serving.ModelStatistics;
import io.tollgate.serving.testing.InMemoryEntitlements;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.After;
import org.junit.Test;

/**
 * The scheduler behind {@link ServingService#infer}: a refusal by the scheduler (invalid priority, a full priority
 * level, a queue timeout) gives the request's place in flight back and leaves no usage record; what was queued is
 * served and metered once each; the statistics count it. The model is the fake engine's, held by its run gate
 * (scheduling, not computing, is under test).
 */
public class SchedulingServiceTest {
    private final FakeEngine engine = new FakeEngine("fake");
    private final FakeUsageJournal journal = new FakeUsageJournal();
    private ServingService service;

    @After
    public void stop() {
        if (service != null) {
            service.deactivate();
        }
    }

    @Test
    public void refusalsByTheSchedulerReleaseTheRequestAndMeterNothing() throws Exception {
        QueuePolicy oneQueued = new QueuePolicy(QueuePolicy.TimeoutAction.REJECT, 0, true, 1);
        DynamicBatching batching = new DynamicBatching(List.of(), 0, 2, 2, QueuePolicy.DEFAULT, Map.of(2, oneQueued));
        start(4, 1, () -> batching);
        FakeModel model = engine.models.get(0);
        model.runGate = new CountDownLatch(1);
        model.runStarted = new CountDownLatch(1);

        CompletableFuture<InferenceResponse> running = infer("running", Map.of());
        assertTrue("the first request runs", model.runStarted.await(5, TimeUnit.SECONDS));
        CompletableFuture<InferenceResponse> queued = infer("queued", Map.of());   // level 2 (default): 1 queued
        assertEquals(Reason.OVERLOADED, failure(infer("level-2-full", Map.of("priority", 2))).reason());
        assertEquals(Reason.BAD_REQUEST, failure(infer("bad-priority", Map.of("priority", 3))).reason());
        assertEquals(Reason.BAD_REQUEST, failure(infer("bad-timeout", Map.of("timeout", -1))).reason());
        long start = System.nanoTime();
        InferenceException timedOut = failure(infer("timed-out", Map.of("priority", 1, "timeout", 30_000)));
        assertEquals(Reason.TIMEOUT, timedOut.reason());
        assertTrue("answered within its timeout + slack",
                System.nanoTime() - start < TimeUnit.MILLISECONDS.toNanos(30 + 400));
        assertEquals("in flight: the running and the queued request only", 2,
                service.model("fm", null).orElseThrow().inFlight());

        model.runGate.countDown();
        assertEquals("running", running.get(10, TimeUnit.SECONDS).id());
        assertEquals("queued", queued.get(10, TimeUnit.SECONDS).id());
        assertEquals("one record per served request, none for the refused",
                List.of("running", "queued"), journal.events().stream().map(e -> e.requestId()).toList());
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        // released before the answer completes; its success is counted just after
        while ((service.model("fm", null).orElseThrow().inFlight() != 0
                || service.statistics("fm", "1.0.0").get(0).inferenceCount() < 2) && System.nanoTime() < deadline) {
            Thread.sleep(5);
        }
        assertEquals(0, service.model("fm", null).orElseThrow().inFlight());
        ModelStatistics st = service.statistics("fm", "1.0.0").get(0);
        assertEquals(2, st.inferenceCount());
        assertEquals(2, st.executionCount());
        assertEquals("the timed-out request is a failure; refusals before queueing are not counted", 1,
                st.inferenceStats().fail().count());
        assertEquals(1, service.statistics(null, null).size());
        assertEquals(List.of(), service.statistics("nope", null));
    }

    @Test
    public void aChangedConfigurationTakesEffectForTheNextRequest() throws Exception {
        java.util.concurrent.atomic.AtomicReference<DynamicBatching> batching =
                new java.util.concurrent.atomic.AtomicReference<>();
        start(2, 8, batching::get);
        // no priority levels: a priority is checked (a whole number) and otherwise ignored
        assertEquals("p3", infer("p3", Map.of("priority", 3)).get(5, TimeUnit.SECONDS).id());
        // the owner's conf/models file adds two priority levels: the next request is scheduled by them
        batching.set(new DynamicBatching(List.of(), 100, 2, 1, QueuePolicy.DEFAULT, Map.of()));
        InferenceException e = failure(infer("p3-again", Map.of("priority", 3)));
        assertEquals(Reason.BAD_REQUEST, e.reason());
        assertTrue(e.getMessage(), e.getMessage().contains("from 0 to 2"));
        assertEquals("p2", infer("p2", Map.of("priority", 2)).get(5, TimeUnit.SECONDS).id());
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);   // a success is counted after its answer
        while (service.statistics("fm", null).get(0).inferenceCount() < 2 && System.nanoTime() < deadline) {
            Thread.sleep(5);
        }
        assertEquals(2, service.statistics("fm", null).get(0).inferenceCount());
    }

    /** Serving with fake model fm 1.0.0 READY, scheduled by one instance, {@code maxBatch} and {@code batching}. */
    private void start(int workers, int maxBatch, java.util.function.Supplier<DynamicBatching> batching)
            throws InterruptedException {
        service = new ServingService(new ServingSettings(workers, 16, 2_000, 10_000, 2_000, 50), journal);
        service.schedulers().configs(v -> new ModelConfig(v.name(), "fake", "fake", maxBatch, v.descriptor().inputs(),
                v.descriptor().outputs(), ModelConfig.VersionPolicy.LATEST_ONE, "", batching.get(),
                List.of(new InstanceGroup("", 1, InstanceGroup.Kind.KIND_CPU)), Map.of()));
        service.bindEngine(engine);
        service.bindEntitlements(InMemoryEntitlements.everything());
        service.trackerOpened(java.util.Set.of());
        service.pluginStarted(FakePluginSource.plugin(1, "fm", "1.0.0", FakeEngine.model(1)));
        awaitReady();
    }

    private CompletableFuture<InferenceResponse> infer(String id, Map<String, Object> parameters) {
        return service.infer(new InferenceRequest("fm", null, id, List.of(Tensor.ofFloats("image", new long[] {1, 4},
                new float[4])), List.of(), "t", parameters)).toCompletableFuture();
    }

    private static InferenceException failure(CompletableFuture<InferenceResponse> f) throws Exception {
        try {
            f.get(5, TimeUnit.SECONDS);
        } catch (ExecutionException e) {
            return (InferenceException) e.getCause();
        }
        fail("served");
        return null;
    }

    private void awaitReady() throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (service.model("fm", null).map(s -> s.state() != ModelState.READY).orElse(true)) {
            assertTrue("fm not ready: " + service.models(), System.nanoTime() < deadline);
            Thread.sleep(5);
        }
    }
}
