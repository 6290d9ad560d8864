package io.tollgate.serving.testing;

import io.tollgate.engine.spi.InferenceEngine;
import io.tollgate.licensing.Entitlements;
import io.tollgate.metering.UsageJournal;
import io.tollgate.serving.InferenceService;
import io.tollgate.serving.ModelRegistry;
import io.tollgate.serving.ModelState;
import io.tollgate.serving.internal.ServingService;
import io.tollgate.serving.internal.ServingSettings;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * The real serving component outside a framework, for the benchmarks in {@code bench/} and other modules' tests:
 * {@code ServingService} wired as Declarative Services wires it (a usage journal, an engine), fed a plugin jar as the
 * extender's tracker feeds it an ACTIVE plugin bundle. Every plugin is entitled by a free license
 * ({@link InMemoryEntitlements#everything()}), as the example plugin is on the distribution, unless the caller binds
 * its own {@code Entitlements}. Published in tollgate-serving's test-jar, so that nobody else
 * imports this bundle's private classes.
 */
public final class TestServing implements AutoCloseable {
    /** The configuration's defaults for the keys {@link #start} does not take (upgrade.grace.ms, engine.wait.ms). */
    private static final long UPGRADE_GRACE_MS = 10_000;
    private static final long ENGINE_WAIT_MS = 30_000;

    private final ServingService service;
    private final List<JarPluginSource> plugins = new ArrayList<>();

    private TestServing(ServingService service) {
        this.service = service;
    }

    /**
     * Serving with the given configuration (PID io.tollgate.serving: {@code worker.threads},
     * {@code max.queue.per.model}, {@code drain.timeout.ms}; the defaults for the rest), {@code journal} for its
     * usage records and {@code engine} bound; the plugin tracker has opened with no plugin to wait for.
     */
    public static TestServing start(UsageJournal journal, InferenceEngine engine, int workerThreads,
                                    int maxQueuePerModel, long drainTimeoutMs) {
        // every plugin entitled, by a free license
        return start(journal, engine, workerThreads, maxQueuePerModel, drainTimeoutMs, InMemoryEntitlements.everything());
    }

    /**
     * As {@link #start(UsageJournal, InferenceEngine, int, int, long)}, with {@code entitlements} bound as the
     * launcher's licensing service (e.g. plugin-guard's {@code LicenseStore}, for the licensing benchmark): every
     * request is checked against it, and a plugin it does not entitle is not served.
     */
    public static TestServing start(UsageJournal journal, InferenceEngine engine, int workerThreads,
                                    int maxQueuePerModel, long drainTimeoutMs, Entitlements entitlements) {
        ServingService service = new ServingService(new ServingSettings(workerThreads, maxQueuePerModel, drainTimeoutMs,
                UPGRADE_GRACE_MS, ENGINE_WAIT_MS, ServingSettings.RESOLVE_SETTLE_MS), journal);
        service.bindEngine(engine);
        service.bindEntitlements(entitlements);
        service.trackerOpened(Set.of());
        return new TestServing(service);
    }

    /**
     * Starts the plugin jar (a bundle ACTIVE in the framework) and waits until its model is READY.
     *
     * @return the model's name
     * @throws IllegalStateException when the model is not READY within {@code timeoutMs}, with the models' and
     *                               plugins' states
     */
    public String startPlugin(Path pluginJar, long timeoutMs) throws IOException, InterruptedException {
        JarPluginSource plugin = new JarPluginSource(pluginJar);
        plugins.add(plugin);
        service.pluginStarted(plugin);
        String model = plugin.declaredModel();
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMs);
        while (service.model(model, null).map(s -> s.state() != ModelState.READY).orElse(true)) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("model not ready: " + service.models() + " " + service.plugins());
            }
            Thread.sleep(10);
        }
        return model;
    }

    public InferenceService inference() {
        return service;
    }

    public ModelRegistry registry() {
        return service;
    }

    /** Deactivates the component (requests in flight finish, models close), then closes the plugin jars. */
    @Override
    public void close() throws IOException {
        service.deactivate();
        for (JarPluginSource p : plugins) {
            p.close();
        }
    }
}
