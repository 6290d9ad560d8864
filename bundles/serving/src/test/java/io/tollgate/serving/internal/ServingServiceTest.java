package io.tollgate.serving.internal;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertNotNull;
import static org.junit.Assert.assertThrows;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

import io.tollgate.metering.MeteringException;
import io.tollgate.metering.UsageEvent;
import io.tollgate.model.Tensor;
import io.tollgate.engine.spi.EngineException;
import io.tollgate.serving.InferenceException;
import io.tollgate.serving.InferenceException.Reason;
import io.tollgate.serving.InferenceRequest;
import io.tollgate.serving.InferenceResponse;
import io.tollgate.serving.ModelState;
import io.tollgate.serving.ModelStatus;
import io.tollgate.serving.PluginStatus;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import java.util.stream.Collectors;
import org.junit.After;
import org.junit.Test;

/**
 * The serving logic end to end without OSGi: plugin events as the tracker reports them, test-only
 * engines and models, real threads.
 */
public class ServingServiceTest {
    private final FakeEngine engine = new FakeEngine("fake");
    private final FakeUsageJournal journal = new FakeUsageJournal();
    private ServingService service;

    private ServingService start(int maxQueue, long drainMs, long graceMs, long engineWaitMs) {
        service = new ServingService(new ServingSettings(4, maxQueue, drainMs, graceMs, engineWaitMs, 50), journal);
        service.bindEntitlements(io.tollgate.serving.testing.InMemoryEntitlements.everything());
        return service;
    }

    private ServingService start() {
        ServingService s = start(16, 2_000, 10_000, 2_000);
        s.bindEngine(engine);
        return s;
    }

    @After
    public void stop() {
        if (service != null) {
            service.deactivate();
        }
    }

    // ---- helpers -------------------------------------------------------------------------------

