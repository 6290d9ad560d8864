package io.tollgate.serving.internal;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

import io.tollgate.accelerator.AcceleratorKind;
import io.tollgate.accelerator.EvictionListener;
import io.tollgate.accelerator.Placement;
import io.tollgate.accelerator.PlacementException;
import io.tollgate.accelerator.PlacementRequest;
import io.tollgate.accelerator.PlacementService;
import io.tollgate.model.Tensor;
import io.tollgate.serving.InferenceException;
import io.tollgate.serving.InferenceRequest;
import io.tollgate.serving.InferenceResponse;
import io.tollgate.serving.ModelState;
import io.tollgate.serving.RepositoryControl.IndexEntry;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.junit.After;
import org.junit.Test;

/**
 * Serving's side of eviction (issue 12) without OSGi: a placement service with room for two instances (a stand-in
 * for bundles/accelerators, whose table has its own tests), test engines, real threads.
 */
public class EvictionServingTest {
    private final FakeEngine engine = new FakeEngine("fake");
    private final TwoSlots slots = new TwoSlots();
    private ServingService service;

    /** Room for two instances; evicts the least recently placed or touched. */
    static final class TwoSlots implements PlacementService {
        final LinkedHashMap<String, Placement> lru = new LinkedHashMap<>(16, 0.75f, true);
        final List<String> released = new ArrayList<>();
        /** When above 0, every resident instance is within min.residency.ms for this many ms more: none may go. */
        volatile long pinnedMs;

        @Override
        public Placement place(PlacementRequest r, EvictionListener listener) throws PlacementException {
            List<Placement> victims = new ArrayList<>();
            Placement p;
            synchronized (this) {
                Placement existing = lru.get(r.key());
                if (existing != null) {
                    return existing;
                }
                if (lru.size() >= 2 && pinnedMs > 0) {
                    throw new PlacementException(PlacementException.Reason.BUDGET_FULL, r.key() + " cannot be placed"
                            + " now: min.residency.ms; the first may be evicted in " + pinnedMs + " ms", pinnedMs);
                }
                while (lru.size() >= 2) {
                    String oldest = lru.keySet().iterator().next();
                    victims.add(lru.remove(oldest));
                }
                p = new Placement(r.model(), r.version(), "cpu", AcceleratorKind.CPU, "fake", "fp32",
                        r.estimatedBytes(), "");
                lru.put(r.key(), p);
            }
            victims.forEach(v -> listener.evicted(v, "evicted (memory budget)"));
            return p;
        }

        @Override
        public synchronized void release(String model, String version) {
            released.add(model + ":" + version);
            lru.remove(model + ":" + version);
        }

        @Override
        public synchronized void touch(String model, String version) {
            lru.get(model + ":" + version);
        }

        @Override
        public synchronized Optional<Placement> placement(String model, String version) {
            return Optional.ofNullable(lru.get(model + ":" + version));
        }

        @Override
        public synchronized List<Placement> placements() {
            return List.copyOf(lru.values());
        }

        synchronized Set<String> resident() {
            return Set.copyOf(lru.keySet());
        }
    }

    @After
    public void stop() {
        if (service != null) {
            service.deactivate();
        }
    }

    private void start() {
        service = new ServingService(new ServingSettings(4, 16, 2_000, 10_000, 2_000, 50), new FakeUsageJournal());
        service.bindEntitlements(io.tollgate.serving.testing.InMemoryEntitlements.everything());
        service.placement(slots);
        service.bindEngine(engine);
        service.trackerOpened(Set.of());
    }

