package io.tollgate.serving.internal;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

import io.tollgate.accelerator.EngineAvailability;
import io.tollgate.engine.onnx.internal.OnnxEngine;
import io.tollgate.engine.onnx.internal.OnnxSettings;
import io.tollgate.engine.spi.EngineException;
import io.tollgate.engine.spi.InferenceEngine;
import io.tollgate.engine.spi.LoadedModel;
import io.tollgate.engine.spi.ModelArtifact;
import io.tollgate.model.Tensor;
import io.tollgate.model.TensorSpec;
import io.tollgate.serving.InferenceException;
import io.tollgate.serving.InferenceException.Reason;
import io.tollgate.serving.InferenceRequest;
import io.tollgate.serving.InferenceResponse;
import io.tollgate.serving.ModelState;
import io.tollgate.serving.PluginStatus;
import io.tollgate.serving.RepositoryControl.IndexEntry;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import org.junit.After;
import org.junit.Assume;
import org.junit.Before;
import org.junit.Rule;
import org.junit.Test;
import org.junit.rules.TemporaryFolder;

/**
 * Issue 11: a version its model's version policy stops selecting at run time is unloaded as Triton unloads it: the
 * requests in flight on it finish, then its ONNX Runtime session closes and its placement is released; a policy that
 * selects it again loads it again. Real ONNX Runtime (the example fashion-mnist model) behind an engine that counts the
 * closes of the sessions it hands out and can hold runs in flight.
 */
public class VersionPolicyUnloadTest {
    private static final Path MODEL = Path.of(System.getProperty("basedir", "."))
            .resolve("../../plugins/fashion-mnist/src/main/model/model.onnx").normalize();

    @Rule
    public TemporaryFolder tmp = new TemporaryFolder();

    private final Reservations slots = new Reservations();
    private CountingOnnx engine;
    private final io.tollgate.serving.testing.InMemoryEntitlements licenses =
            io.tollgate.serving.testing.InMemoryEntitlements.everything();
    private ServingService service;
    private Path models;

    /** A placement service that reserves every instance on the CPU for engine onnx and records what is released. */
    static final class Reservations implements io.tollgate.accelerator.PlacementService {
        final Map<String, io.tollgate.accelerator.Placement> resident = new ConcurrentHashMap<>();
        final Map<String, io.tollgate.accelerator.EvictionListener> listeners = new ConcurrentHashMap<>();
        final List<String> released = new CopyOnWriteArrayList<>();

        /** Evicts instance {@code key} ("model:version") as placement does to make room: released, listener told. */
        void evict(String key, String reason) {
            io.tollgate.accelerator.Placement p = resident.remove(key);
            listeners.get(key).evicted(p, reason);
        }

        @Override
        public io.tollgate.accelerator.Placement place(io.tollgate.accelerator.PlacementRequest r,
                                                      io.tollgate.accelerator.EvictionListener listener) {
            listeners.put(r.model() + ":" + r.version(), listener);
            return resident.computeIfAbsent(r.model() + ":" + r.version(), k -> new io.tollgate.accelerator.Placement(
                    r.model(), r.version(), "cpu", io.tollgate.accelerator.AcceleratorKind.CPU, "onnx", "fp32",
                    r.estimatedBytes(), ""));
        }

        @Override
        public void release(String model, String version) {
            released.add(model + ":" + version);
            resident.remove(model + ":" + version);
        }

        @Override
        public void touch(String model, String version) {
        }

        @Override
        public java.util.Optional<io.tollgate.accelerator.Placement> placement(String model, String version) {
            return java.util.Optional.ofNullable(resident.get(model + ":" + version));
        }

        @Override
        public List<io.tollgate.accelerator.Placement> placements() {
            return List.copyOf(resident.values());
        }

        Set<String> resident() {
            return Set.copyOf(resident.keySet());
        }
    }

    /** The real ORT engine; each session it loads is wrapped to count its closes and hold its runs. */
    static final class CountingOnnx implements InferenceEngine {
        final OnnxEngine onnx = new OnnxEngine(OnnxSettings.fromProperties(Map.of("intra_op_threads", "1")));
        final Map<String, List<Session>> loaded = new ConcurrentHashMap<>();
        /** A version whose loads fail (a model that no longer loads), or null. */
        volatile String failing;

