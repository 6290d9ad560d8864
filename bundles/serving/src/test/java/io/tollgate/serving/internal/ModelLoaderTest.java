package io.tollgate.serving.internal;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

import io.tollgate.serving.ModelState;
import io.tollgate.serving.PluginStatus;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.junit.After;
import org.junit.Test;

/**
 * The plugin lifecycle at the edges of its state machine ({@link PluginState}), through the
 * {@link PluginLifecycle} calls the tracker makes; {@link ServingServiceTest} covers the main paths.
 */
public class ModelLoaderTest {
    private final FakeEngine engine = new FakeEngine("fake");
    private ServingService service;

    private void start(long graceMs, long engineWaitMs) {
        service = new ServingService(new ServingSettings(2, 16, 2_000, graceMs, engineWaitMs, 50),
                new FakeUsageJournal());
        service.bindEngine(engine);
    }

    @After
    public void stop() {
        if (service != null) {
            service.deactivate();
        }
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

    private PluginStatus plugin(long bundleId) {
        return service.plugins().stream().filter(p -> p.bundleId() == bundleId).findFirst()
                .orElseThrow(() -> new AssertionError("no plugin " + bundleId + " in " + service.plugins()));
    }

    private void awaitPlugin(long bundleId, ModelState state) throws InterruptedException {
        await("plugin " + bundleId + " " + state + " (plugins: " + service.plugins() + ")",
                () -> service.plugins().stream().anyMatch(p -> p.bundleId() == bundleId && p.state() == state));
    }

    @Test
    public void aStoppedPluginWhoseRetiringModelLosesItsEngineShowsFailedAndLoadsOnlyWhenStartedAgain()
            throws Exception {
        start(10_000, 2_000);
        service.pluginStarted(FakePluginSource.plugin(1, "fm", "1.0.0", FakeEngine.model(1)));
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

        service.pluginStarted(FakePluginSource.plugin(1, "fm", "1.1.0", FakeEngine.model(2)));
        awaitPlugin(1, ModelState.READY);
        assertEquals(2, engine.loads.get());
        assertEquals("", plugin(1).error());
    }

    @Test
    public void theSameRevisionReportedStartedAgainLoadsNothingEvenAfterAnUnchangedRestart() throws Exception {
        start(10_000, 2_000);
        FakePluginSource p = FakePluginSource.plugin(1, "fm", "1.0.0", FakeEngine.model(1));
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
        start(10_000, 100);
        FakePluginSource p = FakePluginSource.plugin(1, "fm", "1.0.0", FakeEngine.model(1));
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
        start(10_000, 2_000);
        FakePluginSource p = FakePluginSource.plugin(1, "fm", "1.0.0", FakeEngine.model(1));
        p.resolveProblem = Optional.of("nothing provides tollgate.engine");
        service.pluginInstalled(p);
        service.pluginResolved(p);
        service.pluginStarted(p);
        awaitPlugin(1, ModelState.READY);
        Thread.sleep(200);                                      // four settle times
        assertEquals(0, p.resolveAttempts.get());
        assertEquals(ModelState.READY, plugin(1).state());
        assertTrue(plugin(1).error().isEmpty());
    }
}
