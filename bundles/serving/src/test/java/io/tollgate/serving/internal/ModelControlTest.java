package io.tollgate.serving.internal;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

import io.tollgate.model.Tensor;
import io.tollgate.serving.InferenceException;
import io.tollgate.serving.InferenceException.Reason;
import io.tollgate.serving.InferenceRequest;
import io.tollgate.serving.InferenceResponse;
import io.tollgate.serving.ModelConfig;
import io.tollgate.serving.ModelState;
import io.tollgate.serving.RepositoryControl.IndexEntry;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.junit.After;
import org.junit.Rule;
import org.junit.Test;
import org.junit.rules.TemporaryFolder;

/**
 * The owner's conf/models overrides applied without a restart, the version policy, and load/unload (RepositoryControl)
 * through the real serving service with test engines and real threads and files.
 */
public class ModelControlTest {
    @Rule
    public TemporaryFolder tmp = new TemporaryFolder();

    private final FakeEngine engine = new FakeEngine("fake");
    private final FakeUsageJournal journal = new FakeUsageJournal();
    private final List<ServingService> services = new ArrayList<>();
    private ServingService service;

    private ServingService start(Path configDir, Path stateDir) {
        ServingService s = new ServingService(new ServingSettings(4, 16, 5_000, 10_000, 2_000, 50), journal);
        s.bindEntitlements(io.tollgate.serving.testing.InMemoryEntitlements.everything());
        if (stateDir != null) {
            s.keepUnloadedModelsIn(stateDir);
        }
        if (configDir != null) {
            s.watchModelConfigs(configDir);
        }
        s.bindEngine(engine);
        s.trackerOpened(Set.of());
        services.add(s);
        service = s;
        return s;
    }