        @Override
        public String name() {
            return "onnx";
        }

        @Override
        public String accelerator() {
            return onnx.accelerator();
        }

        @Override
        public EngineAvailability availability() {
            return onnx.availability();
        }

        @Override
        public LoadedModel load(ModelArtifact artifact) throws EngineException {
            if (artifact.descriptor().version().equals(failing)) {
                throw new EngineException(EngineException.Reason.UNAVAILABLE, "the test fails loads of " + failing);
            }
            Session s = new Session(onnx.load(artifact));
            loaded.computeIfAbsent(artifact.descriptor().version(), v -> new CopyOnWriteArrayList<>()).add(s);
            return s;
        }

        Session session(String version, int index) {
            return loaded.getOrDefault(version, List.of()).get(index);
        }

        int sessions(String version) {
            return loaded.getOrDefault(version, List.of()).size();
        }
    }

    static final class Session implements LoadedModel {
        final LoadedModel ort;
        final AtomicInteger closes = new AtomicInteger();
        final AtomicInteger runsAfterClose = new AtomicInteger();
        volatile CountDownLatch gate;
        volatile CountDownLatch started = new CountDownLatch(0);

        Session(LoadedModel ort) {
            this.ort = ort;
        }

        @Override
        public List<TensorSpec> inputs() {
            return ort.inputs();
        }

        @Override
        public List<TensorSpec> outputs() {
            return ort.outputs();
        }

        @Override
        public String accelerator() {
            return ort.accelerator();
        }

        @Override
        public List<Tensor> run(List<Tensor> inputs, Set<String> requestedOutputs) throws EngineException {
            started.countDown();
            CountDownLatch g = gate;
            if (g != null) {
                try {
                    g.await(20, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
            if (closes.get() > 0) {
                runsAfterClose.incrementAndGet();
                throw new IllegalStateException("run on a closed ONNX Runtime session");
            }
            return ort.run(inputs, requestedOutputs);
        }

        @Override
        public void close() {
            closes.incrementAndGet();
            ort.close();
        }
    }

    @Before
    public void start() throws Exception {
        Assume.assumeTrue("no fashion-mnist model at " + MODEL + " (plugins/fashion-mnist trains it)",
                Files.isRegularFile(MODEL));
        engine = new CountingOnnx();
        models = tmp.newFolder("models").toPath();
        service = serving();
    }

    /** Serving with the overrides in {@link #models} as they are now (applied before any plugin is reported). */
    private ServingService serving() {
        ServingService s = new ServingService(new ServingSettings(4, 64, 10_000, 10_000, 2_000, 50),
                new FakeUsageJournal());
        s.bindEntitlements(licenses);
        s.placement(slots);
        s.watchModelConfigs(models);
        s.bindEngine(engine);
        s.trackerOpened(Set.of());
        return s;
    }

    @After
    public void stop() {
        if (service != null) {
            service.deactivate();
        }
    }

    private static FakePluginSource plugin(long id, String version) throws Exception {
        FakePluginSource p = new FakePluginSource(id, "io.acme.fm", version);      // one owner, side by side
        p.declaredModel = "fm";
        p.declaredModelVersion = version;
        p.put("TOLLGATE-INF/model.json", "{\"name\":\"fm\",\"version\":\"" + version + "\",\"platform\":\"onnx\","
                + "\"engine\":\"onnx\",\"file\":\"model.onnx\",\"max_batch_size\":16}");
        p.put("TOLLGATE-INF/model.onnx", Files.readAllBytes(MODEL));
        return p;
    }

    private static void await(String what, BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                fail("timed out waiting for: " + what);
            }
            Thread.sleep(5);
        }
    }

