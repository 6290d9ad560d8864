package io.tollgate.serving.internal;

import io.tollgate.engine.spi.EngineException;
import io.tollgate.engine.spi.InferenceEngine;
import io.tollgate.engine.spi.LoadedModel;
import io.tollgate.engine.spi.ModelArtifact;
import io.tollgate.model.ModelDescriptor;
import io.tollgate.serving.ModelState;
import io.tollgate.serving.PluginStatus;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Turns plugin lifecycle events into model versions: reads a started plugin's descriptor and model
 * file, waits (bounded) for its engine, loads and validates the model and hands it to the
 * {@link ModelRepository}; keeps a stopped plugin's model serving through an upgrade's gap; reports
 * every refusal on the plugin.
 *
 * <p>Threads: the event methods may be called from any thread (the framework's, for bundle events)
 * and only enqueue. All plugin bookkeeping runs on the single {@code lifecycle} thread, which also
 * runs the timers; reading plugin files, resolving and engine loads run on the {@code loaders}.
 * Each load is an {@link Attempt}: whatever an attempt finishes after its plugin moved on (stopped,
 * updated, uninstalled) is discarded, and a model it loaded is closed.
 *
 * <p>Upgrade rules: when a plugin stops, its READY versions keep serving ("retiring") for up to
 * {@code upgradeGraceMs}. A new revision of the same bundle that becomes READY replaces them (they
 * drain). If the new revision fails (bad descriptor, model, engine, or it cannot be resolved), the
 * old versions keep serving until the plugin is uninstalled or a later revision succeeds. If the
 * grace passes with no new revision on the way, they drain. Uninstalling drains at once.
 */
final class ModelLoader {
    private static final Logger LOG = LoggerFactory.getLogger(ModelLoader.class);

    /** Timings of the lifecycle. */
    record Settings(long upgradeGraceMs, long engineWaitMs, long resolveSettleMs) {
    }

    private final ModelRepository repository;
    private final EngineDirectory engines;
    private final ScheduledExecutorService lifecycle;
    private final Executor loaders;
    private final Settings settings;

    private final Map<Long, PluginRecord> plugins = new ConcurrentHashMap<>();
    private final Set<Long> awaited = new HashSet<>();     // lifecycle thread only
    private volatile boolean opened;
    private volatile boolean ready;
    private volatile boolean closed;

    ModelLoader(ModelRepository repository, EngineDirectory engines, ScheduledExecutorService lifecycle,
                Executor loaders, Settings settings) {
        this.repository = repository;
        this.engines = engines;
        this.lifecycle = lifecycle;
        this.loaders = loaders;
        this.settings = settings;
    }

    // ---- events (any thread) -------------------------------------------------------------------

    /**
     * The tracker has reported every plugin present; {@code awaitedIds} are those expected to load
     * (started, or starting with the framework) or to be diagnosed (unresolved).
     */
    void opened(Set<Long> awaitedIds) {
        onLifecycle(() -> {
            opened = true;
            awaited.clear();
            for (Long id : awaitedIds) {
                PluginRecord r = plugins.get(id);
                if (r != null && r.state != ModelState.READY && r.state != ModelState.FAILED) {
                    awaited.add(id);
                }
            }
            updateReady();
        });
    }

    /** The tracker closed: plugin events stop until it opens again. */
    void trackerClosed() {
        onLifecycle(() -> {
            opened = false;
            updateReady();
        });
    }

    /** A plugin revision is ACTIVE: load its model. */
    void started(PluginSource source) {
        onLifecycle(() -> onStarted(source));
    }

    /** A plugin revision is RESOLVED (or starting/stopping): known, nothing to load. */
    void resolved(PluginSource source) {
        onLifecycle(() -> {
            PluginRecord r = record(source);
            if (r.unresolvable) {
                r.unresolvable = false;
                r.state = ModelState.UNLOADED;
                r.error = "";
            }
        });
    }

    /** A plugin revision is INSTALLED (not resolved); if it stays so, report why, once per revision. */
    void installed(PluginSource source) {
        onLifecycle(() -> onInstalled(source));
    }

    /** A plugin stopped (or is being updated): its models serve on through the upgrade grace. */
    void stopped(long bundleId) {
        onLifecycle(() -> onStopped(bundleId));
    }

    /** A plugin was uninstalled (or no longer declares a model): drain and unload its models now. */
    void uninstalled(long bundleId) {
        onLifecycle(() -> onUninstalled(bundleId));
    }

    /** An engine was registered: plugins that failed for want of it load again. */
    void engineAdded(String name) {
        onLifecycle(() -> {
            for (PluginRecord r : plugins.values()) {
                if (r.active && name.equals(r.awaitingEngine) && (r.attempt == null || r.attempt.done)) {
                    LOG.info("{}: engine '{}' is back; loading the model again", r.source.label(), name);
                    startAttempt(r, r.source);
                }
            }
        });
    }

    /** An engine was unregistered: models it runs fail (and close once their requests finish). */
    void engineRemoved(InferenceEngine engine, String name) {
        onLifecycle(() -> {
            String why = "engine " + name + " went away; the model loads again when an engine named '" + name
                    + "' is registered";
            for (ModelVersion v : repository.all()) {
                if (v.engine() == engine && (v.state() == ModelState.READY || v.state() == ModelState.DRAINING)) {
                    LOG.warn("{} from {}: {}", v.label(), v.plugin().label(), why);
                    repository.fail(v, why);
                    PluginRecord r = plugins.get(v.plugin().bundleId());
                    if (r != null && r.source.revisionKey().equals(v.plugin().revisionKey())) {
                        r.state = ModelState.FAILED;
                        r.error = v.plugin().label() + ": " + why;
                        r.awaitingEngine = name;
                    }
                }
            }
        });
    }

    /** Stops all loading and timers; models already loaded stay with the repository. */
    void close() {
        closed = true;
        CompletableFuture<Void> done = new CompletableFuture<>();
        if (!onLifecycle(() -> {
            for (PluginRecord r : plugins.values()) {
                cancelAttempt(r);
                cancel(r.graceTimer);
                cancel(r.diagnosis);
            }
            done.complete(null);
        })) {
            return;
        }
        try {
            done.get(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (ExecutionException | TimeoutException e) {
            LOG.warn("the model lifecycle thread did not stop its work within 5 s");
        }
    }

    // ---- queries (any thread) ------------------------------------------------------------------

    /** True once every plugin awaited at open has loaded or been refused. */
    boolean ready() {
        return ready;
    }

    List<PluginStatus> statuses() {
        List<PluginStatus> out = new ArrayList<>();
        for (PluginRecord r : plugins.values()) {
            PluginSource s = r.source;
            ModelState state = r.state;
            if (state == ModelState.UNLOADED && !repository.retiring(r.bundleId).isEmpty()) {
                state = ModelState.READY;
            }
            out.add(new PluginStatus(r.bundleId, s.symbolicName(), s.version(), s.location(), r.model,
                    r.modelVersion, state, r.error));
        }
        out.sort(Comparator.comparingLong(PluginStatus::bundleId));
        return out;
    }

    // ---- lifecycle thread ----------------------------------------------------------------------

    private void onStarted(PluginSource source) {
        PluginRecord r = record(source);
        r.active = true;
        r.awaitingEngine = null;
        r.unresolvable = false;
        cancel(r.diagnosis);
        Attempt current = r.attempt;
        if (current != null && !current.cancelled
                && current.source.revisionKey().equals(source.revisionKey())) {
            return;     // the same revision reported twice (e.g. the tracker reopened)
        }
        if (repository.resume(source.bundleId(), source.revisionKey())) {
            cancel(r.graceTimer);
            r.state = ModelState.READY;
            r.error = "";
            LOG.info("{}: restarted unchanged; its model serves on", source.label());
            settle(source.bundleId());
            return;
        }
        startAttempt(r, source);
    }

    private void startAttempt(PluginRecord r, PluginSource source) {
        cancelAttempt(r);
        for (ModelVersion v : repository.ofBundle(r.bundleId)) {
            if (!v.retiring() && (v.state() == ModelState.FAILED || v.state() == ModelState.LOADING)) {
                repository.remove(v);
            }
        }
        Attempt a = new Attempt(source);
        r.attempt = a;
        r.source = source;
        r.state = ModelState.LOADING;
        r.error = "";
        r.awaitingEngine = null;
        LOG.info("{}: loading its model", source.label());
        onLoader(a, () -> read(a));
    }

    private void onInstalled(PluginSource source) {
        PluginRecord r = record(source);
        r.active = false;
        cancelAttempt(r);
        if (source.revisionKey().equals(r.diagnosedRevision)) {
            return;     // one resolve attempt per revision: no retry storm
        }
        cancel(r.diagnosis);
        r.diagnosis = schedule(() -> diagnose(source), settings.resolveSettleMs());
    }

    private void diagnose(PluginSource source) {
        PluginRecord r = plugins.get(source.bundleId());
        if (r == null || r.source != source || r.active) {
            return;
        }
        r.diagnosedRevision = source.revisionKey();
        try {
            loaders.execute(() -> {
                Optional<String> problem;
                try {
                    problem = source.resolveProblem();
                } catch (RuntimeException e) {
                    problem = Optional.of("resolving it failed: " + e);
                }
                Optional<String> found = problem;
                onLifecycle(() -> diagnosed(source, found));
            });
        } catch (RejectedExecutionException e) {
            LOG.debug("{}: not diagnosed, serving is shutting down", source.label());
        }
    }

    private void diagnosed(PluginSource source, Optional<String> problem) {
        PluginRecord r = plugins.get(source.bundleId());
        if (r == null || r.source != source || r.active) {
            return;
        }
        if (problem.isPresent()) {
            r.unresolvable = true;
            r.state = ModelState.FAILED;
            r.error = source.label() + " cannot be resolved: " + problem.get();
            if (r.model.isEmpty() && source.declaredModel() != null) {
                r.model = source.declaredModel();
                r.modelVersion = source.declaredModelVersion() == null ? "" : source.declaredModelVersion();
            }
            LOG.warn("{}", r.error);
            keepRetiringServing(r);
        }
        settle(source.bundleId());
    }

    private void onStopped(long bundleId) {
        PluginRecord r = plugins.get(bundleId);
        if (r == null) {
            return;
        }
        r.active = false;
        cancelAttempt(r);
        for (ModelVersion v : repository.ofBundle(bundleId)) {
            if (v.state() == ModelState.FAILED || v.state() == ModelState.LOADING) {
                repository.remove(v);
            }
        }
        r.state = ModelState.UNLOADED;
        r.error = "";
        r.awaitingEngine = null;
        List<ModelVersion> retired = repository.retire(bundleId);
        cancel(r.graceTimer);
        if (!retired.isEmpty()) {
            if (settings.upgradeGraceMs() <= 0) {
                drainRetiring(bundleId, "its plugin stopped");
            } else {
                LOG.info("{} stopped; {} keeps serving for up to {} ms in case a new revision replaces it",
                        r.source.label(), labels(retired), settings.upgradeGraceMs());
                r.graceTimer = schedule(() -> graceExpired(bundleId), settings.upgradeGraceMs());
            }
        }
        settle(bundleId);
    }

    private void graceExpired(long bundleId) {
        PluginRecord r = plugins.get(bundleId);
        if (r != null) {
            r.graceTimer = null;
            if (r.attempt != null && !r.attempt.cancelled && !r.attempt.done) {
                LOG.info("{}: the upgrade grace passed while its new revision loads; the old model serves until"
                        + " that load ends", r.source.label());
                return;
            }
            if (r.state == ModelState.FAILED) {
                keepRetiringServing(r);
                return;
            }
        }
        drainRetiring(bundleId, "no new revision of its plugin became ready within " + settings.upgradeGraceMs()
                + " ms");
    }

    private void onUninstalled(long bundleId) {
        PluginRecord r = plugins.remove(bundleId);
        if (r != null) {
            cancelAttempt(r);
            cancel(r.graceTimer);
            cancel(r.diagnosis);
            LOG.info("{} uninstalled; unloading its models", r.source.label());
        }
        for (ModelVersion v : repository.ofBundle(bundleId)) {
            repository.remove(v);
        }
        settle(bundleId);
    }

    private void read(Attempt a) {
        if (a.cancelled) {
            return;
        }
        ModelDescriptor descriptor;
        byte[] bytes;
        try {
            descriptor = DescriptorReader.read(a.source);
            bytes = DescriptorReader.readModelFile(a.source, descriptor);
        } catch (PluginException e) {
            onLifecycle(() -> failed(a, e.getMessage(), null));
            return;
        }
        onLifecycle(() -> register(a, descriptor, bytes));
    }

    private void register(Attempt a, ModelDescriptor descriptor, byte[] bytes) {
        if (stale(a)) {
            return;
        }
        PluginRecord r = plugins.get(a.source.bundleId());
        r.model = descriptor.name();
        r.modelVersion = descriptor.version();
        try {
            a.version = repository.add(a.source.info(), descriptor);
        } catch (PluginException e) {
            failed(a, e.getMessage(), null);
            return;
        }
        String engineName = descriptor.engine();
        CompletableFuture<InferenceEngine> wait = engines.await(engineName, settings.engineWaitMs(), lifecycle);
        a.engineWait = wait;
        if (!wait.isDone()) {
            LOG.info("{}: waiting up to {} ms for engine '{}'", a.source.label(), settings.engineWaitMs(), engineName);
        }
        wait.whenComplete((engine, err) -> {
            if (err == null) {
                onLoader(a, () -> load(a, engine, descriptor, bytes));
            } else if (!(unwrap(err) instanceof CancellationException)) {
                onLifecycle(() -> failed(a, a.source.label() + ": engine '" + engineName + "' is not available: no"
                        + " InferenceEngine service named '" + engineName + "' appeared within "
                        + settings.engineWaitMs() + " ms (engines present: " + engines.names() + "); install the"
                        + " engine bundle, or fix field 'engine' of " + a.source.descriptorPath(), engineName));
            }
        });
    }

    private void load(Attempt a, InferenceEngine engine, ModelDescriptor descriptor, byte[] bytes) {
        if (a.cancelled) {
            return;
        }
        String modelPath = DescriptorReader.entryPath(a.source.descriptorPath(), descriptor.file());
        long started = System.nanoTime();
        LoadedModel model;
        try {
            model = engine.load(new ModelArtifact(descriptor, bytes, a.source.label() + ", " + modelPath));
        } catch (EngineException e) {
            onLifecycle(() -> failed(a, a.source.label() + ": " + modelPath + ": engine '" + descriptor.engine()
                    + "' cannot load the model (" + e.reason() + "): " + e.getMessage(), null));
            return;
        } catch (RuntimeException | LinkageError e) {
            LOG.warn("{}: engine '{}' threw while loading {}", a.source.label(), descriptor.engine(), modelPath, e);
            onLifecycle(() -> failed(a, a.source.label() + ": " + modelPath + ": engine '" + descriptor.engine()
                    + "' failed while loading the model: " + e, null));
            return;
        }
        ModelDescriptor effective;
        try {
            effective = ModelSignature.reconcile(a.source.info(), a.source.descriptorPath(), descriptor, model);
        } catch (PluginException e) {
            closeQuietly(model, a.source);
            onLifecycle(() -> failed(a, e.getMessage(), null));
            return;
        }
        long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started);
        if (!onLifecycle(() -> loaded(a, model, engine, effective, millis))) {
            closeQuietly(model, a.source);
        }
    }

    private void loaded(Attempt a, LoadedModel model, InferenceEngine engine, ModelDescriptor effective, long millis) {
        if (stale(a)) {
            closeQuietly(model, a.source);
            return;
        }
        if (!engines.contains(engine)) {
            closeQuietly(model, a.source);
            failed(a, a.source.label() + ": engine '" + effective.engine() + "' went away while the model was loading",
                    effective.engine());
            return;
        }
        if (!repository.ready(a.version, model, engine, effective)) {
            closeQuietly(model, a.source);
            return;
        }
        a.done = true;
        PluginRecord r = plugins.get(a.source.bundleId());
        r.state = ModelState.READY;
        r.error = "";
        cancel(r.graceTimer);
        LOG.info("{}: model '{}' {} is READY on {} (loaded in {} ms)", a.source.label(), effective.name(),
                effective.version(), a.version.accelerator(), millis);
        settle(a.source.bundleId());
    }

    private void failed(Attempt a, String message, String awaitingEngine) {
        if (stale(a)) {
            return;
        }
        a.done = true;
        if (a.version != null) {
            repository.fail(a.version, message);
        }
        PluginRecord r = plugins.get(a.source.bundleId());
        r.state = ModelState.FAILED;
        r.error = message;
        r.awaitingEngine = awaitingEngine;
        LOG.warn("{}", message);
        keepRetiringServing(r);
        settle(a.source.bundleId());
    }

    private void keepRetiringServing(PluginRecord r) {
        List<ModelVersion> retiring = repository.retiring(r.bundleId);
        if (!retiring.isEmpty()) {
            cancel(r.graceTimer);
            r.graceTimer = null;
            LOG.warn("{}: its new revision failed, so {} keeps serving until the plugin is uninstalled or a later"
                    + " revision loads", r.source.label(), labels(retiring));
        }
    }

    private void drainRetiring(long bundleId, String why) {
        for (ModelVersion v : repository.retiring(bundleId)) {
            LOG.info("{} from {}: draining and unloading, {}", v.label(), v.plugin().label(), why);
            repository.drain(v);
        }
    }

    private boolean stale(Attempt a) {
        PluginRecord r = plugins.get(a.source.bundleId());
        return closed || a.cancelled || r == null || r.attempt != a;
    }

    private void cancelAttempt(PluginRecord r) {
        Attempt a = r.attempt;
        if (a == null) {
            return;
        }
        r.attempt = null;
        if (a.done) {
            return;
        }
        a.cancelled = true;
        if (a.engineWait != null) {
            a.engineWait.cancel(false);
        }
        if (a.version != null && a.version.state() == ModelState.LOADING) {
            repository.remove(a.version);
        }
    }

    private PluginRecord record(PluginSource source) {
        PluginRecord r = plugins.computeIfAbsent(source.bundleId(), id -> new PluginRecord(id, source));
        r.source = source;
        if (r.model.isEmpty() && source.declaredModel() != null) {
            r.model = source.declaredModel();
            r.modelVersion = source.declaredModelVersion() == null ? "" : source.declaredModelVersion();
        }
        return r;
    }

    private void settle(long bundleId) {
        if (awaited.remove(bundleId)) {
            updateReady();
        }
    }

    private void updateReady() {
        boolean now = opened && awaited.isEmpty();
        if (now && !ready) {
            LOG.info("every model plugin present at start-up has been processed");
        }
        ready = now;
    }

    private boolean onLifecycle(Runnable task) {
        try {
            lifecycle.execute(() -> {
                try {
                    task.run();
                } catch (RuntimeException e) {
                    LOG.error("model lifecycle task failed", e);
                }
            });
            return true;
        } catch (RejectedExecutionException e) {
            return false;
        }
    }

    private void onLoader(Attempt a, Runnable task) {
        try {
            loaders.execute(task);
        } catch (RejectedExecutionException e) {
            LOG.debug("{}: not loaded, serving is shutting down", a.source.label());
        }
    }

    private ScheduledFuture<?> schedule(Runnable task, long delayMs) {
        try {
            return lifecycle.schedule(() -> {
                try {
                    task.run();
                } catch (RuntimeException e) {
                    LOG.error("model lifecycle timer failed", e);
                }
            }, delayMs, TimeUnit.MILLISECONDS);
        } catch (RejectedExecutionException e) {
            return null;
        }
    }

    private static void cancel(ScheduledFuture<?> timer) {
        if (timer != null) {
            timer.cancel(false);
        }
    }

    private static void closeQuietly(LoadedModel model, PluginSource source) {
        try {
            model.close();
        } catch (RuntimeException e) {
            LOG.warn("{}: closing a discarded model failed: {}", source.label(), e.toString());
        }
    }

    private static Throwable unwrap(Throwable t) {
        return t instanceof CompletionException && t.getCause() != null ? t.getCause() : t;
    }

    private static String labels(List<ModelVersion> versions) {
        return versions.stream().map(ModelVersion::label).collect(Collectors.joining(", "));
    }

    /** One try at loading one plugin revision. */
    private static final class Attempt {
        final PluginSource source;
        volatile boolean cancelled;
        volatile boolean done;
        ModelVersion version;                                   // lifecycle thread
        CompletableFuture<InferenceEngine> engineWait;          // lifecycle thread

        Attempt(PluginSource source) {
            this.source = source;
        }
    }

    /** What the extender knows about one plugin bundle. Written on the lifecycle thread only. */
    private static final class PluginRecord {
        final long bundleId;
        volatile PluginSource source;
        volatile Attempt attempt;
        volatile ModelState state = ModelState.UNLOADED;
        volatile String error = "";
        volatile String model = "";
        volatile String modelVersion = "";
        volatile boolean active;
        volatile boolean unresolvable;
        volatile String diagnosedRevision;
        volatile String awaitingEngine;
        volatile ScheduledFuture<?> graceTimer;
        volatile ScheduledFuture<?> diagnosis;

        PluginRecord(long bundleId, PluginSource source) {
            this.bundleId = bundleId;
            this.source = source;
        }
    }
}