    @After
    public void stop() {
        services.forEach(ServingService::deactivate);
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

    private void awaitReady(String version) throws InterruptedException {
        await("fm " + version + " READY: " + service.models(), () -> service.models().stream()
                .anyMatch(m -> m.version().equals(version) && m.state() == ModelState.READY));
    }

    private static InferenceRequest request(String version, int batch) {
        return new InferenceRequest("fm", version, "req-" + batch,
                List.of(Tensor.ofFloats("image", new long[] {batch, 4}, new float[batch * 4])), List.of(), null, null);
    }

    private float tag(String version) throws Exception {
        InferenceResponse r = service.infer(request(version, 1)).toCompletableFuture().get(10, TimeUnit.SECONDS);
        return r.outputs().get(0).toFloats()[0];
    }

    private InferenceException refusal(InferenceRequest request) throws Exception {
        try {
            service.infer(request).toCompletableFuture().get(10, TimeUnit.SECONDS);
            fail("expected a refusal");
            return null;
        } catch (ExecutionException e) {
            return (InferenceException) e.getCause();
        }
    }

    private ModelConfig config() {
        return service.config("fm", null).orElseThrow();
    }

    private static void write(Path file, String json) throws Exception {
        Path t = file.resolveSibling(file.getFileName() + ".tmp");
        Files.writeString(t, json.replace('\'', '"'), StandardCharsets.UTF_8);
        Files.move(t, file, java.nio.file.StandardCopyOption.REPLACE_EXISTING,
                java.nio.file.StandardCopyOption.ATOMIC_MOVE);
    }

    private List<String> index() {
        List<String> out = new ArrayList<>();
        for (IndexEntry e : service.index(false)) {
            out.add(e.name() + " " + e.version() + " " + e.state() + (e.reason().isEmpty() ? "" : ": " + e.reason()));
        }
        return out;
    }

    // ---- conf/models ---------------------------------------------------------------------------

    @Test
    public void anOverrideAppliesWithoutARestartAndABadOneIsRefusedKeepingTheOld() throws Exception {
        Path dir = tmp.newFolder("models").toPath();
        write(dir.resolve("fm.json"), "{'dynamic_batching':null,'instance_group':[{'count':2}]}");
        start(dir, null);
        service.pluginStarted(FakePluginSource.plugin(1, "fm", "1.0.0", FakeEngine.model(1)));
        awaitReady("1.0.0");
        assertEquals("the override read at start applies to the first load", 2, config().instanceCount());
        assertEquals(8, config().maxBatchSize());
        assertEquals(1f, tag(null), 0f);       // a batch of 1 serves; 3 too (max 8)
        service.infer(request(null, 3)).toCompletableFuture().get(10, TimeUnit.SECONDS);

        long t0 = System.nanoTime();
        write(dir.resolve("fm.json"), "{'max_batch_size':2,'dynamic_batching':{'max_queue_delay_microseconds':100}}");
        await("max_batch_size 2 applied", () -> config().maxBatchSize() == 2);
        long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
        assertTrue("applied within 3 s, took " + ms + " ms", ms < 3_000);
        assertEquals(100, config().dynamicBatching().maxQueueDelayMicroseconds());
        assertEquals("the override replaced the earlier one: instance_group back to the default",
                ModelConfigs.DEFAULT_CPU_INSTANCES,
                config().instanceCount());
        InferenceException e = refusal(request(null, 3));
        assertEquals(Reason.BAD_REQUEST, e.reason());
        assertTrue(e.getMessage(), e.getMessage().contains("at most 2"));

        write(dir.resolve("fm.json"), "{'max_batch_size': 4,");      // malformed
        await("malformed file refused", () -> service.configErrors().containsKey("fm"));
        String why = service.configErrors().get("fm");
        assertTrue(why, why.contains("fm.json is refused") && why.contains("not valid JSON"));
        assertTrue(why, why.contains("the configuration applied before stays in force"));
        assertEquals("the old one stays", 2, config().maxBatchSize());

        write(dir.resolve("fm.json"), "{'max_batch_sise': 4}");
        await("typo refused", () -> service.configErrors().getOrDefault("fm", "").contains("max_batch_sise"));
        assertEquals(2, config().maxBatchSize());
        write(dir.resolve("fm.json"), "{'max_batch_size': 16}");
        await("raising refused", () -> service.configErrors().getOrDefault("fm", "").contains("expected 1..8"));
        assertEquals(2, config().maxBatchSize());

        // a symbolic link is never followed, and no refusal quotes a file's content (review 2026-11-30)
        java.nio.file.Path secret = Files.createTempFile("secret", ".txt");
        Files.writeString(secret, "secrettokenXYZ\n");
        Files.delete(dir.resolve("fm.json"));
        Files.createSymbolicLink(dir.resolve("fm.json"), secret);
        await("link refused", () -> service.configErrors().getOrDefault("fm", "").contains("is a symbolic link, not a"
                + " regular file"));
        assertFalse(service.configErrors().get("fm"), service.configErrors().get("fm").contains("secrettokenXYZ"));
        assertEquals(2, config().maxBatchSize());
        Files.delete(dir.resolve("fm.json"));
        Files.delete(secret);
        // the refusal says what the file is instead (main said "a symbolic link or not a regular file" for all)
        Files.createDirectory(dir.resolve("fm.json"));
        await("folder refused", () -> service.configErrors().getOrDefault("fm", "").contains("is a folder, not a regular"
                + " file"));
        Files.delete(dir.resolve("fm.json"));
        write(dir.resolve("fm.json"), "{'max_batch_size': 4, 'x': secrettokenXYZ}");
        await("malformed refused", () -> service.configErrors().getOrDefault("fm", "").contains("not valid JSON"));
        assertFalse(service.configErrors().get("fm"), service.configErrors().get("fm").contains("secrettokenXYZ"));

        Files.delete(dir.resolve("fm.json"));
        await("back to the descriptor", () -> config().maxBatchSize() == 8 && service.configErrors().isEmpty());
        assertEquals(null, config().dynamicBatching());
    }

    // ---- version policy ------------------------------------------------------------------------

    @Test
    public void versionPolicySelectsWhichInstalledVersionsServe() throws Exception {
        Path dir = tmp.newFolder("models").toPath();
        start(dir, null);
        service.pluginStarted(FakePluginSource.plugin(1, "fm", "1.0.0", FakeEngine.model(1)));
        service.pluginStarted(FakePluginSource.plugin(2, "fm", "2.0.0", FakeEngine.model(2)));
        awaitReady("1.0.0");
        awaitReady("2.0.0");
        // default all: both serve, unversioned goes to the newest
        assertEquals(2f, tag(null), 0f);
        assertEquals(1f, tag("1.0.0"), 0f);
        assertEquals(List.of("fm 1.0.0 READY", "fm 2.0.0 READY"), index());

        write(dir.resolve("fm.json"), "{'version_policy':{'latest':{'num_versions':1}}}");
        await("latest 1", () -> index().get(0).contains("UNAVAILABLE"));
        assertEquals(List.of("fm 1.0.0 UNAVAILABLE: not selected by the version policy (version_policy latest 1)",
                "fm 2.0.0 READY"), index());
        InferenceException e = refusal(request("1.0.0", 1));
        assertEquals(Reason.MODEL_NOT_FOUND, e.reason());
        assertTrue(e.getMessage(), e.getMessage().contains("not selected by the version policy"));
        assertEquals(2f, tag(null), 0f);
        assertEquals("ready says not ready, with the reason", false,
                service.model("fm", "1.0.0").orElseThrow().error().isEmpty());

        write(dir.resolve("fm.json"), "{'version_policy':{'specific':{'versions':['1']}}}");
        // 1.0.0 was unloaded by latest 1: it loads again, and only then 2.0.0 unloads (it serves meanwhile)
        await("specific 1: " + index(), () -> index().equals(List.of("fm 1.0.0 READY", "fm 2.0.0 UNAVAILABLE: not"
                + " selected by the version policy (version_policy specific [1.0.0])")));
        assertEquals(1f, tag(null), 0f);
        assertEquals(Reason.MODEL_NOT_FOUND, refusal(request("2.0.0", 1)).reason());

        write(dir.resolve("fm.json"), "{'version_policy':{'all':{}},'default_model_version':'1.0.0'}");
        await("all", () -> index().stream().allMatch(s -> s.endsWith("READY")));
        assertEquals("default_model_version routes unversioned requests", 1f, tag(null), 0f);
        assertEquals(2f, tag("2.0.0"), 0f);
    }

    // ---- unload / load -------------------------------------------------------------------------

    @Test
    public void unloadRefusesAtOnceDrainsInFlightAndLoadServesAgain() throws Exception {
        Path state = tmp.newFolder("repository").toPath();
        start(null, state);
        service.pluginStarted(FakePluginSource.plugin(1, "fm", "1.0.0", FakeEngine.model(1)));
        awaitReady("1.0.0");
        FakeModel m = engine.models.get(0);
        m.runGate = new CountDownLatch(1);
        List<CompletableFuture<InferenceResponse>> inFlight = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            inFlight.add(service.infer(request(null, 1)).toCompletableFuture());
        }
        await("requests in flight", () -> service.models().get(0).inFlight() == 4);

        service.unload("fm");
        InferenceException e = refusal(request(null, 1));
        assertEquals("refused at once, while 4 are in flight", Reason.MODEL_NOT_FOUND, e.reason());
        assertTrue(e.getMessage(), e.getMessage().contains("is unloaded") && e.getMessage().contains("/load"));
        assertEquals(List.of("fm 1.0.0 UNLOADING: requests in flight are finishing before it unloads"), index());
        m.runGate.countDown();
        for (CompletableFuture<InferenceResponse> f : inFlight) {
            assertEquals("in flight finish", 1f, f.get(10, TimeUnit.SECONDS).outputs().get(0).toFloats()[0], 0f);
        }
        await("engine memory freed", () -> m.closes.get() == 1);
        await("index UNAVAILABLE", () -> index().equals(List.of("fm 1.0.0 UNAVAILABLE: the model is unloaded by an"
                + " operator (POST /v2/repository/models/fm/load loads it)")));
        assertTrue(Files.readString(state.resolve("unloaded.json")).contains("\"fm\""));
        assertEquals(ModelState.FAILED, service.plugins().get(0).state());

        service.load("fm");
        assertEquals("load returns once it serves", 1f, tag(null), 0f);
        assertEquals(List.of("fm 1.0.0 READY"), index());
        assertTrue(Files.readString(state.resolve("unloaded.json")).contains("[ ]"));
        assertEquals(2, engine.models.size());
    }