    private void policy(String json) throws Exception {
        Path t = models.resolve("fm.json.tmp");
        Files.writeString(t, json.replace('\'', '"'), StandardCharsets.UTF_8);
        Files.move(t, models.resolve("fm.json"), StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }

    private List<String> index() {
        List<String> out = new ArrayList<>();
        for (IndexEntry e : service.index(false)) {
            out.add(e.version() + " " + e.state() + (e.reason().isEmpty() ? "" : ": " + e.reason()));
        }
        return out;
    }

    private CompletableFuture<InferenceResponse> send(String version, String id) {
        return service.infer(new InferenceRequest("fm", version, id, List.of(Tensor.ofFloats("image",
                new long[] {1, 1, 28, 28}, new float[784])), List.of(), "acme", null)).toCompletableFuture();
    }

    private PluginStatus plugin(long id) {
        return service.plugins().stream().filter(p -> p.bundleId() == id).findFirst().orElseThrow();
    }

    @Test
    public void aVersionThePolicyStopsSelectingDrainsClosesItsSessionAndLoadsAgainWhenSelected() throws Exception {
        service.pluginStarted(plugin(1, "1.0.0"));
        service.pluginStarted(plugin(2, "2.0.0"));
        await("both READY: " + index(), () -> index().equals(List.of("1.0.0 READY", "2.0.0 READY")));
        assertEquals(Set.of("fm:1.0.0", "fm:2.0.0"), slots.resident());
        Session old = engine.session("1.0.0", 0);

        // two requests on 1.0.0 held in its ORT session while the policy changes
        old.started = new CountDownLatch(1);
        old.gate = new CountDownLatch(1);
        List<CompletableFuture<InferenceResponse>> inFlight = List.of(send("1.0.0", "held-1"), send("1.0.0", "held-2"));
        assertTrue(old.started.await(20, TimeUnit.SECONDS));
        await("2 in flight on 1.0.0", () -> service.model("fm", "1.0.0").orElseThrow().inFlight() == 2);

        policy("{'version_policy':{'latest':{'num_versions':1}}}");
        await("1.0.0 unloading: " + index(), () -> plugin(1).state() == ModelState.UNLOADED);
        assertEquals(List.of("1.0.0 UNAVAILABLE: not selected by the version policy (version_policy latest 1)",
                "2.0.0 READY"), index());
        assertTrue(plugin(1).error(), plugin(1).error().contains("not selected by the version policy"));
        try {
            send("1.0.0", "after").get(20, TimeUnit.SECONDS);
            fail("1.0.0 served after the policy excluded it");
        } catch (ExecutionException e) {
            InferenceException ie = (InferenceException) e.getCause();
            assertEquals(ie.getMessage(), Reason.MODEL_NOT_FOUND, ie.reason());
            assertTrue(ie.getMessage(), ie.getMessage().contains("not selected by the version policy"));
        }
        assertEquals("2.0.0", send(null, "unversioned").get(20, TimeUnit.SECONDS).version());
        assertEquals("the session waits for its requests in flight", 0, old.closes.get());

        old.gate.countDown();
        for (CompletableFuture<InferenceResponse> f : inFlight) {
            InferenceResponse r = f.get(20, TimeUnit.SECONDS);      // no request dropped
            assertEquals("1.0.0", r.version());
            assertEquals(10, r.outputs().get(0).shape()[1]);
        }
        await("1.0.0's ORT session closed", () -> old.closes.get() == 1);
        assertEquals(0, old.runsAfterClose.get());
        await("its placement released: " + slots.resident(), () -> slots.resident().equals(Set.of("fm:2.0.0")));
        assertTrue(slots.released.toString(), slots.released.contains("fm:1.0.0"));
        assertEquals("still listed, not forgotten", List.of("1.0.0 UNAVAILABLE: not selected by the version policy"
                + " (version_policy latest 1)", "2.0.0 READY"), index());
        assertEquals(1, engine.sessions("1.0.0"));

        // selected again: it loads again (a new session) and serves
        policy("{'version_policy':{'all':{}}}");
        await("both READY again: " + index(), () -> index().equals(List.of("1.0.0 READY", "2.0.0 READY")));
        assertEquals(2, engine.sessions("1.0.0"));
        InferenceResponse again = send("1.0.0", "again").get(20, TimeUnit.SECONDS);
        assertEquals("1.0.0", again.version());
        // its plugin's state follows on the lifecycle thread just after the version is READY (and serving)
        await("its plugin READY", () -> plugin(1).state() == ModelState.READY);
        assertEquals(Set.of("fm:1.0.0", "fm:2.0.0"), slots.resident());
        assertEquals(0, engine.session("1.0.0", 1).closes.get());
        assertEquals("2.0.0 was never unloaded", 1, engine.sessions("2.0.0"));
    }

    @Test
    public void aPolicyThatSelectsAVersionStillLoadingKeepsTheOldOneServingUntilItIsReady() throws Exception {
        service.pluginStarted(plugin(1, "1.0.0"));
        await("1.0.0 READY", () -> index().equals(List.of("1.0.0 READY")));
        policy("{'version_policy':{'latest':{'num_versions':1}}}");
        await("the policy applied", () -> service.config("fm", null).map(c -> c.versionPolicy().kind()
                == io.tollgate.serving.ModelConfig.VersionPolicy.Kind.LATEST).orElse(false));
        // 2.0.0 arrives: until it is READY, 1.0.0 answers unversioned requests; then 1.0.0 unloads
        List<String> failures = new CopyOnWriteArrayList<>();
        List<String> servedBy = new CopyOnWriteArrayList<>();
        Thread client = new Thread(() -> {
            for (int i = 0; i < 100_000 && !Thread.currentThread().isInterrupted(); i++) {
                try {
                    servedBy.add(send(null, "c-" + i).get(20, TimeUnit.SECONDS).version());
                    if (servedBy.contains("2.0.0") && servedBy.size() > 20 + servedBy.indexOf("2.0.0")) {
                        return;
                    }
                } catch (Exception e) {
                    failures.add(String.valueOf(e.getCause()));
                }
            }
        });
        client.start();
        await("1.0.0 serving the client", () -> servedBy.size() > 5);
        service.pluginStarted(plugin(2, "2.0.0"));
        client.join(60_000);
        assertTrue("no request failed while the policy switched versions: " + failures, failures.isEmpty());
        assertTrue(servedBy.toString(), servedBy.contains("2.0.0"));
        await("1.0.0's session closed", () -> engine.session("1.0.0", 0).closes.get() == 1);
        assertEquals(List.of("1.0.0 UNAVAILABLE: not selected by the version policy (version_policy latest 1)",
                "2.0.0 READY"), index());
    }

    /**
     * A policy naming only versions that are not installed (a typo, or written before the new plugin is dropped in)
     * selects nothing that can serve: as Triton keeps the model it has when a reload selects no available version, the
     * versions serving keep serving; once a version it names is READY, the others unload as usual.
     */
    @Test
    public void aPolicySelectingNoInstalledVersionKeepsTheServingOnesUntilASelectedOneIsReady() throws Exception {
        service.pluginStarted(plugin(1, "1.0.0"));
        await("1.0.0 READY", () -> index().equals(List.of("1.0.0 READY")));
        policy("{'version_policy':{'specific':{'versions':['9.9.9']}}}");
        await("the policy applied", () -> service.config("fm", null).map(c -> c.versionPolicy().kind()
                == io.tollgate.serving.ModelConfig.VersionPolicy.Kind.SPECIFIC).orElse(false));
        for (int i = 0; i < 20; i++) {    // the policy is applied on the lifecycle thread: give it every chance
            assertEquals("1.0.0", send(null, "kept-" + i).get(20, TimeUnit.SECONDS).version());
            Thread.sleep(25);
        }
        assertEquals(List.of("1.0.0 READY"), index());
        assertEquals(0, engine.session("1.0.0", 0).closes.get());

        policy("{'version_policy':{'specific':{'versions':['2.0.0']}}}");
        service.pluginStarted(plugin(2, "2.0.0"));
        await("2.0.0 READY, 1.0.0 unloaded: " + index(), () -> index().equals(List.of(
                "1.0.0 UNAVAILABLE: not selected by the version policy (version_policy specific [2.0.0])",
                "2.0.0 READY")));
        assertEquals("2.0.0", send(null, "after").get(20, TimeUnit.SECONDS).version());
    }

    /** The same policy present when the plugin starts (a restart after the typo): its version loads and serves. */
    @Test
    public void aPolicySelectingNoInstalledVersionAtStartLoadsTheNewestInstalled() throws Exception {
        service.deactivate();
        policy("{'version_policy':{'specific':{'versions':['9.9.9']}}}");
        service = serving();
        service.pluginStarted(plugin(1, "1.0.0"));
        await("1.0.0 READY: " + index(), () -> index().equals(List.of("1.0.0 READY")));
        assertEquals("1.0.0", send(null, "served").get(20, TimeUnit.SECONDS).version());
        assertEquals(io.tollgate.serving.ModelConfig.VersionPolicy.Kind.SPECIFIC,
                service.config("fm", null).orElseThrow().versionPolicy().kind());
    }

    /** 1.0.0 and 2.0.0 READY, then {@code policy} (which selects 2.0.0 only): 1.0.0 unloads and its session closes. */
    private void onlyTwoServes(String policy) throws Exception {
        service.pluginStarted(plugin(1, "1.0.0"));
        service.pluginStarted(plugin(2, "2.0.0"));
        await("both READY: " + index(), () -> index().equals(List.of("1.0.0 READY", "2.0.0 READY")));
        policy(policy);
        await("1.0.0 unloaded: " + index(), () -> engine.session("1.0.0", 0).closes.get() == 1);
        assertTrue(index().toString(), index().get(0).startsWith("1.0.0 UNAVAILABLE: not selected"));
    }

    /** {@code what} holds for 2 s: the lifecycle thread applied whatever it would have applied. */
    private void holds(String what, BooleanSupplier condition) throws InterruptedException {
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(2);
        while (System.nanoTime() < end) {
            assertTrue(what + ": " + index() + ", resident " + slots.resident(), condition.getAsBoolean());
            Thread.sleep(10);
        }
    }

    private InferenceException refused(String version, String id) throws Exception {
        try {
            InferenceResponse r = send(version, id).get(20, TimeUnit.SECONDS);
            throw new AssertionError("served by " + r.version() + ": " + index());
        } catch (ExecutionException e) {
            return (InferenceException) e.getCause();
        }
    }

    /**
     * The version a specific policy names lost its license: it is not "absent", so the version the policy unloaded is
     * not loaded in its place (it would serve and bill what the owner pinned away); requests get 403 with the reason.
     */
    @Test
    public void aNamedVersionThatLostItsLicenseDoesNotLoadTheOneThePolicyUnloaded() throws Exception {
        onlyTwoServes("{'version_policy':{'specific':{'versions':['2.0.0']}}}");
        licenses.revoke("fm", "2.0.0");
        await("2.0.0 FAILED: " + index(), () -> index().get(1).startsWith("2.0.0 UNAVAILABLE"));
        holds("1.0.0 stays unloaded", () -> engine.sessions("1.0.0") == 1 && !slots.resident().contains("fm:1.0.0"));
        InferenceException e = refused(null, "after-revocation");
        assertEquals(e.getMessage(), Reason.NOT_LICENSED, e.reason());
        assertTrue(e.getMessage(), e.getMessage().contains("revoked"));
        assertEquals(1, engine.sessions("1.0.0"));
    }

    /**
     * Review 2026-12-03: the named version that lost its license is replaced by a revision that cannot even be read (a
     * corrupt descriptor): that failure is not a license refusal, so it does not inherit "unlicensed" and block the
     * fallback; the newest installed version serves, as after a restart with the same files.
     */
    @Test
    public void aFailureThatReplacesALicenseRefusalIsNotALicenseRefusal() throws Exception {
        onlyTwoServes("{'version_policy':{'specific':{'versions':['2.0.0']}}}");
        licenses.revoke("fm", "2.0.0");
        await("2.0.0 FAILED: " + index(), () -> index().get(1).startsWith("2.0.0 UNAVAILABLE"));
        assertEquals(Reason.NOT_LICENSED, refused(null, "unlicensed").reason());
        service.pluginStopped(2);
        FakePluginSource corrupt = plugin(2, "2.0.0");
        corrupt.put("TOLLGATE-INF/model.json", "{not json");
        service.pluginStarted(corrupt);
        await("1.0.0 serves: " + index(), () -> index().get(0).equals("1.0.0 READY"));
        assertEquals("1.0.0", send(null, "after").get(20, TimeUnit.SECONDS).version());
        assertTrue(index().toString(), index().get(1).startsWith("2.0.0 UNAVAILABLE")
                && index().get(1).contains("JSON"));
    }

    /**
     * The version a policy selects was evicted by placement to make room: it loads again on the next request; the
     * version the policy unloaded is not loaded in its place (specific, and latest 1: an evicted version still counts).
     */
    @Test
    public void aSelectedVersionEvictedByPlacementDoesNotLoadTheOneThePolicyUnloaded() throws Exception {
        for (String policy : List.of("{'version_policy':{'specific':{'versions':['2.0.0']}}}",
                "{'version_policy':{'latest':{'num_versions':1}}}")) {
            service.deactivate();
            service = null;
            Files.deleteIfExists(models.resolve("fm.json"));
            engine = new CountingOnnx();
            service = serving();
            onlyTwoServes(policy);
            int twos = engine.sessions("2.0.0");
            slots.evict("fm:2.0.0", "evicted (memory budget)");
            await(policy + ": 2.0.0's session closed", () -> engine.session("2.0.0", twos - 1).closes.get() == 1);
            // the owner edits the override meanwhile: the policy is applied again, with 2.0.0 not resident
            policy(policy.replace("{'version_policy'", "{'max_batch_size':8,'version_policy'"));
            await(policy + ": the edit applied", () -> service.config("fm", null).map(c -> c.maxBatchSize() == 8)
                    .orElse(false));
            holds(policy + ": 1.0.0 stays unloaded, 2.0.0 waits for a request", () -> engine.sessions("1.0.0") == 1
                    && !slots.resident().contains("fm:1.0.0") && engine.sessions("2.0.0") == twos
                    && index().get(0).startsWith("1.0.0 UNAVAILABLE: not selected"));
            assertEquals(policy, "2.0.0", send(null, "after-eviction").get(20, TimeUnit.SECONDS).version());
            assertEquals(policy, twos + 1, engine.sessions("2.0.0"));
            assertEquals(policy, 1, engine.sessions("1.0.0"));
        }
    }

    /**
     * A specific policy names a version that then arrives broken: it counts as absent, like one not installed, so the
     * newest installed version serves (listed READY, one WARN), after a refresh of its plugin and after a restart
     * alike (the outcome depends on what is installed, never on what served before).
     */
    @Test
    public void aNamedVersionThatFailsToLoadIsAbsentAndTheNewestInstalledServesAlsoAfterARestart() throws Exception {
        service.pluginStarted(plugin(1, "1.0.0"));
        await("1.0.0 READY", () -> index().equals(List.of("1.0.0 READY")));
        policy("{'version_policy':{'specific':{'versions':['2.0.0']}}}");
        await("the policy applied", () -> service.config("fm", null).map(c -> c.versionPolicy().kind()
                == io.tollgate.serving.ModelConfig.VersionPolicy.Kind.SPECIFIC).orElse(false));
        FakePluginSource broken = plugin(2, "2.0.0");
        broken.put("TOLLGATE-INF/model.onnx", "not an ONNX model".getBytes(StandardCharsets.UTF_8));
        service.pluginStarted(broken);
        await("2.0.0 FAILED: " + index(), () -> index().size() == 2 && index().get(1).startsWith("2.0.0 UNAVAILABLE"));
        holds("1.0.0 serves on", () -> engine.session("1.0.0", 0).closes.get() == 0);
        assertEquals(index().toString(), "1.0.0 READY", index().get(0));
        for (int i = 0; i < 5; i++) {
            assertEquals("1.0.0", send(null, "kept-" + i).get(20, TimeUnit.SECONDS).version());
        }
        // its plugin is refreshed (a license renewal, the launcher's refresh): its new revision serves
        service.pluginStopped(1);
        service.pluginStarted(plugin(1, "1.0.0"));
        await("the new revision READY: " + index(), () -> engine.sessions("1.0.0") == 2
                && index().get(0).equals("1.0.0 READY") && engine.session("1.0.0", 0).closes.get() == 1);
        await("its plugin READY", () -> plugin(1).state() == ModelState.READY);
        assertEquals("1.0.0", send(null, "after-refresh").get(20, TimeUnit.SECONDS).version());
        // a restart with the same files: the same outcome
        service.deactivate();
        engine = new CountingOnnx();
        service = serving();
        service.pluginStarted(plugin(1, "1.0.0"));
        service.pluginStarted(broken);
        await("after a restart, 1.0.0 READY: " + index(), () -> index().size() == 2
                && index().get(0).equals("1.0.0 READY") && index().get(1).startsWith("2.0.0 UNAVAILABLE"));
        assertEquals("1.0.0", send(null, "after-restart").get(20, TimeUnit.SECONDS).version());
    }

    /**
     * Review 2026-12-03: a version evicted by placement counts for {@code latest 1} until its reload fails; then it is
     * FAILED like any version that did not load, and the newest that can serve loads (not: the model offline).
     */
    @Test
    public void anEvictedVersionWhoseReloadFailsNoLongerHoldsTheOlderOneBack() throws Exception {
        onlyTwoServes("{'version_policy':{'latest':{'num_versions':1}}}");
        slots.evict("fm:2.0.0", "evicted (memory budget)");
        await("2.0.0's session closed", () -> engine.session("2.0.0", 0).closes.get() == 1);
        engine.failing = "2.0.0";
        try {
            send(null, "reloads-2").get(20, TimeUnit.SECONDS);
        } catch (ExecutionException e) {
            // the request that found it evicted waits for its reload, which fails: refused (503), never served
            assertTrue(String.valueOf(e.getCause()), e.getCause() instanceof InferenceException);
        }
        await("1.0.0 loads and serves: " + index(), () -> engine.sessions("1.0.0") == 2
                && index().get(0).equals("1.0.0 READY"));
        assertEquals("1.0.0", send(null, "after").get(20, TimeUnit.SECONDS).version());
    }

    /**
     * Review 2026-12-03: an evicted version the policy selects again while another version serves (so no request finds
     * the model evicted) loads again by itself; the version serving meanwhile serves until it is READY (before: the
     * serving one was unloaded for the evicted one, which nothing reloaded, and the model stayed offline).
     */
    @Test
    public void anEvictedVersionThePolicySelectsAgainLoadsAgainWhileTheOtherServes() throws Exception {
        service.pluginStarted(plugin(1, "1.0.0"));
        service.pluginStarted(plugin(2, "2.0.0"));
        policy("{'version_policy':{'latest':{'num_versions':1}}}");
        await("2.0.0 READY, 1.0.0 not selected (latest 1): " + index(), () -> index().size() == 2
                && index().get(0).startsWith("1.0.0 UNAVAILABLE: not selected")
                && index().get(1).equals("2.0.0 READY"));
        slots.evict("fm:2.0.0", "evicted (memory budget)");
        await("2.0.0's session closed", () -> engine.session("2.0.0", 0).closes.get() == 1);
        policy("{'version_policy':{'specific':{'versions':['1.0.0']}}}");
        await("1.0.0 READY: " + index(), () -> index().get(0).equals("1.0.0 READY"));
        assertEquals("1.0.0", send(null, "pinned").get(20, TimeUnit.SECONDS).version());
        int twos = engine.sessions("2.0.0");
        policy("{'version_policy':{'latest':{'num_versions':1}}}");     // back: the evicted 2.0.0 is the newest
        List<String> servedBy = new ArrayList<>();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (!servedBy.contains("2.0.0")) {
            assertTrue("2.0.0 never served again: " + index() + " " + servedBy, System.nanoTime() < deadline);
            servedBy.add(send(null, "c-" + servedBy.size()).get(20, TimeUnit.SECONDS).version());   // none fails
            Thread.sleep(10);
        }
        assertEquals(twos + 1, engine.sessions("2.0.0"));
        await("1.0.0 unloaded again: " + index(), () -> index().get(0).startsWith("1.0.0 UNAVAILABLE: not selected"));
    }
}