    private static void await(String what, BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                fail("timed out waiting for: " + what);
            }
            Thread.sleep(5);
        }
    }

    private Optional<ModelStatus> status(String name, String version) {
        return service.models().stream().filter(s -> s.name().equals(name) && s.version().equals(version)).findFirst();
    }

    private ModelStatus awaitState(String name, String version, ModelState state) throws InterruptedException {
        await(name + " " + version + " " + state + " (models: " + service.models() + ", plugins: "
                + service.plugins() + ")", () -> status(name, version).map(s -> s.state() == state).orElse(false));
        return status(name, version).orElseThrow();
    }

    private PluginStatus plugin(long bundleId) {
        return service.plugins().stream().filter(p -> p.bundleId() == bundleId).findFirst()
                .orElseThrow(() -> new AssertionError("no plugin " + bundleId + " in " + service.plugins()));
    }

    private PluginStatus awaitPlugin(long bundleId, ModelState state) throws InterruptedException {
        await("plugin " + bundleId + " " + state + " (plugins: " + service.plugins() + ")",
                () -> service.plugins().stream().anyMatch(p -> p.bundleId() == bundleId && p.state() == state));
        return plugin(bundleId);
    }

    private static InferenceRequest request(String model, String version, int batch) {
        return new InferenceRequest(model, version, "req-" + batch,
                List.of(Tensor.ofFloats("image", new long[] {batch, 4}, new float[batch * 4])), List.of(), null, null);
    }

    private InferenceResponse infer(String model, String version) throws Exception {
        return service.infer(request(model, version, 1)).toCompletableFuture().get(10, TimeUnit.SECONDS);
    }

    private InferenceException refusal(InferenceRequest request) throws Exception {
        try {
            InferenceResponse r = service.infer(request).toCompletableFuture().get(10, TimeUnit.SECONDS);
            fail("expected a refusal, got " + r);
            return null;
        } catch (ExecutionException e) {
            assertTrue("not an InferenceException: " + e.getCause(), e.getCause() instanceof InferenceException);
            return (InferenceException) e.getCause();
        }
    }

    private static float tag(InferenceResponse response) {
        return response.outputs().get(0).toFloats()[0];
    }

    private static FakePluginSource fm(long bundleId, String version, float tag) {
        return FakePluginSource.plugin(bundleId, "fm", version, FakeEngine.model(tag));
    }

    // ---- loading -------------------------------------------------------------------------------

    @Test
    public void loadsAStartedPluginAndServesOffTheCallersThread() throws Exception {
        start();
        service.trackerOpened(Set.of());
        service.pluginStarted(fm(1, "1.0.0", 7));
        ModelStatus s = awaitState("fm", "1.0.0", ModelState.READY);
        assertTrue(s.serving());
        assertEquals("io.acme.fm", s.plugin());
        assertEquals("fake-cpu", s.accelerator());
        assertEquals(8, s.descriptor().maxBatchSize());
        assertEquals("[image:FP32[-1,4]]", TensorText.specs(s.descriptor().inputs()));   // taken from the model

        InferenceResponse r = service.infer(request("fm", null, 3)).toCompletableFuture().get(10, TimeUnit.SECONDS);
        assertEquals("fm", r.model());
        assertEquals("1.0.0", r.version());
        assertEquals("req-3", r.id());
        assertEquals("fake-cpu", r.accelerator());
        assertTrue(r.computeNanos() > 0);
        assertEquals(1, r.outputs().size());
        assertEquals("[3,2]", TensorText.shape(r.outputs().get(0).shape()));
        assertEquals(7f, tag(r), 0f);
        FakeModel m = engine.models.get(0);
        // issue 11: the warm-up ran on the loader thread before READY (10 runs per instance, 2 instances), then the
        // request on a serving worker
        int warmup = ModelConfigs.DEFAULT_WARMUP_COUNT * ModelConfigs.DEFAULT_CPU_INSTANCES;
        assertEquals(m.runThreads.toString(), warmup + 1, m.runThreads.size());
        assertTrue(m.runThreads.toString(), m.runThreads.subList(0, warmup).stream()
                .allMatch(t -> t.startsWith("tollgate-model-loader-")));
        assertTrue(m.runThreads.toString(), m.runThreads.get(warmup).startsWith("tollgate-infer-"));
        assertEquals("warm-up runs are not served requests", 1, service.model("fm", null).orElseThrow().served());
        assertEquals(ModelState.READY, plugin(1).state());
        assertEquals("fm", plugin(1).model());
        assertEquals(1, service.model("fm", null).orElseThrow().served());
    }

    // ---- fail safe: a plugin that never finishes loading (issue 8) ---------------------------------

    @Test
    public void aLoadOverTheTimeLimitFailsWithTheReasonAndSettlesReadiness() throws Exception {
        service = new ServingService(new ServingSettings(4, 16, 2_000, 10_000, 2_000, 50,
                ServingConfig.DEFAULT_MAX_MODEL_BYTES, 1_500), journal);
        service.bindEngine(engine);
        service.bindEntitlements(io.tollgate.serving.testing.InMemoryEntitlements.everything());
        assertEquals("plugins", service.name());
        assertTrue(service.required());
        assertEquals(Optional.of("the model plugin tracker has not opened yet (serving is starting)"),
                service.notReadyReason());
        CountDownLatch never = new CountDownLatch(1);
        engine.loadGate = never;                // the engine does not finish loading (a model that takes hours)
        service.pluginStarted(fm(1, "1.0.0", 1));
        service.trackerOpened(Set.of(1L));
        await("the readiness check names the plugin", () -> service.notReadyReason().orElse("").equals("model plugins"
                + " present at start-up are still loading: plugin io.acme.fm 1.0.0; each ends READY or FAILED within"
                + " load.timeout.ms (1500 ms): GET /admin/plugins"));
        PluginStatus failed = awaitPlugin(1, ModelState.FAILED);
        assertEquals("plugin io.acme.fm 1.0.0: loading did not finish within 1500 ms, the limit load.timeout.ms of"
                + " io.tollgate.serving; the plugin is FAILED (replace or restart it to try again, or raise"
                + " load.timeout.ms in conf/io.tollgate.serving.cfg for a model that is slow to load)", failed.error());
        await("ready once the slow plugin failed", service::ready);
        assertEquals(Optional.empty(), service.notReadyReason());
        assertEquals(ModelState.FAILED, status("fm", "1.0.0").orElseThrow().state());
        never.countDown();                      // the late model is discarded and closed, never served
        await("the late model closed", () -> !engine.models.isEmpty() && engine.models.get(0).closes.get() > 0);
        assertEquals(ModelState.FAILED, plugin(1).state());
    }

    @Test
    public void aModelFileOverTheSizeLimitIsRefusedWithTheReason() throws Exception {
        service = new ServingService(new ServingSettings(4, 16, 2_000, 10_000, 2_000, 50, 20, 60_000), journal);
        service.bindEngine(engine);
        service.bindEntitlements(io.tollgate.serving.testing.InMemoryEntitlements.everything());
        service.trackerOpened(Set.of());
        service.pluginStarted(fm(1, "1.0.0", 1));           // its model text is more than 20 bytes
        PluginStatus failed = awaitPlugin(1, ModelState.FAILED);
        assertTrue(failed.error(), failed.error().startsWith("plugin io.acme.fm 1.0.0: model file"
                + " TOLLGATE-INF/model.bin inflates to more than 20 bytes, the limit max.model.bytes of"
                + " io.tollgate.serving"));
        assertEquals("the engine never saw it", 0, engine.loads.get());
    }

    @Test
    public void limitsOutOfRangeAreRefusedNamingTheKey() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new ServingSettings(4, 16, 2_000, 10_000, 2_000, 50, 0, 60_000));
        assertTrue(e.getMessage(), e.getMessage().contains("max.model.bytes is 0"));
        e = assertThrows(IllegalArgumentException.class,
                () -> new ServingSettings(4, 16, 2_000, 10_000, 2_000, 50, 1024, 0));
        assertTrue(e.getMessage(), e.getMessage().contains("load.timeout.ms is 0"));
    }

    /** A plugin with its own symbolic name declaring model fm (the reviewer's "evil.impostor" jar). */
    private static FakePluginSource impostor(long bundleId, String version, float tag) {
        FakePluginSource p = new FakePluginSource(bundleId, "evil.impostor", version);
        FakePluginSource genuine = fm(bundleId, version, tag);
        p.declaredModel = genuine.declaredModel;
        p.declaredModelVersion = genuine.declaredModelVersion;
        p.entries.putAll(genuine.entries);
        return p;
    }

    @Test
    public void aPluginWithAnotherSymbolicNameCannotTakeOverAServedModel() throws Exception {
        start();
        service.trackerOpened(Set.of());
        service.pluginStarted(fm(1, "1.0.0", 1));
        awaitState("fm", "1.0.0", ModelState.READY);
        service.pluginStarted(impostor(2, "9.0.0", 9));
        PluginStatus refused = awaitPlugin(2, ModelState.FAILED);
        assertEquals("plugin evil.impostor 9.0.0: model 'fm' is already served by plugin io.acme.fm; a model's"
                + " versions must come from the plugin that owns its name", refused.error());
        assertEquals(Optional.empty(), status("fm", "9.0.0"));
        assertEquals("the genuine plugin still answers", 1f, tag(infer("fm", null)), 0f);
        assertEquals("io.acme.fm", journal.events().get(0).plugin());

        service.pluginStarted(fm(3, "1.1.0", 11));                 // the owner's side-by-side version still loads
        awaitState("fm", "1.1.0", ModelState.READY);
        assertEquals(11f, tag(infer("fm", null)), 0f);

        service.pluginStopped(1);                                  // the owner uninstalled completely: the name is free
        service.pluginUninstalled(1);
        service.pluginStopped(3);
        service.pluginUninstalled(3);
        await("fm unloaded", () -> service.models().isEmpty());
        service.pluginStopped(2);
        service.pluginStarted(impostor(2, "9.0.0", 9));
        awaitState("fm", "9.0.0", ModelState.READY);
        assertEquals(9f, tag(infer("fm", null)), 0f);
    }

    @Test
    public void isReadyOnlyOnceEveryPluginPresentAtStartHasBeenProcessed() throws Exception {
        start();
        engine.loadGate = new CountDownLatch(1);
        FakePluginSource good = fm(1, "1.0.0", 1);
        FakePluginSource broken = new FakePluginSource(2, "io.acme.broken", "1.0.0");
        FakePluginSource stopped = fm(3, "1.0.0", 1);
        service.pluginStarted(good);
        service.pluginStarted(broken);
        service.pluginResolved(stopped);
        assertFalse("ready before the tracker opened", service.ready());
        service.trackerOpened(Set.of(1L, 2L));
        awaitPlugin(2, ModelState.FAILED);
        Thread.sleep(100);
        assertFalse("ready while fm still loads", service.ready());
        engine.loadGate.countDown();
        await("ready", service::ready);
        assertEquals(ModelState.UNLOADED, plugin(3).state());
    }

    @Test
    public void waitsForAnEngineThatArrivesLater() throws Exception {
        start(16, 2_000, 10_000, 5_000);
        service.pluginStarted(fm(1, "1.0.0", 1));
        awaitState("fm", "1.0.0", ModelState.LOADING);
        Thread.sleep(200);
        assertEquals("loaded without an engine", ModelState.LOADING, status("fm", "1.0.0").orElseThrow().state());
        assertEquals(Reason.MODEL_NOT_READY, refusal(request("fm", null, 1)).reason());
        service.bindEngine(engine);
        awaitState("fm", "1.0.0", ModelState.READY);
        assertEquals(1f, tag(infer("fm", null)), 0f);
    }

    @Test
    public void refusesAPluginWhoseEngineNeverAppearsAndLoadsItWhenTheEngineComes() throws Exception {
        start(16, 2_000, 10_000, 200);
        service.bindEngine(engine);
        FakePluginSource p = FakePluginSource.plugin(1, "fm", "1.0.0", FakeEngine.model(1));
        p.put("TOLLGATE-INF/model.json", "{\"name\":\"fm\",\"version\":\"1.0.0\",\"platform\":\"onnx\","
                + "\"engine\":\"tensorrt\",\"file\":\"model.bin\"}");
        service.pluginStarted(p);
        ModelStatus s = awaitState("fm", "1.0.0", ModelState.FAILED);
        String expected = "plugin io.acme.fm 1.0.0: engine 'tensorrt' is not available: no InferenceEngine service"
                + " named 'tensorrt' appeared within 200 ms (engines present: [fake]); install the engine bundle, or"
                + " fix field 'engine' of TOLLGATE-INF/model.json";
        assertEquals(expected, s.error());
        // the plugin's error is set before its model is FAILED (it used to follow a moment later: CI saw it empty)
        assertEquals(expected, plugin(1).error());
        InferenceException e = refusal(request("fm", null, 1));
        assertEquals(Reason.MODEL_NOT_READY, e.reason());
        assertEquals("model 'fm' has no ready version: 1.0.0 failed: " + expected, e.getMessage());

        FakeEngine tensorrt = new FakeEngine("tensorrt");
        service.bindEngine(tensorrt);
        awaitState("fm", "1.0.0", ModelState.READY);
        assertEquals(1, tensorrt.loads.get());
        assertEquals(1, service.models().size());
    }

    /**
     * Checked at every change of the repository, on the changing thread (what a reader of {@code /v2/repository/index}
     * and {@code /admin/plugins} could see at that instant): once a version is FAILED, its plugin already says why,
     * whatever failed it: its model did not load, its engine went away, its license was revoked.
     */
    @Test
    public void aFailedModelsPluginAlreadyGivesTheReasonWhenTheModelShowsFailed() throws Exception {
        start();
        List<String> seen = pluginReasonsAtEachFailure();
        service.pluginStarted(FakePluginSource.plugin(1, "fm", "1.0.0", "corrupt bytes"));
        ModelStatus s = awaitState("fm", "1.0.0", ModelState.FAILED);
        assertEverySeenPair(seen, s.error() + " | plugin: " + s.error());
    }

    @Test
    public void aPluginGivesTheReasonWhenItsEngineGoesAwayBeforeItsModelShowsFailed() throws Exception {
        start();
        service.pluginStarted(fm(1, "1.0.0", 1));
        awaitState("fm", "1.0.0", ModelState.READY);
        List<String> seen = pluginReasonsAtEachFailure();
        service.unbindEngine(engine);
        ModelStatus s = awaitState("fm", "1.0.0", ModelState.FAILED);
        assertEverySeenPair(seen, s.error() + " | plugin: plugin io.acme.fm 1.0.0: " + s.error());
    }

    @Test
    public void aPluginGivesTheReasonWhenItsLicenseIsRevokedBeforeItsModelShowsFailed() throws Exception {
        start();
        io.tollgate.serving.testing.InMemoryEntitlements licenses =
                io.tollgate.serving.testing.InMemoryEntitlements.everything();
        service.bindEntitlements(licenses);
        service.pluginStarted(fm(1, "1.0.0", 1));
        awaitState("fm", "1.0.0", ModelState.READY);
        List<String> seen = pluginReasonsAtEachFailure();
        licenses.revoke("fm", "1.0.0");
        ModelStatus s = awaitState("fm", "1.0.0", ModelState.FAILED);
        assertTrue(s.error(), s.error().contains("revoked"));
        assertEverySeenPair(seen, s.error() + " | plugin: plugin io.acme.fm 1.0.0: " + s.error());
    }

    /** At least one pair was seen, and every one is {@code expected}. */
    private static void assertEverySeenPair(List<String> seen, String expected) throws Exception {
        // the check runs on the changing thread just after the state changed: it may not have run yet
        await("the check saw the FAILED version", () -> !seen.isEmpty());
        for (String pair : List.copyOf(seen)) {
            assertEquals(expected, pair);
        }
    }

    /** From now on, at each repository change: "model error | plugin: plugin 1's error" for each FAILED fm version. */
    private List<String> pluginReasonsAtEachFailure() {
        List<String> seen = java.util.Collections.synchronizedList(new ArrayList<>());
        service.repository().onChange(() -> {
            try {
                for (ModelStatus m : service.models()) {
                    if (m.name().equals("fm") && m.state() == ModelState.FAILED) {
                        seen.add(m.error() + " | plugin: " + service.plugins().stream().filter(p -> p.bundleId() == 1)
                                .map(PluginStatus::error).findFirst().orElse("(none)"));
                    }
                }
            } catch (RuntimeException e) {
                seen.add("the check failed: " + e);
            }
        });
        return seen;
    }

    @Test
    public void refusesACorruptModelWithTheEnginesReason() throws Exception {
        start();
        service.pluginStarted(FakePluginSource.plugin(1, "fm", "1.0.0", "corrupt bytes"));
        ModelStatus s = awaitState("fm", "1.0.0", ModelState.FAILED);
        assertEquals("plugin io.acme.fm 1.0.0: TOLLGATE-INF/model.bin: engine 'fake' cannot load the model"
                + " (CORRUPT_MODEL): protobuf parsing failed", s.error());
        assertEquals(ModelState.FAILED, plugin(1).state());
    }

    @Test
    public void refusesAModelWhoseSignatureContradictsTheDescriptorAndClosesIt() throws Exception {
        start();
        FakePluginSource p = FakePluginSource.plugin(1, "fm", "1.0.0", FakeEngine.model(1));
        p.put("TOLLGATE-INF/model.json", "{\"name\":\"fm\",\"version\":\"1.0.0\",\"platform\":\"fake\","
                + "\"file\":\"model.bin\",\"inputs\":[{\"name\":\"image\",\"datatype\":\"FP32\",\"shape\":[-1,3]}]}");
        service.pluginStarted(p);
        ModelStatus s = awaitState("fm", "1.0.0", ModelState.FAILED);
        assertEquals("plugin io.acme.fm 1.0.0: input 'image' is declared as FP32[-1,3] in TOLLGATE-INF/model.json but"
                + " the model file has FP32[-1,4]; fix the descriptor (or omit 'inputs' to take them from the model)",
                s.error());
        await("the refused model closed", () -> engine.models.get(0).closes.get() == 1);
    }

    @Test
    public void refusesAPluginWithoutItsModelFileOrWithABadDescriptor() throws Exception {
        start();
        service.pluginStarted(fm(1, "1.0.0", 1).remove("TOLLGATE-INF/model.bin"));
        FakePluginSource bad = fm(2, "2.0.0", 1);
        bad.put("TOLLGATE-INF/model.json", "{\"name\":\"fm\",\"version\":\"2.0.0\",\"platform\":\"fake\","
                + "\"file\":\"model.bin\",\"inputs\":[{\"name\":\"image\",\"datatype\":\"FP33\",\"shape\":[-1,4]}]}");
        service.pluginStarted(bad);
        assertEquals("plugin io.acme.fm 1.0.0: model file TOLLGATE-INF/model.bin (field 'file' of"
                + " TOLLGATE-INF/model.json) is missing from the plugin", awaitPlugin(1, ModelState.FAILED).error());
        assertTrue(awaitPlugin(2, ModelState.FAILED).error().startsWith("plugin io.acme.fm 2.0.0:"
                + " TOLLGATE-INF/model.json: field 'inputs[0].datatype' is 'FP33'; expected one of [BOOL,"));
        assertTrue("a plugin whose descriptor failed has no model version", service.models().isEmpty());
        assertEquals("fm", plugin(2).model());           // known from the capability
        assertEquals(0, engine.loads.get());
    }

    @Test
    public void aBrokenPluginDoesNotAffectOtherModels() throws Exception {
        start();
        service.pluginStarted(FakePluginSource.plugin(1, "good", "1.0.0", FakeEngine.model(3)));
        service.pluginStarted(FakePluginSource.plugin(2, "bad", "1.0.0", "corrupt"));
        awaitState("good", "1.0.0", ModelState.READY);
        awaitState("bad", "1.0.0", ModelState.FAILED);
        assertEquals(3f, tag(infer("good", null)), 0f);
        assertEquals(Reason.MODEL_NOT_READY, refusal(request("bad", null, 1)).reason());
    }

    // ---- requests ------------------------------------------------------------------------------

    @Test
    public void refusesBadRequestsWithMessagesThatSayWhatIsWrong() throws Exception {
        start();
        service.pluginStarted(fm(1, "1.0.0", 1));
        awaitState("fm", "1.0.0", ModelState.READY);
        InferenceException e = refusal(new InferenceRequest("fm", null, "bad-input", List.of(
                Tensor.ofFloats("image", new long[] {1, 3}, new float[3])), List.of(), null, null));
        assertEquals(Reason.BAD_REQUEST, e.reason());
        assertEquals("input 'image' has shape [1,3] but the model expects [-1,4]", e.getMessage());
        e = refusal(request("fm", null, 9));
        assertEquals("input 'image' has a batch of 9 but model 'fm' 1.0.0 takes at most 8 per request; split the"
                + " request", e.getMessage());
        e = refusal(new InferenceRequest("fm", null, "bad-input", request("fm", null, 1).inputs(), List.of("logits"), null, null));
        assertEquals("model 'fm' 1.0.0 has no output 'logits'; its outputs are [probs]", e.getMessage());
        e = refusal(request("mnist", null, 1));
        assertEquals(Reason.MODEL_NOT_FOUND, e.reason());
        assertEquals("model 'mnist' is not installed; installed: [fm]", e.getMessage());
        e = refusal(request("fm", "2.0.0", 1));
        assertEquals("model 'fm' has no version '2.0.0'; installed versions: [1.0.0]", e.getMessage());
        assertEquals("a refused request must not stay in flight", 0, service.model("fm", null).orElseThrow().inFlight());
    }

    @Test
    public void refusesRequestsBeyondTheQueueAndServesTheAdmittedOnes() throws Exception {
        start(4, 2_000, 10_000, 2_000);
        service.bindEngine(engine);
        service.pluginStarted(fm(1, "1.0.0", 1));
        awaitState("fm", "1.0.0", ModelState.READY);
        FakeModel m = engine.models.get(0);
        m.runGate = new CountDownLatch(1);
        List<CompletableFuture<InferenceResponse>> admitted = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            admitted.add(service.infer(request("fm", null, 1)).toCompletableFuture());
        }
        InferenceException e = refusal(request("fm", null, 1));
        assertEquals(Reason.OVERLOADED, e.reason());
        assertEquals("model fm has 4 requests queued; retry later", e.getMessage());
        m.runGate.countDown();
        for (CompletableFuture<InferenceResponse> f : admitted) {
            assertEquals(1f, tag(f.get(10, TimeUnit.SECONDS)), 0f);
        }
        assertEquals(1f, tag(infer("fm", null)), 0f);
    }

    @Test
    public void reportsAnEngineFailureDuringARun() throws Exception {
        start();
        service.pluginStarted(fm(1, "1.0.0", 1));
        awaitState("fm", "1.0.0", ModelState.READY);
        engine.models.get(0).failRuns = "out of memory";
        InferenceException e = refusal(request("fm", null, 1));
        assertEquals(Reason.ENGINE_FAILURE, e.reason());
        assertEquals("model 'fm' 1.0.0 failed to run (RUN_FAILED): out of memory", e.getMessage());
        assertEquals(0, service.model("fm", null).orElseThrow().inFlight());
    }

    @Test
    public void anInputTheEngineCannotTakeIsTheClientsMistakeNotAnEngineFailure() throws Exception {
        start();
        service.pluginStarted(fm(1, "1.0.0", 1));
        awaitState("fm", "1.0.0", ModelState.READY);
        engine.models.get(0).failReason = EngineException.Reason.INVALID_INPUT;
        engine.models.get(0).failRuns = "input 'text' of model fm: element 1 holds a NUL byte";
        InferenceException e = refusal(request("fm", null, 1));
        assertEquals(Reason.BAD_REQUEST, e.reason());
        assertEquals("input 'text' of model fm: element 1 holds a NUL byte", e.getMessage());
        assertEquals(0, service.model("fm", null).orElseThrow().inFlight());
        assertEquals("the model stays READY", ModelState.READY, service.model("fm", null).orElseThrow().state());
    }

    @Test
    public void aMisspeltKeyStopsServingWithTheRightSpelling() {
        ServingConfig defaults = (ServingConfig) java.lang.reflect.Proxy.newProxyInstance(
                ServingConfig.class.getClassLoader(), new Class<?>[] {ServingConfig.class},
                (proxy, method, args) -> method.getName().equals("annotationType") ? ServingConfig.class
                        : method.getDefaultValue());
        try {
            new ServingService(journal, null, null, defaults, java.util.Map.of("max.queue.per.modle", 4));
            fail("a misspelt key must stop serving, not leave the default queue in place");
        } catch (IllegalArgumentException e) {
            assertTrue(e.getMessage(), e.getMessage().contains("configuration io.tollgate.serving has an unknown key "
                    + "'max.queue.per.modle' (did you mean 'max.queue.per.model'?)"));
        }
    }

    // ---- metering ------------------------------------------------------------------------------

    private static InferenceRequest requestWithId(String id, String tenant, int batch) {
        return new InferenceRequest("fm", null, id,
                List.of(Tensor.ofFloats("image", new long[] {batch, 4}, new float[batch * 4])), List.of(), tenant, null);
    }

    @Test
    public void appendsOneUsageRecordPerServedRequestBeforeTheAnswerIsReleased() throws Exception {
        start();
        service.pluginStarted(fm(1, "1.0.0", 1));
        awaitState("fm", "1.0.0", ModelState.READY);

        journal.appendGate = new CountDownLatch(1);
        journal.appendStarted = new CountDownLatch(1);
        CompletableFuture<InferenceResponse> pending = service.infer(requestWithId("req-a", "acme", 3)).toCompletableFuture();
        assertTrue("the journal was not called", journal.appendStarted.await(5, TimeUnit.SECONDS));
        Thread.sleep(100);
        assertFalse("the answer was released before its usage record was written", pending.isDone());
        journal.appendGate.countDown();
        InferenceResponse r = pending.get(10, TimeUnit.SECONDS);
        journal.appendGate = null;

        List<UsageEvent> events = journal.events();
        assertEquals(1, events.size());
        UsageEvent e = events.get(0);
        assertEquals("acme", e.tenant());
        assertEquals("fm", e.model());
        assertEquals("1.0.0", e.modelVersion());
        assertEquals("io.acme.fm", e.plugin());
        assertEquals("1.0.0", e.pluginVersion());
        assertEquals("the license that entitled it", "free-fm", e.licenseId());
        assertEquals("inference", e.meter());
        assertEquals("items in the batch dimension", 3, e.quantity());
        assertEquals(r.computeNanos(), e.computeNanos());
        assertTrue(e.computeNanos() > 0);
        assertEquals("fake-cpu", e.accelerator());
        assertEquals("req-a", e.requestId());
        assertEquals("OK", e.status());

        service.infer(requestWithId("req-b", null, 1)).toCompletableFuture().get(10, TimeUnit.SECONDS);
        UsageEvent b = journal.events().get(1);
        assertEquals("default", b.tenant());
        assertEquals(1, b.quantity());
        assertEquals("req-b", b.requestId());
        assertEquals(2, service.model("fm", null).orElseThrow().served());
    }

    @Test
    public void inventsNoIdOfItsOwn() throws Exception {
        start();
        service.pluginStarted(fm(1, "1.0.0", 1));
        awaitState("fm", "1.0.0", ModelState.READY);
        List<String> sent = List.of("line-7-cam-2", "019a2b3c-4d5e-7f01-8a2b-3c4d5e6f7a8b", "line-7-cam-2");
        for (String id : sent) {
            InferenceResponse r = service.infer(requestWithId(id, null, 1)).toCompletableFuture().get(10, TimeUnit.SECONDS);
            assertEquals("the response carries the request's id", id, r.id());
        }
        assertEquals("each record carries its request's id, as given (a repeated id is the client's business)", sent,
                journal.events().stream().map(UsageEvent::requestId).collect(Collectors.toList()));
    }

    @Test
    public void aLicenseOfAnotherMeterIsRefusedEvenWithoutAQuota() throws Exception {
        start();
        FakePluginSource p = fm(1, "1.0.0", 1);
        p.put("TOLLGATE-INF/model.json", "{\"name\":\"fm\",\"version\":\"1.0.0\",\"platform\":\"fake\","
                + "\"file\":\"model.bin\",\"max_batch_size\":0,\"meter\":\"images\"}");
        service.pluginStarted(p);   // everything(): an unlimited license in meter 'inference'
        awaitState("fm", "1.0.0", ModelState.READY);
        try {
            service.infer(requestWithId("r", null, 1)).toCompletableFuture().get(10, TimeUnit.SECONDS);
            org.junit.Assert.fail("served under a license of another meter");
        } catch (java.util.concurrent.ExecutionException e) {
            InferenceException cause = (InferenceException) e.getCause();
            assertEquals(InferenceException.Reason.NOT_LICENSED, cause.reason());
            assertEquals("model 'fm' 1.0.0 is not licensed on this box: license free-fm counts meter 'inference' but"
                    + " the model bills meter 'images'; install a license for meter 'images'", cause.getMessage());
        }
        assertTrue("nothing metered", journal.events().isEmpty());
    }

    @Test
    public void billsOneItemWhenTheModelDoesNotBatch() throws Exception {
        start();
        FakePluginSource p = fm(1, "1.0.0", 1);
        p.put("TOLLGATE-INF/model.json", "{\"name\":\"fm\",\"version\":\"1.0.0\",\"platform\":\"fake\","
                + "\"file\":\"model.bin\",\"max_batch_size\":0,\"meter\":\"frames\"}");
        // a license counts the meter its model bills (another meter is refused: LicensedServingTest)
        io.tollgate.serving.testing.InMemoryEntitlements licenses =
                io.tollgate.serving.testing.InMemoryEntitlements.everything();
        licenses.add(new io.tollgate.licensing.License("frames-fm", "Test Vendor", "ab".repeat(32), "acme", "", "",
                "fm", "[0.0.0,999.0.0)", java.time.Instant.now().minusSeconds(3600), java.time.Instant.MAX, "frames",
                io.tollgate.licensing.License.UNLIMITED, io.tollgate.licensing.License.UNLIMITED, false,
                java.time.Instant.now()));
        service.bindEntitlements(licenses);
        service.pluginStarted(p);
        awaitState("fm", "1.0.0", ModelState.READY);
        service.infer(requestWithId("r", null, 5)).toCompletableFuture().get(10, TimeUnit.SECONDS);
        UsageEvent e = journal.events().get(0);
        assertEquals("a model without a batch dimension serves one item per request", 1, e.quantity());
        assertEquals("frames", e.meter());
    }

    @Test
    public void refusesARequestWhoseRecordCannotBeWrittenAndServesAgainOnceItCan() throws Exception {
        start();
        service.pluginStarted(fm(1, "1.0.0", 1));
        awaitState("fm", "1.0.0", ModelState.READY);
        journal.failWith = new MeteringException(MeteringException.Reason.DISK_BUDGET_EXCEEDED,
                "usage journal is at its disk budget (1048600 of 1048576 bytes); free space or raise"
                        + " disk.budget.bytes in configuration io.tollgate.metering.journal");
        InferenceException e = refusal(requestWithId("req-x", null, 2));
        assertEquals(Reason.METERING_UNAVAILABLE, e.reason());
        assertEquals("metering unavailable: usage journal is at its disk budget (1048600 of 1048576 bytes); free"
                + " space or raise disk.budget.bytes in configuration io.tollgate.metering.journal; the request was"
                + " not served", e.getMessage());
        assertEquals("the model ran (the record comes after the run; the warm-up's runs before)",
                1 + ModelConfigs.DEFAULT_WARMUP_COUNT * ModelConfigs.DEFAULT_CPU_INSTANCES,
                engine.models.get(0).runs.get());
        ModelStatus s = service.model("fm", null).orElseThrow();
        assertEquals(0, s.inFlight());
        assertEquals("an unmetered request must not count as served", 0, s.served());
        assertTrue(journal.events().isEmpty());

        journal.failWith = new MeteringException(MeteringException.Reason.CLOSED, "the usage journal is closed");
        assertEquals("metering unavailable: the usage journal is closed; the request was not served",
                refusal(requestWithId("req-y", null, 1)).getMessage());

        journal.failWith = null;
        assertNotNull(service.infer(requestWithId("req-z", null, 1)).toCompletableFuture().get(10, TimeUnit.SECONDS));
        assertEquals(List.of("req-z"), journal.events().stream().map(UsageEvent::requestId).collect(Collectors.toList()));
    }

    /** Issue 8: a SIGBUS on a full disk surfaces as an InternalError; the request gets 503 and the thread lives on. */
    @Test
    public void aFaultWritingTheRecordIsARefusalAndServingGoesOn() throws Exception {
        start();
        service.pluginStarted(fm(1, "1.0.0", 1));
        awaitState("fm", "1.0.0", ModelState.READY);
        journal.faultOnce = new InternalError("a fault occurred in a recent unsafe memory access operation in compiled"
                + " Java code");
        InferenceException e = refusal(requestWithId("req-f", null, 1));
        assertEquals(Reason.METERING_UNAVAILABLE, e.reason());
        assertEquals("metering unavailable: java.lang.InternalError: a fault occurred in a recent unsafe memory access"
                + " operation in compiled Java code; the request was not served", e.getMessage());
        for (int i = 0; i < 4; i++) {   // every serving thread still answers
            assertNotNull(service.infer(requestWithId("req-ok-" + i, null, 1)).toCompletableFuture()
                    .get(10, TimeUnit.SECONDS));
        }
        assertEquals(4, journal.events().size());
    }

    @Test
    public void failedRequestsWriteNoRecord() throws Exception {
        start();
        service.pluginStarted(fm(1, "1.0.0", 1));
        awaitState("fm", "1.0.0", ModelState.READY);
        assertEquals(Reason.BAD_REQUEST, refusal(new InferenceRequest("fm", null, "bad-shape", List.of(
                Tensor.ofFloats("image", new long[] {1, 3}, new float[3])), List.of(), null, null)).reason());
        assertEquals(Reason.BAD_REQUEST, refusal(requestWithId("too-big", null, 9)).reason());
        assertEquals(Reason.MODEL_NOT_FOUND, refusal(new InferenceRequest("nope", null, "unknown", List.of(),
                List.of(), null, null)).reason());
        engine.models.get(0).failRuns = "out of memory";
        assertEquals(Reason.ENGINE_FAILURE, refusal(requestWithId("engine-fails", null, 1)).reason());
        assertTrue("failed requests were metered: " + journal.events(), journal.events().isEmpty());
    }

    // ---- versions, upgrades, unloading ---------------------------------------------------------

    @Test
    public void servesTwoVersionsFromTwoPluginsSideBySide() throws Exception {
        start();
        service.pluginStarted(fm(1, "1.0.0", 10));
        service.pluginStarted(fm(2, "1.1.0", 11));
        awaitState("fm", "1.0.0", ModelState.READY);
        awaitState("fm", "1.1.0", ModelState.READY);
        assertEquals(11f, tag(infer("fm", null)), 0f);
        assertEquals(10f, tag(infer("fm", "1.0.0")), 0f);
        assertEquals(11f, tag(infer("fm", "1.1.0")), 0f);
        assertEquals("1.1.0", service.model("fm", null).orElseThrow().version());
        assertTrue(service.model("fm", null).orElseThrow().serving());
        assertFalse(service.model("fm", "1.0.0").orElseThrow().serving());

        service.pluginStopped(2);
        service.pluginUninstalled(2);
        awaitState("fm", "1.0.0", ModelState.READY);
        await("1.1.0 unloaded", () -> status("fm", "1.1.0").isEmpty());
        assertEquals(10f, tag(infer("fm", null)), 0f);
        assertEquals(1, engine.models.stream().mapToInt(m -> m.closes.get()).sum());
    }

    @Test
    public void upgradeSwitchesTrafficWithoutAFailedRequest() throws Exception {
        start();
        FakePluginSource v1 = fm(1, "1.0.0", 1);
        service.pluginStarted(v1);
        awaitState("fm", "1.0.0", ModelState.READY);
        FakeModel oldModel = engine.models.get(0);

        AtomicBoolean running = new AtomicBoolean(true);
        ConcurrentLinkedQueue<Throwable> failures = new ConcurrentLinkedQueue<>();
        ConcurrentLinkedQueue<String> versions = new ConcurrentLinkedQueue<>();
        AtomicInteger served = new AtomicInteger();
        List<Thread> callers = new ArrayList<>();
        for (int i = 0; i < 8; i++) {
            Thread t = new Thread(() -> {
                while (running.get()) {
                    try {
                        InferenceResponse r = infer("fm", null);
                        if (tag(r) != (r.version().equals("1.0.0") ? 1f : 2f)) {
                            failures.add(new AssertionError("version " + r.version() + " answered with tag " + tag(r)));
                        }
                        versions.add(r.version());
                        served.incrementAndGet();
                    } catch (Throwable e) {
                        failures.add(e);
                    }
                }
            }, "caller-" + i);
            callers.add(t);
            t.start();
        }
        try {
            Thread.sleep(100);
            // what fileinstall's bundle.update(newJar) produces: STOPPED, UNRESOLVED, UPDATED, RESOLVED, STARTED
            engine.loadGate = new CountDownLatch(1);
            service.pluginStopped(1);
            FakePluginSource v2 = fm(1, "1.1.0", 2);
            service.pluginInstalled(v2);
            service.pluginInstalled(v2);
            service.pluginResolved(v2);
            service.pluginStarted(v2);
            awaitState("fm", "1.1.0", ModelState.LOADING);
            Thread.sleep(200);             // the new revision is loading: the old one keeps serving
            assertEquals(ModelState.LOADING, status("fm", "1.1.0").orElseThrow().state());
            assertEquals(ModelState.READY, status("fm", "1.0.0").orElseThrow().state());
            engine.loadGate.countDown();
            awaitState("fm", "1.1.0", ModelState.READY);
            await("the old version drained and closed", () -> oldModel.closes.get() == 1);
            int before = served.get();
            await("requests served by the new version", () -> served.get() > before + 50);
        } finally {
            running.set(false);
            for (Thread t : callers) {
                t.join(10_000);
            }
        }
        assertTrue("failed requests during the upgrade: " + failures, failures.isEmpty());
        assertEquals("one usage record per served request", served.get(), journal.events().size());
        assertTrue(versions.contains("1.0.0"));
        assertTrue(versions.contains("1.1.0"));
        assertEquals(1, oldModel.closes.get());
        assertEquals("the old model ran after it was closed", 0, oldModel.runsAfterClose.get());
        assertEquals(List.of("1.1.0"), service.models().stream().map(ModelStatus::version).collect(Collectors.toList()));
        assertEquals(0, v1.resolveAttempts.get());
        assertEquals(ModelState.READY, plugin(1).state());
        assertEquals("1.1.0", plugin(1).modelVersion());
    }

    @Test
    public void aFailedUpgradeKeepsTheOldVersionServing() throws Exception {
        start(16, 2_000, 200, 2_000);
        service.bindEngine(engine);
        service.pluginStarted(fm(1, "1.0.0", 1));
        awaitState("fm", "1.0.0", ModelState.READY);
        FakeModel oldModel = engine.models.get(0);

        service.pluginStopped(1);
        service.pluginStarted(FakePluginSource.plugin(1, "fm", "1.1.0", "corrupt"));
        awaitState("fm", "1.1.0", ModelState.FAILED);
        Thread.sleep(400);                  // twice the upgrade grace
        InferenceResponse r = infer("fm", null);
        assertEquals("1.0.0", r.version());
        assertEquals(1f, tag(r), 0f);
        assertEquals(0, oldModel.closes.get());
        assertTrue(status("fm", "1.0.0").orElseThrow().serving());
        PluginStatus p = plugin(1);
        assertEquals(ModelState.FAILED, p.state());
        assertEquals("plugin io.acme.fm 1.1.0: TOLLGATE-INF/model.bin: engine 'fake' cannot load the model"
                + " (CORRUPT_MODEL): protobuf parsing failed", p.error());

        service.pluginStopped(1);
        service.pluginUninstalled(1);
        await("the old version closed after uninstall", () -> oldModel.closes.get() == 1);
        assertEquals(Reason.MODEL_NOT_FOUND, refusal(request("fm", null, 1)).reason());
        assertTrue(service.plugins().isEmpty());
    }

    @Test
    public void anUnresolvableNewRevisionKeepsTheOldVersionServing() throws Exception {
        start(16, 2_000, 200, 2_000);
        service.bindEngine(engine);
        service.pluginStarted(fm(1, "1.0.0", 1));
        awaitState("fm", "1.0.0", ModelState.READY);
        service.pluginStopped(1);
        FakePluginSource v2 = fm(1, "1.1.0", 2);
        v2.resolveProblem = Optional.of("nothing installed provides tollgate.engine (tollgate.engine=tensorrt)");
        service.pluginInstalled(v2);
        awaitPlugin(1, ModelState.FAILED);
        Thread.sleep(400);
        assertEquals("1.0.0", infer("fm", null).version());
        assertEquals("plugin io.acme.fm 1.1.0 cannot be resolved: nothing installed provides tollgate.engine"
                + " (tollgate.engine=tensorrt)", plugin(1).error());
    }

    @Test
    public void aStoppedPluginServesThroughTheGraceThenUnloads() throws Exception {
        start(16, 2_000, 300, 2_000);
        service.bindEngine(engine);
        service.pluginStarted(fm(1, "1.0.0", 1));
        awaitState("fm", "1.0.0", ModelState.READY);
        FakeModel m = engine.models.get(0);
        long stopped = System.nanoTime();
        service.pluginStopped(1);
        assertEquals(1f, tag(infer("fm", null)), 0f);
        assertEquals(ModelState.READY, plugin(1).state());
        await("unloaded after the grace", () -> m.closes.get() == 1);
        long waited = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - stopped);
        assertTrue("unloaded after " + waited + " ms, before the 300 ms grace", waited >= 290);
        assertEquals(Reason.MODEL_NOT_FOUND, refusal(request("fm", null, 1)).reason());
        assertEquals(ModelState.UNLOADED, plugin(1).state());
    }

    @Test
    public void aRestartOfTheSameRevisionKeepsTheLoadedModel() throws Exception {
        start(16, 2_000, 300, 2_000);
        service.bindEngine(engine);
        FakePluginSource p = fm(1, "1.0.0", 1);
        service.pluginStarted(p);
        awaitState("fm", "1.0.0", ModelState.READY);
        service.pluginStopped(1);
        service.pluginResolved(p);
        service.pluginStarted(p);
        Thread.sleep(500);
        assertEquals(1f, tag(infer("fm", null)), 0f);
        assertEquals(1, engine.loads.get());
        assertEquals(0, engine.models.get(0).closes.get());
    }

    @Test
    public void uninstallDrainsAtOnceAndLetsRequestsInFlightFinish() throws Exception {
        start();
        service.pluginStarted(fm(1, "1.0.0", 1));
        awaitState("fm", "1.0.0", ModelState.READY);
        FakeModel m = engine.models.get(0);
        m.runGate = new CountDownLatch(1);
        m.runStarted = new CountDownLatch(1);
        CompletableFuture<InferenceResponse> inFlight = service.infer(request("fm", null, 1)).toCompletableFuture();
        assertTrue(m.runStarted.await(5, TimeUnit.SECONDS));
        service.pluginStopped(1);
        service.pluginUninstalled(1);
        awaitState("fm", "1.0.0", ModelState.DRAINING);
        assertEquals(Reason.MODEL_NOT_READY, refusal(request("fm", null, 1)).reason());
        Thread.sleep(100);
        assertEquals("closed while a request was in flight", 0, m.closes.get());
        m.runGate.countDown();
        assertEquals(1f, tag(inFlight.get(10, TimeUnit.SECONDS)), 0f);
        await("closed after the last request", () -> m.closes.get() == 1);
        await("forgotten", () -> service.models().isEmpty());
        assertEquals(0, m.runsAfterClose.get());
    }

    @Test
    public void aLoadThatFinishesAfterItsPluginLeftIsDiscarded() throws Exception {
        start();
        engine.loadGate = new CountDownLatch(1);
        service.pluginStarted(fm(1, "1.0.0", 1));
        await("load started", () -> engine.loads.get() == 1);
        service.pluginStopped(1);
        service.pluginUninstalled(1);
        engine.loadGate.countDown();
        await("the late model closed", () -> !engine.models.isEmpty() && engine.models.get(0).closes.get() == 1);
        Thread.sleep(100);
        assertTrue(service.models().toString(), service.models().isEmpty());
        assertTrue(service.plugins().isEmpty());
    }

    // ---- engines and plugins coming and going --------------------------------------------------

    @Test
    public void modelsFailWhenTheirEngineGoesAwayAndReloadWhenItReturns() throws Exception {
        start();
        service.pluginStarted(fm(1, "1.0.0", 1));
        awaitState("fm", "1.0.0", ModelState.READY);
        FakeModel m = engine.models.get(0);
        service.unbindEngine(engine);
        ModelStatus s = awaitState("fm", "1.0.0", ModelState.FAILED);
        assertEquals("engine fake went away; the model loads again when an engine named 'fake' is registered",
                s.error());
        await("closed", () -> m.closes.get() == 1);
        InferenceException e = refusal(request("fm", null, 1));
        assertEquals(Reason.MODEL_NOT_READY, e.reason());
        assertTrue(e.getMessage(), e.getMessage().contains("engine fake went away"));

        service.bindEngine(engine);
        awaitState("fm", "1.0.0", ModelState.READY);
        assertEquals(1f, tag(infer("fm", null)), 0f);
        assertEquals(2, engine.loads.get());
    }

    @Test
    public void reportsAnUnresolvablePluginOncePerRevision() throws Exception {
        start();
        FakePluginSource p = fm(1, "1.0.0", 1);
        p.resolveProblem = Optional.of("nothing installed provides tollgate.engine (tollgate.engine=onnx); install"
                + " the bundle that provides it (for tollgate.engine, the engine bundle)");
        service.pluginInstalled(p);
        service.trackerOpened(Set.of(1L));
        PluginStatus s = awaitPlugin(1, ModelState.FAILED);
        assertEquals("plugin io.acme.fm 1.0.0 cannot be resolved: nothing installed provides tollgate.engine"
                + " (tollgate.engine=onnx); install the bundle that provides it (for tollgate.engine, the engine"
                + " bundle)", s.error());
        assertEquals("fm", s.model());
        assertEquals("1.0.0", s.modelVersion());
        await("ready once the plugin was diagnosed", service::ready);
        for (int i = 0; i < 5; i++) {
            service.pluginInstalled(p);      // e.g. refreshes: no retry storm
        }
        Thread.sleep(300);
        assertEquals(1, p.resolveAttempts.get());

        service.pluginResolved(p);          // the engine arrived and the plugin resolved
        await("the failure cleared", () -> plugin(1).state() == ModelState.UNLOADED);
        assertEquals("", plugin(1).error());
    }

    // ---- plugins the plugin guard refuses (issue 9) -----------------------------------------------

    private static final String CODE = "plugin carries code: Bundle-Activator com.evil.Activator; model plugins are"
            + " data only (docs/plugins.md)";

    @Test
    public void aPluginTheGuardRefusesIsFailedAtOnceWithItsReasonAndListedInTheIndex() throws Exception {
        start();
        service.pluginStarted(FakePluginSource.plugin(2, "other", "1.0.0", FakeEngine.model(2)));
        FakePluginSource p = fm(1, "1.0.0", 1);
        p.refusal = Optional.of(CODE);
        service.pluginInstalled(p);
        service.trackerOpened(Set.of(1L, 2L));
        PluginStatus s = awaitPlugin(1, ModelState.FAILED);
        assertEquals("plugin io.acme.fm 1.0.0 is refused: " + CODE, s.error());
        await("ready: a refused plugin is processed, not awaited", service::ready);
        ModelStatus m = status("fm", "1.0.0").orElseThrow();
        assertEquals(ModelState.FAILED, m.state());
        assertEquals("plugin io.acme.fm 1.0.0 is refused: " + CODE, m.error());
        InferenceException e = refusal(request("fm", null, 1));
        assertEquals(Reason.MODEL_NOT_READY, e.reason());
        assertTrue(e.getMessage(), e.getMessage().contains("plugin carries code"));
        Thread.sleep(200);                                      // four settle times
        assertEquals("nothing to diagnose: it will never resolve", 0, p.resolveAttempts.get());
        awaitState("other", "1.0.0", ModelState.READY);

        service.pluginInstalled(p);                             // reported again: still one entry
        Thread.sleep(100);
        assertEquals(1, service.models().stream().filter(x -> x.name().equals("fm")).count());
        service.pluginUninstalled(1);
        await("gone with its bundle", () -> status("fm", "1.0.0").isEmpty());
    }

    @Test
    public void aCodeFreeRevisionOfARefusedPluginLoads() throws Exception {
        start();
        FakePluginSource bad = fm(1, "1.0.0", 1);
        bad.refusal = Optional.of(CODE);
        service.pluginInstalled(bad);
        awaitPlugin(1, ModelState.FAILED);
        service.pluginStarted(fm(1, "1.0.1", 2));               // the jar was replaced by a data-only one
        awaitPlugin(1, ModelState.READY);
        assertEquals(2f, tag(infer("fm", null)), 0f);
        assertEquals("", plugin(1).error());
        assertTrue(service.models().toString(), status("fm", "1.0.0").isEmpty());
    }

    @Test
    public void anUpgradeToARevisionThatCarriesCodeKeepsTheOldVersionServing() throws Exception {
        start(16, 2_000, 100, 2_000);                           // a short upgrade grace
        service.bindEngine(engine);
        service.pluginStarted(fm(1, "1.0.0", 1));
        awaitState("fm", "1.0.0", ModelState.READY);
        service.pluginStopped(1);                               // fileinstall's update: stop, then the new revision
        FakePluginSource evil = fm(1, "1.1.0", 2);
        evil.refusal = Optional.of(CODE);
        service.pluginInstalled(evil);
        awaitPlugin(1, ModelState.FAILED);
        Thread.sleep(300);                                      // three graces
        assertEquals(1f, tag(infer("fm", null)), 0f);
        assertEquals(ModelState.FAILED, status("fm", "1.1.0").orElseThrow().state());
        assertEquals(1, engine.loads.get());
    }

    @Test
    public void aPluginThatCarriesCodeIsNotServedEvenIfSomethingStartedIt() throws Exception {
        start();
        FakePluginSource p = fm(1, "1.0.0", 1);
        p.refusal = Optional.of(CODE);
        service.pluginStarted(p);                               // no guard in that framework
        PluginStatus s = awaitPlugin(1, ModelState.FAILED);
        assertEquals("plugin io.acme.fm 1.0.0 is refused: " + CODE, s.error());
        Thread.sleep(100);
        assertEquals("its model was never loaded", 0, engine.loads.get());
    }

    // ---- the plugin state machine at its edges (PluginState) ----------------------------------

    @Test
    public void aStoppedPluginWhoseRetiringModelLosesItsEngineShowsFailedAndLoadsOnlyWhenStartedAgain()
            throws Exception {
        start();
        service.pluginStarted(fm(1, "1.0.0", 1));
        awaitPlugin(1, ModelState.READY);
        service.pluginStopped(1);
        assertEquals("its model serves through the grace", ModelState.READY, plugin(1).state());

        service.unbindEngine(engine);
        awaitPlugin(1, ModelState.FAILED);                      // RetiringFailed
        assertEquals("plugin io.acme.fm 1.0.0: engine fake went away; the model loads again when an engine named"
                + " 'fake' is registered", plugin(1).error());
        service.bindEngine(engine);
        Thread.sleep(200);
        assertEquals("a stopped plugin does not load when its engine returns", 1, engine.loads.get());
        assertEquals(ModelState.FAILED, plugin(1).state());

        service.pluginStarted(fm(1, "1.1.0", 2));
        awaitPlugin(1, ModelState.READY);
        assertEquals(2, engine.loads.get());
        assertEquals("", plugin(1).error());
    }

    @Test
    public void theSameRevisionReportedStartedAgainLoadsNothingEvenAfterAnUnchangedRestart() throws Exception {
        start();
        FakePluginSource p = fm(1, "1.0.0", 1);
        service.pluginStarted(p);
        awaitPlugin(1, ModelState.READY);
        service.pluginStarted(p);                               // e.g. the tracker reopened
        service.pluginStopped(1);
        service.pluginStarted(p);                               // restarted unchanged: Inactive -resume-> Ready
        service.pluginStarted(p);                               // reported again
        Thread.sleep(300);
        assertEquals(1, engine.loads.get());
        assertEquals(0, engine.models.get(0).closes.get());
        assertEquals(1, service.models().size());
        assertEquals(ModelState.READY, plugin(1).state());
    }

    @Test
    public void aPluginWaitingForItsEngineStillLoadsWhenItComesAfterTheSameRevisionIsReportedAgain()
            throws Exception {
        start(16, 2_000, 10_000, 100);
        service.bindEngine(engine);
        FakePluginSource p = fm(1, "1.0.0", 1);
        p.put("TOLLGATE-INF/model.json", "{\"name\":\"fm\",\"version\":\"1.0.0\",\"platform\":\"onnx\","
                + "\"engine\":\"tensorrt\",\"file\":\"model.bin\"}");
        service.pluginStarted(p);
        awaitPlugin(1, ModelState.FAILED);
        service.pluginStarted(p);                               // the tracker reopened
        FakeEngine tensorrt = new FakeEngine("tensorrt");
        service.bindEngine(tensorrt);
        awaitPlugin(1, ModelState.READY);
        assertEquals(1, tensorrt.loads.get());
    }

    @Test
    public void aPluginThatStartsWithinTheSettleTimeIsNeverDiagnosed() throws Exception {
        start();
        FakePluginSource p = fm(1, "1.0.0", 1);
        p.resolveProblem = Optional.of("nothing provides tollgate.engine");
        service.pluginInstalled(p);
        service.pluginResolved(p);
        service.pluginStarted(p);
        awaitPlugin(1, ModelState.READY);
        Thread.sleep(200);                                      // four settle times
        assertEquals(0, p.resolveAttempts.get());
        assertEquals("", plugin(1).error());
    }

    @Test
    public void deactivationRefusesNewWorkDrainsAndClosesEverything() throws Exception {
        start();
        service.pluginStarted(fm(1, "1.0.0", 1));
        service.pluginStarted(FakePluginSource.plugin(2, "other", "1.0.0", FakeEngine.model(2)));
        awaitState("fm", "1.0.0", ModelState.READY);
        awaitState("other", "1.0.0", ModelState.READY);
        service.trackerOpened(Set.of());
        await("ready", service::ready);
        FakeModel m = engine.models.stream().filter(x -> x.tag() == 1f).findFirst().orElseThrow();
        m.runGate = new CountDownLatch(1);
        m.runStarted = new CountDownLatch(1);
        CompletableFuture<InferenceResponse> inFlight = service.infer(request("fm", null, 1)).toCompletableFuture();
        assertTrue(m.runStarted.await(5, TimeUnit.SECONDS));
        ServingService s = service;
        Thread stopper = new Thread(s::deactivate, "stopper");
        stopper.start();
        await("refusing new work", () -> !s.ready());
        InferenceException e = refusal(request("other", null, 1));
        assertEquals(Reason.SHUTTING_DOWN, e.reason());
        Thread.sleep(100);
        assertEquals("closed while a request was in flight", 0, m.closes.get());
        m.runGate.countDown();
        assertNotNull(inFlight.get(10, TimeUnit.SECONDS));
        stopper.join(10_000);
        assertFalse(stopper.isAlive());
        service = null;
        for (FakeModel x : engine.models) {
            assertEquals(1, x.closes.get());
        }
        assertTrue(s.models().isEmpty());
    }
}