    /**
     * Review 2026-12-03: an engine that goes away while a model of it is draining after an unload (its plugin FAILED
     * "unloaded by an operator") fails every model of it: the draining one's plugin has no engine to lose, and that
     * stopped the removal halfway (IllegalStateException on the lifecycle thread), leaving later models READY on the
     * gone engine.
     */
    @Test
    public void anEngineGoingAwayWhileAnUnloadedModelDrainsFailsEveryModelOfIt() throws Exception {
        start(null, tmp.newFolder("repository").toPath());
        service.pluginStarted(FakePluginSource.plugin(1, "fm", "1.0.0", FakeEngine.model(1)));
        awaitReady("1.0.0");
        service.pluginStarted(FakePluginSource.plugin(2, "gm", "1.0.0", FakeEngine.model(2)));
        await("gm READY", () -> service.model("gm", null).map(m -> m.state() == ModelState.READY).orElse(false));
        FakeModel fm = engine.models.get(0);
        fm.runGate = new CountDownLatch(1);
        CompletableFuture<InferenceResponse> held = service.infer(request(null, 1)).toCompletableFuture();
        await("a request in flight on fm", () -> service.models().get(0).inFlight() == 1);
        try {
            service.unload("fm");
            assertEquals(ModelState.FAILED, service.plugins().get(0).state());
            service.unbindEngine(engine);
            await("gm FAILED: " + service.models(), () -> service.model("gm", null)
                    .map(m -> m.state() == ModelState.FAILED).orElse(false));
            assertTrue(service.model("gm", null).orElseThrow().error().contains("engine fake went away"));
        } finally {
            fm.runGate.countDown();
        }
        held.get(10, TimeUnit.SECONDS);
    }

