package io.tollgate.serving.internal;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertSame;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

import io.tollgate.model.DataType;
import io.tollgate.model.ModelDescriptor;
import io.tollgate.model.TensorSpec;
import io.tollgate.serving.InferenceException;
import io.tollgate.serving.ModelState;
import io.tollgate.serving.ModelStatus;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.After;
import org.junit.Test;

public class ModelRepositoryTest {
    private final ScheduledExecutorService scheduler = Executors.newSingleThreadScheduledExecutor();
    private final FakeEngine engine = new FakeEngine("fake");
    private ModelRepository repository = new ModelRepository(5_000, scheduler);

    @After
    public void stop() {
        scheduler.shutdownNow();
    }

    private static ModelDescriptor descriptor(String name, String version) {
        return new ModelDescriptor(name, version, "fake", "fake", "model.bin",
                List.of(new TensorSpec("image", DataType.FP32, new long[] {-1, 4})),
                List.of(new TensorSpec("probs", DataType.FP32, new long[] {-1, 2})), 8, List.of(), "", "", Map.of());
    }

    private static PluginInfo plugin(long bundleId) {
        return plugin(bundleId, "io.acme.fm");     // side-by-side plugin bundles of one model share one name
    }

    private static PluginInfo plugin(long bundleId, String symbolicName) {
        return new PluginInfo(bundleId, symbolicName, bundleId + ".0.0", "file:p" + bundleId + ".jar",
                bundleId + "@1");
    }

    private ModelVersion loading(long bundleId, String name, String version) throws PluginException {
        return repository.add(plugin(bundleId), descriptor(name, version));
    }

    private ModelVersion ready(long bundleId, String name, String version) throws Exception {
        ModelVersion v = loading(bundleId, name, version);
        FakeModel model = new FakeModel(List.of(), List.of(), 0);
        assertTrue(repository.ready(v, model, engine, descriptor(name, version)));
        return v;
    }

    private static FakeModel model(ModelVersion v) {
        return (FakeModel) v.loaded();
    }

    private InferenceException refusal(String name, String version) {
        try {
            ModelVersion v = repository.acquire(name, version, 100);
            fail("expected a refusal, got " + v);
            return null;
        } catch (InferenceException e) {
            return e;
        }
    }