    private static void await(String what, BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                fail("timed out waiting for: " + what);
            }
            Thread.sleep(5);
        }
    }

    private Map<String, IndexEntry> index() {
        Map<String, IndexEntry> out = new LinkedHashMap<>();
        for (IndexEntry e : service.index(false)) {
            out.put(e.name(), e);
        }
        return out;
    }

    private void awaitIndex(String name, String state) throws InterruptedException {
        await(name + " " + state + " in " + index(), () -> index().containsKey(name)
                && index().get(name).state().equals(state));
    }

    private InferenceResponse infer(String model, float tag) throws Exception {
        InferenceRequest r = new InferenceRequest(model, null, "req-" + model,
                List.of(Tensor.ofFloats("image", new long[] {1, 4}, new float[4])), List.of(), null, null);
        InferenceResponse out = service.infer(r).toCompletableFuture().get(10, TimeUnit.SECONDS);
        assertEquals(model, out.model());
        assertEquals(tag, out.outputs().get(0).toFloats()[0], 0f);
        return out;
    }

    private void startThree() throws Exception {
        start();
        service.pluginStarted(FakePluginSource.plugin(1, "a", "1.0.0", FakeEngine.model(1)));
        awaitIndex("a", "READY");
        service.pluginStarted(FakePluginSource.plugin(2, "b", "1.0.0", FakeEngine.model(2)));
        awaitIndex("b", "READY");
        service.pluginStarted(FakePluginSource.plugin(3, "c", "1.0.0", FakeEngine.model(3)));
        awaitIndex("c", "READY");
        awaitIndex("a", "UNAVAILABLE");
    }

    @Test
    public void theThirdModelEvictsTheLeastRecentlyUsedWhichSaysWhy() throws Exception {
        startThree();
        IndexEntry a = index().get("a");
        assertEquals("evicted (memory budget); the next request for it loads it again", a.reason());
        assertEquals("READY", index().get("b").state());
        await("a's plugin UNLOADED", () -> service.plugins().stream().anyMatch(p -> p.bundleId() == 1
                && p.state() == ModelState.UNLOADED && p.error().equals("evicted (memory budget)")));
        // a's instance closed: its reservation was dropped by the eviction, never released twice
        assertEquals(Set.of("b:1.0.0", "c:1.0.0"), slots.resident());
        assertEquals(List.of(), slots.released);
    }

    @Test
    public void aRequestForAnEvictedModelLoadsItAgainAndIsServed() throws Exception {
        startThree();
        infer("b", 2);                        // b is now more recent than c
        infer("a", 1);                        // waits for a to load again, which evicts c
        assertEquals(Set.of("a:1.0.0", "b:1.0.0"), slots.resident());
        awaitIndex("c", "UNAVAILABLE");
        assertEquals("READY", index().get("a").state());
        for (int i = 0; i < 3; i++) {          // round robin: every request served
            infer("a", 1);
            infer("b", 2);
            infer("c", 3);
        }
    }

    @Test
    public void aReloadThatIsReadyBeforeItsRequestWaitsStillServesIt() throws Exception {
        startThree();
        infer("b", 2);
        // the lifecycle thread loads a and announces READY before the requesting thread goes on to wait for it
        service.reloadAsked = () -> {
            try {
                await("a READY before the request waits", () -> service.plugins().stream()
                        .anyMatch(p -> p.bundleId() == 1 && p.state() == ModelState.READY));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        };
        long t0 = System.nanoTime();
        infer("a", 1);                        // before the fix: no wake-up, answered 503 after RELOAD_WAIT_MS
        assertTrue("served at once", System.nanoTime() - t0 < TimeUnit.SECONDS.toNanos(10));
        assertEquals("READY", index().get("a").state());
    }

    @Test(timeout = 60_000)
    public void aRequestForAnEvictedModelIsAnsweredWithinItsBoundWhileTheLifecycleThreadIsStuck() throws Exception {
        startThree();
        service.reloadWaitMs = 500;
        java.util.concurrent.CountDownLatch stuck = new java.util.concurrent.CountDownLatch(1);
        service.lifecycle.execute(() -> {       // stands in for a blocked file read or a slow engine close
            try {
                stuck.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        InferenceRequest r = new InferenceRequest("a", null, "req-a", List.of(Tensor.ofFloats("image",
                new long[] {1, 4}, new float[4])), List.of(), null, null);
        long t0 = System.nanoTime();
        try {
            // before: the wait's timeout was a task of the stuck lifecycle thread itself, so it never fired
            service.infer(r).toCompletableFuture().get(20, TimeUnit.SECONDS);
            fail("a model that cannot load again is answered");
        } catch (ExecutionException e) {
            InferenceException ie = (InferenceException) e.getCause();
            assertEquals(ie.getMessage(), InferenceException.Reason.OVERLOADED, ie.reason());
            assertTrue(ie.getMessage(), ie.getMessage().contains("did not load again within 500 ms"));
        } catch (java.util.concurrent.TimeoutException e) {
            fail("the request for the evicted model hung while the lifecycle thread was stuck");
        } finally {
            stuck.countDown();
        }
        assertTrue("answered after its bound", System.nanoTime() - t0 < TimeUnit.SECONDS.toNanos(10));
        service.reloadWaitMs = ServingService.RELOAD_WAIT_MS;   // a loaded 2-core box may take more than 500 ms
        infer("a", 1);                          // the thread is free again: the next request loads it and is served
    }

    @Test
    public void anEvictedModelAnOperatorUnloadedIsNotLoadedAgain() throws Exception {
        startThree();
        service.unload("a");
        try {
            infer("a", 1);
            fail("an operator's unload wins over on-demand loading");
        } catch (ExecutionException e) {
            InferenceException ie = (InferenceException) e.getCause();
            assertEquals(InferenceException.Reason.MODEL_NOT_FOUND, ie.reason());
            assertTrue(ie.getMessage(), ie.getMessage().contains("an operator unloaded it"));
        }
        assertEquals(Set.of("b:1.0.0", "c:1.0.0"), slots.resident());
    }

    @Test
    public void aRequestForAnEvictedModelWithNoRoomYetIsRefusedWithRetryAfterAndServedOnceThereIsRoom()
            throws Exception {
        startThree();
        slots.pinnedMs = 12_500;              // b and c were used within min.residency.ms: neither may go yet
        long t0 = System.nanoTime();
        try {
            infer("a", 1);
            fail("no room: a cannot load until b or c may be evicted");
        } catch (ExecutionException e) {
            InferenceException ie = (InferenceException) e.getCause();
            assertEquals(ie.getMessage(), InferenceException.Reason.OVERLOADED, ie.reason());
            assertEquals(13, ie.retryAfterSeconds());          // 12.5 s rounded up
            assertTrue(ie.getMessage(), ie.getMessage().contains("model 'a' 1.0.0 cannot be loaded now"));
            assertTrue(ie.getMessage(), ie.getMessage().contains("min.residency.ms"));
        }
        assertTrue("answered at once, not after the reload wait", System.nanoTime() - t0
                < TimeUnit.SECONDS.toNanos(5));
        assertEquals(Set.of("b:1.0.0", "c:1.0.0"), slots.resident());
        assertEquals("UNAVAILABLE", index().get("a").state());
        await("a's plugin UNLOADED, not FAILED", () -> service.plugins().stream().anyMatch(p -> p.bundleId() == 1
                && p.state() == ModelState.UNLOADED));
        slots.pinnedMs = 0;                   // the residency is over: the next request loads a again
        infer("a", 1);
        assertEquals("READY", index().get("a").state());
    }

    @Test
    public void anEvictedModelIsExplainedNotUnknown() throws Exception {
        startThree();
        String why = service.unavailable("a").orElseThrow(() -> new AssertionError("an evicted model is installed"));
        assertTrue(why, why.contains("model 'a' is installed but not loaded: evicted (memory budget)"));
        assertTrue(why, why.contains("the next infer request for it (POST /v2/models/a/infer) loads it again"));
        assertEquals(Optional.empty(), service.unavailable("b"));      // READY: found by model()
        assertEquals(Optional.empty(), service.unavailable("zzz"));    // not installed at all
    }
}