    /**
     * Probe 2026-12-03: between a load and the moment its plugin lists the version again, requests got 404 "not
     * installed; installed: []" (a client or a local-first route takes that as permanent); they get 503 "loading".
     */
    @Test
    public void whileALoadReadsThePluginRequestsAreToldItIsLoadingNotThatItIsNotInstalled() throws Exception {
        start(null, tmp.newFolder("repository").toPath());
        FakePluginSource p = FakePluginSource.plugin(1, "fm", "1.0.0", FakeEngine.model(1));
        service.pluginStarted(p);
        awaitReady("1.0.0");
        service.unload("fm");
        await("engine memory freed", () -> engine.models.get(0).closes.get() == 1);
        p.readGate = new CountDownLatch(1);
        CompletableFuture<Void> loading = CompletableFuture.runAsync(() -> {
            try {
                service.load("fm");      // returns once the model serves
            } catch (InferenceException e) {
                throw new java.util.concurrent.CompletionException(e);
            }
        });
        try {
            await("its plugin loading", () -> service.plugins().get(0).state() == ModelState.LOADING);
            for (int i = 0; i < 20; i++) {
                InferenceException e = refusal(request(null, 1));
                assertEquals(e.getMessage(), Reason.MODEL_NOT_READY, e.reason());
                assertTrue(e.getMessage(), e.getMessage().contains("loading") && e.getMessage().contains("retry"));
            }
        } finally {
            p.readGate.countDown();
        }
        loading.get(20, TimeUnit.SECONDS);
        assertEquals(1f, tag(null), 0f);
    }