    private static void awaitTrue(String what, java.util.function.BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                fail("timed out waiting for: " + what);
            }
            Thread.sleep(5);
        }
    }

    @Test
    public void unversionedRequestsGoToTheHighestReadyVersion() throws Exception {
        ModelVersion v1 = ready(1, "fm", "1.0.0");
        ModelVersion v9 = ready(2, "fm", "9.0.0");
        ModelVersion v10 = ready(3, "fm", "10.0.0");
        loading(4, "fm", "11.0.0");
        assertSame(v10, repository.route("fm", null));
        assertSame(v10, repository.route("fm", ""));
        assertSame(v9, repository.route("fm", "9.0.0"));
        assertSame(v1, repository.route("fm", "1.0"));          // the same version written shorter
        List<ModelStatus> statuses = repository.statuses();
        assertEquals(List.of("1.0.0", "9.0.0", "10.0.0", "11.0.0"),
                statuses.stream().map(ModelStatus::version).collect(Collectors.toList()));
        assertEquals(List.of(false, false, true, false),
                statuses.stream().map(ModelStatus::serving).collect(Collectors.toList()));
    }

    @Test
    public void reportsAModelThatIsNotInstalled() throws Exception {
        ready(1, "b", "1.0.0");
        ready(2, "a", "1.0.0");
        InferenceException e = refusal("x", null);
        assertEquals(InferenceException.Reason.MODEL_NOT_FOUND, e.reason());
        assertEquals("model 'x' is not installed; installed: [a, b]", e.getMessage());
    }

    @Test
    public void reportsAVersionThatIsNotInstalled() throws Exception {
        ready(1, "fm", "1.1.0");
        ready(2, "fm", "1.0.0");
        InferenceException e = refusal("fm", "3.0.0");
        assertEquals(InferenceException.Reason.MODEL_NOT_FOUND, e.reason());
        assertEquals("model 'fm' has no version '3.0.0'; installed versions: [1.0.0, 1.1.0]", e.getMessage());
    }

    /** OSGi's version parser trims white space: "1.0.0 " (a %20 in the path), a tab or a line break named 1.0.0. */
    @Test
    public void aRequestedVersionWithSpaceAtAnEndOrAControlCharacterNamesNoVersion() throws Exception {
        ModelVersion v1 = ready(1, "fm", "1.0.0");
        for (String bad : new String[] {"1.0.0 ", " 1.0.0", "\t1.0.0", "1.0.0\n", "1.0.0\r"}) {
            InferenceException e = refusal("fm", bad);
            assertEquals(InferenceException.Reason.MODEL_NOT_FOUND, e.reason());
            assertTrue(e.getMessage(), e.getMessage().startsWith("model 'fm' has no version '"));
        }
        assertSame("the same number written otherwise, as Triton reads '01' as 1", v1,
                repository.route("fm", "01.00.000"));
    }

    @Test
    public void reportsWhyAModelIsNotReady() throws Exception {
        loading(1, "fm", "1.0.0");
        InferenceException e = refusal("fm", null);
        assertEquals(InferenceException.Reason.MODEL_NOT_READY, e.reason());
        assertEquals("model 'fm' has no ready version: 1.0.0 is loading; retry shortly", e.getMessage());

        ModelVersion broken = loading(2, "fm", "2.0.0");
        repository.fail(broken, "plugin io.acme.p2 1.0.0: model.bin: engine 'fake' cannot load the model");
        e = refusal("fm", "2.0.0");
        assertEquals(InferenceException.Reason.MODEL_NOT_READY, e.reason());
        assertEquals("model 'fm' 2.0.0 is not ready: 2.0.0 failed: plugin io.acme.p2 1.0.0: model.bin: engine 'fake'"
                + " cannot load the model", e.getMessage());
        assertEquals(ModelState.FAILED, repository.status("fm", "2.0.0").orElseThrow().state());
    }

    @Test
    public void refusesASecondPluginForTheSameModelVersion() throws Exception {
        ready(1, "fm", "1.0.0");
        try {
            loading(2, "fm", "1.0.0");
            fail("two plugins provide fm 1.0.0");
        } catch (PluginException e) {
            assertEquals("plugin io.acme.fm 2.0.0: model 'fm' 1.0.0 is already provided by plugin io.acme.fm 1.0.0"
                    + " (bundle 1); uninstall one of the two plugins", e.getMessage());
        }
    }

    @Test
    public void aModelNameBelongsToThePluginThatFirstServesIt() throws Exception {
        ModelVersion genuine = ready(1, "fm", "1.0.0");
        for (String version : List.of("9.0.0", "1.0.0", "0.1.0")) {
            try {
                repository.add(plugin(7, "evil.impostor"), descriptor("fm", version));
                fail("another plugin took model 'fm' " + version);
            } catch (PluginException e) {
                assertEquals("plugin evil.impostor 7.0.0: model 'fm' is already served by plugin io.acme.fm; a model's"
                        + " versions must come from the plugin that owns its name", e.getMessage());
            }
        }
        assertSame(genuine, repository.route("fm", null));
        assertEquals(List.of("1.0.0"), repository.statuses().stream().map(ModelStatus::version)
                .collect(Collectors.toList()));
        ModelVersion sideBySide = ready(2, "fm", "1.1.0");           // the owner's own second plugin bundle
        assertSame(sideBySide, repository.route("fm", null));
        ready(8, "other", "9.0.0");                                // names it does not own are fine
    }

    @Test
    public void aLoadingOrFailedVersionHoldsTheNameButARefusedPluginDoesNot() throws Exception {
        ModelVersion loading = loading(1, "fm", "1.0.0");
        assertRefused(plugin(7, "evil.impostor"), "fm");
        repository.fail(loading, "plugin io.acme.fm 1.0.0: engine 'fake' is not available");
        assertRefused(plugin(7, "evil.impostor"), "fm");

        repository.refused(plugin(9, "io.acme.coder"), "dm", "1.0.0", "plugin io.acme.coder 9.0.0 is refused: code");
        ModelVersion dm = repository.add(plugin(10, "io.acme.dm"), descriptor("dm", "1.0.0"));
        assertEquals(ModelState.LOADING, dm.state());
    }

    @Test
    public void theNameIsFreeOnceEveryVersionOfItsOwnerIsGone() throws Exception {
        ModelVersion v1 = ready(1, "fm", "1.0.0");
        ModelVersion v2 = loading(2, "fm", "1.1.0");
        repository.remove(v2);
        assertRefused(plugin(7, "io.acme.other"), "fm");
        repository.remove(v1);                                     // uninstalled: drains, then closes
        awaitTrue("the owner's last version unloaded", () -> repository.all().isEmpty());
        ModelVersion next = repository.add(plugin(7, "io.acme.other"), descriptor("fm", "2.0.0"));
        assertEquals(ModelState.LOADING, next.state());
    }

    private void assertRefused(PluginInfo plugin, String name) {
        try {
            repository.add(plugin, descriptor(name, "5.0.0"));
            fail(plugin.label() + " took model '" + name + "'");
        } catch (PluginException e) {
            assertTrue(e.getMessage(), e.getMessage().contains("is already served by plugin io.acme.fm;"));
        }
    }

    @Test
    public void refusesRequestsBeyondTheQueueLimit() throws Exception {
        ModelVersion v = ready(1, "fm", "1.0.0");
        repository.acquire("fm", null, 2);
        repository.acquire("fm", null, 2);
        try {
            repository.acquire("fm", null, 2);
            fail("a third request was admitted to a queue of 2");
        } catch (InferenceException e) {
            assertEquals(InferenceException.Reason.OVERLOADED, e.reason());
            assertEquals("model fm has 2 requests queued; retry later", e.getMessage());
        }
        repository.release(v, true);
        assertSame(v, repository.acquire("fm", null, 2));
    }

    @Test
    public void drainWaitsForRequestsInFlightThenClosesExactlyOnce() throws Exception {
        ModelVersion v = ready(1, "fm", "1.0.0");
        ModelVersion a = repository.acquire("fm", null, 10);
        ModelVersion b = repository.acquire("fm", null, 10);
        repository.drain(v);
        assertEquals(ModelState.DRAINING, v.state());
        assertEquals(InferenceException.Reason.MODEL_NOT_READY, refusal("fm", null).reason());
        Thread.sleep(100);
        assertEquals("closed while two requests were in flight", 0, model(v).closes.get());
        repository.release(a, true);
        Thread.sleep(100);
        assertEquals("closed while one request was in flight", 0, model(v).closes.get());
        FakeModel m = model(v);
        repository.release(b, true);
        v.closed().get(5, TimeUnit.SECONDS);
        assertEquals(1, m.closes.get());
        assertEquals(ModelState.UNLOADED, v.state());
        repository.drain(v);
        repository.shutdown();
        assertEquals(1, m.closes.get());
        assertTrue(repository.statuses().isEmpty());
        assertEquals(2, v.served());
    }

    @Test
    public void drainClosesAnywayAfterTheTimeout() throws Exception {
        repository = new ModelRepository(150, scheduler);
        ModelVersion v = ready(1, "fm", "1.0.0");
        FakeModel m = model(v);
        ModelVersion stuck = repository.acquire("fm", null, 10);
        long started = System.nanoTime();
        repository.drain(v);
        v.closed().get(5, TimeUnit.SECONDS);
        long waited = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started);
        assertTrue("closed after " + waited + " ms, before the 150 ms drain timeout", waited >= 140);
        assertEquals(1, m.closes.get());
        repository.release(stuck, false);
        Thread.sleep(50);
        assertEquals("the late release closed the model again", 1, m.closes.get());
    }

    @Test
    public void aRetiringVersionServesUntilItsPluginsNewRevisionIsReady() throws Exception {
        ModelVersion old = ready(1, "fm", "1.0.0");
        FakeModel oldModel = model(old);
        assertEquals(List.of(old), repository.retire(1));
        assertSame("a retiring version still serves", old, repository.route("fm", null));
        ModelVersion next = repository.add(new PluginInfo(1, "io.acme.fm", "1.1.0", "file:p1.jar", "1@2"),
                descriptor("fm", "1.1.0"));
        assertSame("the new revision is still loading", old, repository.route("fm", null));
        assertTrue(repository.ready(next, new FakeModel(List.of(), List.of(), 0), engine, descriptor("fm", "1.1.0")));
        assertSame(next, repository.route("fm", null));
        old.closed().get(5, TimeUnit.SECONDS);
        assertEquals(1, oldModel.closes.get());
        assertEquals(InferenceException.Reason.MODEL_NOT_FOUND, refusal("fm", "1.0.0").reason());
    }

    @Test
    public void requestsRacingManySwitchesAreNeverRefused() throws Exception {
        ModelVersion first = ready(1, "fm", "1.0.0");
        java.util.concurrent.atomic.AtomicBoolean running = new java.util.concurrent.atomic.AtomicBoolean(true);
        java.util.concurrent.ConcurrentLinkedQueue<Throwable> failures = new java.util.concurrent.ConcurrentLinkedQueue<>();
        java.util.concurrent.atomic.AtomicLong admitted = new java.util.concurrent.atomic.AtomicLong();
        List<Thread> callers = new java.util.ArrayList<>();
        for (int i = 0; i < 8; i++) {
            Thread t = new Thread(() -> {
                while (running.get()) {
                    try {
                        ModelVersion v = repository.acquire("fm", null, 1_000);
                        admitted.incrementAndGet();
                        repository.release(v, true);
                    } catch (Throwable e) {
                        failures.add(e);
                    }
                }
            });
            callers.add(t);
            t.start();
        }
        List<FakeModel> models = new java.util.ArrayList<>(List.of(model(first)));
        try {
            for (int revision = 2; revision <= 300; revision++) {
                repository.retire(1);
                String version = "1.0." + revision;
                ModelVersion next = repository.add(new PluginInfo(1, "io.acme.fm", version, "file:p1.jar",
                        "1@" + revision), descriptor("fm", version));
                FakeModel m = new FakeModel(List.of(), List.of(), revision);
                models.add(m);
                assertTrue(repository.ready(next, m, engine, descriptor("fm", version)));
                long before = admitted.get();
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
                while (admitted.get() < before + 20 && System.nanoTime() < deadline) {
                    Thread.onSpinWait();
                }
            }
        } finally {
            running.set(false);
            for (Thread t : callers) {
                t.join(5_000);
            }
        }
        assertTrue("requests refused during switches: " + failures.size() + ", first: " + failures.peek(),
                failures.isEmpty());
        awaitTrue("every replaced version closed", () -> models.subList(0, models.size() - 1).stream()
                .allMatch(m -> m.closes.get() == 1));
        assertEquals(1, repository.statuses().size());
    }

    @Test
    public void anotherPluginsVersionIsNotReplaced() throws Exception {
        ModelVersion v1 = ready(1, "fm", "1.0.0");
        ModelVersion v2 = ready(2, "fm", "1.1.0");
        assertSame(v2, repository.route("fm", null));
        assertSame(v1, repository.route("fm", "1.0.0"));
        assertEquals(ModelState.READY, v1.state());
        assertEquals(0, model(v1).closes.get());
    }

    @Test
    public void aReadyVersionThatFailsClosesAfterItsRequestsAndStaysListed() throws Exception {
        ModelVersion v = ready(1, "fm", "1.0.0");
        FakeModel m = model(v);
        ModelVersion inFlight = repository.acquire("fm", null, 10);
        repository.fail(v, "engine fake went away");
        assertEquals(ModelState.FAILED, v.state());
        Thread.sleep(50);
        assertEquals(0, m.closes.get());
        repository.release(inFlight, true);
        v.closed().get(5, TimeUnit.SECONDS);
        assertEquals(1, m.closes.get());
        ModelStatus s = repository.status("fm", null).orElseThrow();
        assertEquals(ModelState.FAILED, s.state());
        assertEquals("engine fake went away", s.error());
        assertFalse(s.serving());
    }

    @Test
    public void shutdownClosesEveryLoadedModelOnce() throws Exception {
        ModelVersion a = ready(1, "a", "1.0.0");
        ModelVersion b = ready(2, "b", "1.0.0");
        loading(3, "c", "1.0.0");
        FakeModel ma = model(a);
        FakeModel mb = model(b);
        repository.shutdown();
        assertEquals(1, ma.closes.get());
        assertEquals(1, mb.closes.get());
        assertTrue(repository.statuses().isEmpty());
    }
}