    /** Occupies the model lifecycle thread until the latch is counted down (a blocked file read, a slow close). */
    private CountDownLatch occupyLifecycle() {
        CountDownLatch stuck = new CountDownLatch(1);
        service.lifecycle.execute(() -> {
            try {
                stuck.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        return stuck;
    }

    @Test(timeout = 60_000)
    public void aLoadOrUnloadWhileTheLifecycleThreadIsStuckIsAnswered503AndTakesEffectOnceItIsFree() throws Exception {
        Path state = tmp.newFolder("repository").toPath();
        start(null, state);
        service.pluginStarted(FakePluginSource.plugin(1, "fm", "1.0.0", FakeEngine.model(1)));
        awaitReady("1.0.0");
        service.controlWaitMs = 500;
        CountDownLatch stuck = occupyLifecycle();
        long t0 = System.nanoTime();
        try {
            service.unload("fm");               // before: waited for ever, holding the repository control lock
            fail("an unload the lifecycle thread cannot take is answered");
        } catch (InferenceException e) {
            assertEquals(e.getMessage(), Reason.OVERLOADED, e.reason());
            assertEquals(5, e.retryAfterSeconds());
            assertTrue(e.getMessage(), e.getMessage().contains("model 'fm': the unload was not taken within 500 ms"));
            assertTrue(e.getMessage(), e.getMessage().contains("stays queued"));
            // the index is Triton's POST (a GET is 405): the message must name what works
            assertTrue(e.getMessage(), e.getMessage().contains("POST /v2/repository/index shows the state"));
            assertTrue("names where the thread is busy: " + e.getMessage(), e.getMessage().contains("at ModelControlTest."));
        }
        assertTrue("answered after the bounded wait", System.nanoTime() - t0 < TimeUnit.SECONDS.toNanos(10));
        try {
            service.load("fm");                 // the control lock is free again: a second call is answered too
            fail("a load the lifecycle thread cannot take is answered");
        } catch (InferenceException e) {
            assertEquals(Reason.OVERLOADED, e.reason());
            assertTrue(e.getMessage(), e.getMessage().contains("the load was not taken"));
        }
        stuck.countDown();
        // the queued unload, then the queued load, run once the thread is free: fm serves again
        await("fm READY again after the queued unload and load: " + index(), () -> index().equals(
                List.of("fm 1.0.0 READY")) && engine.models.size() == 2);
        assertEquals(1f, tag(null), 0f);
    }

    @Test(timeout = 60_000)
    public void aSecondLoadOrUnloadQueuedBehindAStuckOneIsAnsweredWithinTheSameBound() throws Exception {
        Path state = tmp.newFolder("repository").toPath();
        start(null, state);
        service.pluginStarted(FakePluginSource.plugin(1, "fm", "1.0.0", FakeEngine.model(1)));
        awaitReady("1.0.0");
        service.controlWaitMs = 1_000;
        CountDownLatch stuck = occupyLifecycle();
        try {
            CompletableFuture<Void> first = CompletableFuture.runAsync(() -> {
                try {
                    service.unload("fm");
                } catch (InferenceException e) {
                    throw new java.util.concurrent.CompletionException(e);
                }
            });
            Thread.sleep(200);                  // the first holds the control lock, waiting for the stuck thread
            long t0 = System.nanoTime();
            try {
                service.load("fm");             // before: waited for the first's whole bound, then its own
                fail("a load queued behind a stuck unload is answered");
            } catch (InferenceException e) {
                long waitedMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
                assertEquals(e.getMessage(), Reason.OVERLOADED, e.reason());
                assertEquals(5, e.retryAfterSeconds());
                assertTrue("the second caller waits at most the same bound, waited " + waitedMs + " ms",
                        waitedMs < 1_500);
                assertTrue(e.getMessage(), e.getMessage().contains("model 'fm': the load was not taken within"
                        + " 1000 ms"));
                // the first still holds the lock ("the unload of model 'fm' is still in progress") or has just been
                // answered, leaving this one the rest of its bound to wait for the stuck thread itself
                assertTrue(e.getMessage(), e.getMessage().contains("the unload of model 'fm' is still in progress")
                        || e.getMessage().contains("the model lifecycle thread is busy"));
            }
            try {
                first.get(10, TimeUnit.SECONDS);
                fail("the first is answered 503 too");
            } catch (ExecutionException e) {
                assertEquals(Reason.OVERLOADED, ((InferenceException) e.getCause()).reason());
            }
        } finally {
            stuck.countDown();
        }
    }

    @Test
    public void anUnloadSurvivesARestart() throws Exception {
        Path state = tmp.newFolder("repository").toPath();
        start(null, state);
        service.pluginStarted(FakePluginSource.plugin(1, "fm", "1.0.0", FakeEngine.model(1)));
        awaitReady("1.0.0");
        service.unload("fm");
        service.deactivate();
        services.clear();

        start(null, state);     // the box restarts: the plugin is there, the model stays unloaded
        service.pluginStarted(FakePluginSource.plugin(1, "fm", "1.0.0", FakeEngine.model(1)));
        await("plugin refused as unloaded", () -> !service.plugins().isEmpty()
                && service.plugins().get(0).state() == ModelState.FAILED);
        assertTrue(service.plugins().get(0).error(), service.plugins().get(0).error().contains("unloaded by an operator"));
        assertEquals(Reason.MODEL_NOT_FOUND, refusal(request(null, 1)).reason());
        assertTrue(service.ready());
        service.load("fm");
        assertEquals(1f, tag(null), 0f);
    }

    @Test
    public void unknownModelsAreNotFound() throws Exception {
        start(null, null);
        for (String action : List.of("load", "unload")) {
            try {
                if (action.equals("load")) {
                    service.load("ghost");
                } else {
                    service.unload("ghost");
                }
                fail(action);
            } catch (InferenceException e) {
                assertEquals(Reason.MODEL_NOT_FOUND, e.reason());
                assertTrue(e.getMessage(), e.getMessage().contains("no installed plugin holds model 'ghost'"));
            }
        }
    }

    @Test
    public void aLoadThatFailsSaysWhy() throws Exception {
        start(null, null);
        service.pluginStarted(FakePluginSource.plugin(1, "fm", "1.0.0", "corrupt bytes"));
        await("failed", () -> !service.plugins().isEmpty() && service.plugins().get(0).state() == ModelState.FAILED);
        try {
            service.load("fm");
            fail();
        } catch (InferenceException e) {
            assertEquals(Reason.MODEL_NOT_READY, e.reason());
            assertTrue(e.getMessage(), e.getMessage().contains("did not become ready") && e.getMessage().contains("CORRUPT"));
        }
    }
}
