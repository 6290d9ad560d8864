package io.tollgate.serving.internal;

import io.tollgate.engine.spi.InferenceEngine;
import io.tollgate.model.ModelDescriptor;
import io.tollgate.serving.ModelState;
import io.tollgate.serving.PluginStatus;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executor;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The model plugin lifecycle: turns plugin and engine events into {@link PluginState} transitions and
 * decides what loads, serves on, drains or unloads. The jobs it delegates: {@link LoadAttempt} (one
 * load of one revision), {@link UpgradeGrace} (a stopped plugin's models serve through an upgrade),
 * {@link ResolveDiagnosis} (why a plugin stays INSTALLED), {@link StartupReadiness} (ready once the
 * plugins present at start-up are processed); {@link PluginRecord} holds each plugin's state.
 *
 * <p>Threads: the event methods may be called from any thread (the framework's, for bundle events)
 * and only enqueue. All plugin bookkeeping runs on the single {@code tollgate-model-lifecycle} thread
 * (see {@link LifecycleExecutor}); {@link #statuses()} and {@link #ready()} read from any thread.
 *
 * <p>Upgrade rules: when a plugin stops, its READY versions keep serving ("retiring") for up to
 * {@code upgradeGraceMs}. A new revision of the same bundle that becomes READY replaces them (they
 * drain). If the new revision fails (bad descriptor, model, engine, or it cannot be resolved), the
 * old versions keep serving until the plugin is uninstalled or a later revision succeeds. If the
 * grace passes with no new revision on the way, they drain. Uninstalling drains at once.
 */
final class ModelLoader implements LoadAttempt.Owner, ResolveDiagnosis.Owner {
    private static final Logger LOG = LoggerFactory.getLogger(ModelLoader.class);

    /** Timings of the lifecycle. */
    record Settings(long upgradeGraceMs, long engineWaitMs, long resolveSettleMs, long maxModelBytes,
                    long loadTimeoutMs) {
    }

    private final ModelRepository repository;
    private final LifecycleExecutor threads;
    private final LoadAttempt.Context loads;
    private final Map<Long, PluginRecord> plugins = new ConcurrentHashMap<>();
    private final StartupReadiness readiness = new StartupReadiness();
    private final UpgradeGrace grace;
    private final ResolveDiagnosis diagnosis;
    private volatile boolean closed;
    private final long loadTimeoutMs;
    private volatile Runnable modelReady = () -> { };
    private volatile java.util.function.BiConsumer<String, io.tollgate.serving.InferenceException> deferred =
            (m, e) -> { };
    /** Plugins whose encrypted model waits for a license carrying its key (lifecycle thread). */
    private final Set<Long> awaitingModelKey = new java.util.HashSet<>();
    /** Models whose specific version policy names no installed version, with the policy: warned once (lifecycle). */
    private final Set<String> policyWarned = new java.util.HashSet<>();
    private final Placements placements;

    ModelLoader(ModelRepository repository, EngineDirectory engines, ScheduledExecutorService lifecycle,
                Executor loaders, Settings settings) {
        this(repository, engines, lifecycle, loaders, settings, () -> null);
    }

    /** As above, with the licensing service that gives encrypted models their keys. */
    ModelLoader(ModelRepository repository, EngineDirectory engines, ScheduledExecutorService lifecycle,
                Executor loaders, Settings settings,
                java.util.function.Supplier<io.tollgate.licensing.Entitlements> entitlements) {
        this(repository, engines, lifecycle, loaders, settings, entitlements, new Placements());
    }

    /** As above, placing each model instance with {@code placements} (issue 12). */
    ModelLoader(ModelRepository repository, EngineDirectory engines, ScheduledExecutorService lifecycle,
                Executor loaders, Settings settings,
                java.util.function.Supplier<io.tollgate.licensing.Entitlements> entitlements, Placements placements) {
        this.repository = repository;
        this.threads = new LifecycleExecutor(lifecycle, loaders);
        this.placements = placements;
        this.loads = new LoadAttempt.Context(repository, engines, threads, settings.engineWaitMs(),
                settings.maxModelBytes(), settings.loadTimeoutMs(), this, entitlements, placements, this::evicted);
        this.grace = new UpgradeGrace(repository, threads, settings.upgradeGraceMs(), plugins::get,
                this::applyVersionPolicies);   // a retiring version that drained no longer holds the policy back
        this.diagnosis = new ResolveDiagnosis(threads, settings.resolveSettleMs(), this);
        this.loadTimeoutMs = settings.loadTimeoutMs();
        repository.onReconfigured(name -> threads.onLifecycle(() -> applyVersionPolicy(name)));
        repository.loadingUnlisted(name -> plugins.values().stream()
                .anyMatch(r -> r.state() instanceof PluginState.Loading && name.equals(r.model())));
    }

    // ---- events (any thread) -------------------------------------------------------------------

    /**
     * The tracker has reported every plugin present; {@code awaitedIds} are those expected to load
     * (started, or starting with the framework) or to be diagnosed (unresolved).
     */
    void opened(Set<Long> awaitedIds) {
        threads.onLifecycle(() -> {
            List<Long> unprocessed = new ArrayList<>();
            for (Long id : awaitedIds) {
                PluginRecord r = plugins.get(id);
                ModelState state = r == null ? null : r.state().reported();
                if (r != null && state != ModelState.READY && state != ModelState.FAILED) {
                    unprocessed.add(id);
                }
            }
            readiness.opened(unprocessed);
        });
    }

    /** The tracker closed: plugin events stop until it opens again. */
    void trackerClosed() {
        threads.onLifecycle(readiness::closed);
    }

    /** A plugin revision is ACTIVE: load its model. */
    void started(PluginSource source) {
        threads.onLifecycle(() -> onStarted(source));
    }

    /** A plugin revision is RESOLVED (or starting/stopping): known, nothing to load. */
    void resolved(PluginSource source) {
        threads.onLifecycle(() -> {
            PluginRecord r = record(source);
            r.moveTo(r.state().resolved(), "its bundle resolved");
        });
    }

    /** A plugin revision is INSTALLED (not resolved); if it stays so, report why, once per revision. */
    void installed(PluginSource source) {
        threads.onLifecycle(() -> onInstalled(source));
    }

    /** A plugin stopped (or is being updated): its models serve on through the upgrade grace. */
    void stopped(long bundleId) {
        threads.onLifecycle(() -> onStopped(bundleId));
    }

    /** A plugin was uninstalled (or no longer declares a model): drain and unload its models now. */
    void uninstalled(long bundleId) {
        threads.onLifecycle(() -> onUninstalled(bundleId));
    }

    /** An engine was registered: plugins that failed for want of it load again. */
    void engineAdded(String name) {
        threads.onLifecycle(() -> {
            for (PluginRecord r : plugins.values()) {
                if (r.state() instanceof PluginState.Failed failed && name.equals(failed.awaitingEngine())) {
                    LOG.info("{}: engine '{}' is back; loading the model again", r.source().label(), name);
                    startAttempt(r, r.source());
                }
            }
        });
    }

    /** An engine was unregistered: models it runs fail (and close once their requests finish). */
    void engineRemoved(InferenceEngine engine, String name) {
        threads.onLifecycle(() -> {
            String why = "engine " + name + " went away; the model loads again when an engine named '" + name
                    + "' is registered";
            List<ModelVersion> lost = repository.all().stream().filter(v -> v.engine() == engine
                    && (v.state() == ModelState.READY || v.state() == ModelState.DRAINING)).toList();
            for (ModelVersion v : lost) {
                LOG.warn("{} from {}: {}", v.label(), v.plugin().label(), why);
                PluginRecord r = plugins.get(v.plugin().bundleId());
                // the plugin says why before its version shows FAILED; a version the policy unloads keeps its
                // plugin's NotSelected, an evicted or unloaded one its Evicted or Failed: it no longer serves either
                // way (only a serving plugin's state has an engine to lose)
                if (r != null && r.source().revisionKey().equals(v.plugin().revisionKey()) && !v.excluded()
                        && (r.state() instanceof PluginState.Ready || r.state() instanceof PluginState.Inactive)) {
                    r.moveTo(r.state().engineLost(v.plugin().label() + ": " + why, name), "its engine went away");
                }
                repository.fail(v, why);
                repository.unpark(v);       // an evicted one draining: FAILED now, like a READY one
            }
            applyVersionPolicies();
        });
    }

    /**
     * The license of {@code v} no longer entitles it: new requests are refused at once, requests in flight finish, then
     * its model closes (as an uninstall drains); the version and its plugin report FAILED with {@code why}.
     */
    void licenseLost(ModelVersion v, String why) {
        threads.onLifecycle(() -> {
            if (v.state() != ModelState.READY) {
                return;
            }
            LOG.warn("{} from {}: {}; new requests are refused with this reason, requests in flight finish, then the "
                    + "model unloads", v.label(), v.plugin().label(), why);
            PluginRecord r = plugins.get(v.plugin().bundleId());
            if (r != null && r.source().revisionKey().equals(v.plugin().revisionKey())
                    && (r.state() instanceof PluginState.Ready || r.state() instanceof PluginState.Inactive)) {
                // the plugin says why before its version shows FAILED
                r.moveTo(r.state().licenseLost(v.plugin().label() + ": " + why), "its license no longer entitles it");
            }
            repository.failUnlicensed(v, why);
            applyVersionPolicy(v.name());
        });
    }

    /** A plugin whose model stopped for want of a license is entitled again: its model loads again. */
    void relicensed(long bundleId) {
        threads.onLifecycle(() -> {
            PluginRecord r = plugins.get(bundleId);
            if (r != null && r.state() instanceof PluginState.Failed) {
                LOG.info("{}: a license entitles it again; loading its model", r.source().label());
                startAttempt(r, r.source());
            }
        });
    }

    /**
     * Unloads model {@code name} (RepositoryControl): the repository refuses its requests from now on and drains its
     * loaded versions; its plugins stay installed and report FAILED with the reason, and nothing of them loads until
     * {@link #load}. Completes once requests are refused.
     */
    CompletableFuture<Void> unload(String name) {
        CompletableFuture<Void> done = new CompletableFuture<>();
        if (!threads.onLifecycle(() -> {
            try {
                repository.unload(name);
                String why = LoadAttempt.UNLOADED + " (POST /v2/repository/models/" + name + "/load loads it)";
                for (PluginRecord r : plugins.values()) {
                    if (r.status(false).model().equals(name) && r.state().started()) {
                        r.moveTo(new PluginState.Failed(r.state().revisionKey(), r.source().label() + ": " + why,
                                null), "its model was unloaded");
                    }
                }
                for (ModelVersion v : repository.all()) {
                    if (v.name().equals(name) && v.state() == ModelState.LOADING) {
                        repository.remove(v);
                    }
                }
            } finally {
                done.complete(null);
            }
        })) {
            done.complete(null);
        }
        return done;
    }

    /**
     * Loads model {@code name} again: lifts the unload and starts a load of each started plugin that holds the model
     * and has no version loading or serving. Completes (with the plugins' bundle ids) once the loads are under way.
     */
    CompletableFuture<List<Long>> load(String name) {
        CompletableFuture<List<Long>> started = new CompletableFuture<>();
        if (!threads.onLifecycle(() -> {
            List<Long> ids = new ArrayList<>();
            try {
                for (PluginRecord r : plugins.values()) {
                    if (!r.status(false).model().equals(name) || !r.state().started()) {
                        continue;
                    }
                    ids.add(r.bundleId());
                    boolean live = repository.ofBundle(r.bundleId()).stream().anyMatch(v -> !v.retiring()
                            && (v.state() == ModelState.READY || v.state() == ModelState.LOADING));
                    if (!live && !(r.state() instanceof PluginState.Loading)) {
                        startAttempt(r, r.source());    // it reads the plugin on a loader thread, then lists it
                    }
                }
                // lifted once its plugins are loading: a request in between is told it is loading, never that the
                // model is not installed
                repository.loadAgain(name);
            } finally {
                started.complete(ids);
            }
        })) {
            started.complete(List.of());
        }
        return started;
    }

    /**
     * Placement evicted {@code placement}'s instance to make room (issue 12; any thread, called while placing): its
     * READY version drains and closes, requests for the model are answered with the reason until it loads again, and
     * its plugin reports UNLOADED with the reason. A version still LOADING keeps loading and is placed again once
     * READY.
     */
    void evicted(io.tollgate.accelerator.Placement placement, String reason) {
        placements.evicted(placement.model(), placement.version());
        threads.onLifecycle(() -> {
            for (ModelVersion v : repository.all()) {
                if (!v.name().equals(placement.model()) || !v.version().equals(placement.version())
                        || v.state() != ModelState.READY || v.retiring() || placements.owns(v)) {
                    continue;       // not this instance, or placed again since (it finished loading after the eviction)
                }
                LOG.info("{} from {} on {}: {}; requests in flight finish, then it unloads; it loads again on the next"
                        + " request", v.label(), v.plugin().label(), placement.acceleratorId(), reason);
                repository.evict(v, reason);
                PluginRecord r = plugins.get(v.plugin().bundleId());
                if (r != null && r.state() instanceof PluginState.Ready
                        && r.source().revisionKey().equals(v.plugin().revisionKey())) {
                    r.moveTo(r.state().evicted(reason), "placement evicted its model");
                }
            }
        });
    }

    /**
     * Loads model {@code name} again where placement evicted it: starts a load of each started plugin of the model
     * whose state is Evicted. Completes (on the lifecycle thread) with the number of loads started.
     */
    CompletableFuture<Integer> reloadEvicted(String name) {
        CompletableFuture<Integer> started = new CompletableFuture<>();
        if (!threads.onLifecycle(() -> {
            int n = 0;
            try {
                for (PluginRecord r : plugins.values()) {
                    if (r.state() instanceof PluginState.Evicted && r.status(false).model().equals(name)) {
                        LOG.info("{}: a request for evicted model '{}' arrived; loading it again", r.source().label(),
                                DescriptorReader.printable(name));
                        startAttempt(r, r.source());
                        n++;
                    }
                }
            } finally {
                started.complete(n);
            }
        })) {
            started.complete(0);
        }
        return started;
    }

    /** The plugins (any state) whose model is {@code name}. */
    List<PluginStatus> pluginsOf(String name) {
        List<PluginStatus> out = new ArrayList<>();
        for (PluginStatus p : statuses()) {
            if (p.model().equals(name)) {
                out.add(p);
            }
        }
        return out;
    }

    /**
     * Licenses changed: a plugin whose encrypted model could not be opened for want of its key (no key in the license,
     * wrapped for another device, not entitled) loads again, since the new licenses may carry it. Once per change.
     */
    void licensingChanged() {
        threads.onLifecycle(() -> {
            for (Long id : List.copyOf(awaitingModelKey)) {
                awaitingModelKey.remove(id);
                PluginRecord r = plugins.get(id);
                if (r != null && r.state() instanceof PluginState.Failed) {
                    LOG.info("{}: licenses changed; opening its encrypted model again", r.source().label());
                    startAttempt(r, r.source());
                }
            }
        });
    }

    /** {@code listener} runs (on the lifecycle thread) each time a model version becomes READY. */
    void onModelReady(Runnable listener) {
        this.modelReady = listener;
    }

    /** Stops all loading and timers; models already loaded stay with the repository. */
    void close() {
        closed = true;
        CompletableFuture<Void> done = new CompletableFuture<>();
        if (!threads.onLifecycle(() -> {
            plugins.values().forEach(PluginRecord::cancelLoad);
            grace.cancelAll();
            diagnosis.cancelAll();
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
        return readiness.ready();
    }

    /**
     * Why serving is not ready yet, for the {@code plugins} readiness check; empty when it is. Any thread, never
     * blocks.
     */
    Optional<String> notReadyReason() {
        if (readiness.ready()) {
            return Optional.empty();
        }
        Set<Long> waiting = readiness.waitingFor();
        if (waiting == null) {
            return Optional.of("the model plugin tracker has not opened yet (serving is starting)");
        }
        List<String> labels = new ArrayList<>();
        for (Long id : waiting) {
            PluginRecord r = plugins.get(id);
            labels.add(r == null ? "bundle " + id : r.source().label());
        }
        labels.sort(null);
        return Optional.of("model plugins present at start-up are still loading: " + String.join(", ", labels)
                + "; each ends READY or FAILED within load.timeout.ms (" + loadTimeoutMs + " ms): GET /admin/plugins");
    }

    List<PluginStatus> statuses() {
        List<PluginStatus> out = new ArrayList<>();
        for (PluginRecord r : plugins.values()) {
            out.add(r.status(!repository.retiring(r.bundleId()).isEmpty()));
        }
        out.sort(Comparator.comparingLong(PluginStatus::bundleId));
        return out;
    }

    // ---- lifecycle thread ----------------------------------------------------------------------

    private void onStarted(PluginSource source) {
        PluginRecord r = record(source);
        diagnosis.cancel(source.bundleId());
        PluginState state = r.state();
        if (state.started() && state.revisionKey().equals(source.revisionKey())) {
            return;     // the same revision reported twice (e.g. the tracker reopened)
        }
        if (state instanceof PluginState.Inactive && repository.resume(source.bundleId(), source.revisionKey())) {
            grace.cancel(source.bundleId());
            r.moveTo(state.resume(source.revisionKey()), "restarted unchanged");
            for (ModelVersion v : repository.ofBundle(source.bundleId())) {
                // what a later revision left listed (a cancelled load, a failure) goes: the resumed version serves
                if (!v.retiring() && (v.state() == ModelState.LOADING || v.state() == ModelState.FAILED)) {
                    repository.remove(v);
                }
            }
            LOG.info("{}: restarted unchanged; its model serves on", source.label());
            readiness.settled(source.bundleId());
            return;
        }
        startAttempt(r, source);
    }

    private void startAttempt(PluginRecord r, PluginSource source) {
        awaitingModelKey.remove(r.bundleId());
        LoadAttempt attempt = new LoadAttempt(source, loads);
        // cancels an attempt in progress; its LOADING version, like a FAILED one, stays listed until the new load is
        // (ModelRepository#add) or fails (#failed): a reader never finds the model absent (issue 11)
        r.moveTo(r.state().load(attempt), "loading");
        LOG.info("{}: loading its model", source.label());
        attempt.start();
    }

    private void onInstalled(PluginSource source) {
        PluginRecord r = record(source);
        if (r.state().started()) {
            // The tracker reports STOPPED before a started bundle is INSTALLED again; should it not, it stopped now.
            onStopped(source.bundleId());
        }
        Optional<String> refusal = source.refusal();
        if (refusal.isPresent()) {
            refuse(r, source, refusal.get());
            return;
        }
        diagnosis.installed(source);
    }

    /**
     * The plugin guard refused this revision (it carries code): the framework will never resolve it, so there is
     * nothing to diagnose or wait for. It is FAILED at once with the guard's reason, in {@code /admin/plugins} and,
     * under the model it declares, in the repository index. The guard's resolver hook has logged it at WARN.
     */
    private void refuse(PluginRecord r, PluginSource source, String reason) {
        String error = source.label() + " is refused: " + reason;
        diagnosis.cancel(source.bundleId());
        repository.unpark(source.bundleId());       // an evicted version of it no longer reloads on demand
        // an earlier revision's failure, or this one's reported before: the refusal takes its place
        List<ModelVersion> replaced = repository.ofBundle(source.bundleId()).stream()
                .filter(v -> !v.retiring() && (v.state() == ModelState.FAILED || v.state() == ModelState.LOADING))
                .collect(java.util.stream.Collectors.toList());
        r.moveTo(r.state().unresolvable(error), "the plugin guard refused it");
        if (source.declaredModel() != null) {
            String version = source.declaredModelVersion() == null ? source.version() : source.declaredModelVersion();
            // issue 11: listed before the version it replaces goes (the launcher refreshes a plugin whose license
            // ended: 403 with the reason throughout, never a 404 between); unlicensed only when this refusal is the
            // license's, never carried over from the one it replaces (a guard or read refusal is not a license one)
            boolean unlicensed = source.refusedByLicense();
            repository.refused(source.info(), source.declaredModel(), version, error, unlicensed, replaced);
        } else {
            replaced.forEach(repository::remove);
        }
        LOG.debug("{}", error);
        if (source.refusedByLicense()) {
            grace.withdrawn(r, "its plugin is no longer entitled (" + reason + ")");   // issue 10: no grace
        } else {
            grace.keepServing(r);
        }
        readiness.settled(source.bundleId());
    }

    private void onStopped(long bundleId) {
        PluginRecord r = plugins.get(bundleId);
        if (r == null) {
            return;
        }
        r.moveTo(r.state().stop(), "its bundle stopped");       // cancels a load in progress
        List<ModelVersion> leftOver = new ArrayList<>();
        for (ModelVersion v : repository.ofBundle(bundleId)) {
            // A version stopped for want of a license stays listed with its reason while the launcher refreshes
            // its plugin (requests keep getting 403 with the reason, never a 404 in between); the next start or the
            // guard's refusal of the refreshed bundle replaces it. A version still loading, or failed, stays listed
            // through the upgrade grace (issue 11: a plugin restarted meanwhile never leaves its model absent); the
            // next load replaces it, else it goes when the grace passes. A version the policy unloaded goes now (the
            // versions the policy selects keep the model listed).
            if (v.excluded()) {
                repository.remove(v);
            } else if (!v.retiring() && (v.state() == ModelState.LOADING
                    || (v.state() == ModelState.FAILED && !v.unlicensed()))) {
                leftOver.add(v);
            }
        }
        repository.unpark(bundleId);
        grace.stopped(r, leftOver);
        readiness.settled(bundleId);
    }

    private void onUninstalled(long bundleId) {
        PluginRecord r = plugins.remove(bundleId);
        if (r != null) {
            r.moveTo(r.state().stop(), "its bundle was uninstalled");
            grace.cancel(bundleId);
            diagnosis.forget(bundleId);
            LOG.info("{} uninstalled; unloading its models", r.source().label());
        }
        for (ModelVersion v : repository.ofBundle(bundleId)) {
            repository.remove(v);
        }
        repository.unpark(bundleId);
        readiness.settled(bundleId);
        applyVersionPolicies();
    }

    // ---- version policy (lifecycle thread) -------------------------------------------------------

    /** {@link #applyVersionPolicy} for every model held: after a version went away, the policy may select another. */
    private void applyVersionPolicies() {
        for (String name : repository.all().stream().map(ModelVersion::name).distinct().toList()) {
            applyVersionPolicy(name);
        }
    }

    /**
     * Issue 11, as Triton applies a version policy: a READY version the policy of model {@code name} does not select
     * is unloaded (its requests in flight finish, its model closes and its placement is released; it stays listed,
     * and its plugin reports UNLOADED with the reason), and a version unloaded so that the policy selects again loads
     * again. Versions are unloaded only once none the policy selects is still loading, so the model serves throughout
     * (ModelRepository#route serves the old one until then). Not for a model an operator unloaded, nor for retiring
     * versions (the upgrade grace decides those).
     */
    private void applyVersionPolicy(String name) {
        if (closed || repository.isUnloaded(name)) {
            return;
        }
        ModelRepository.Selection selection = repository.selection(name);
        if (selection.fallsBack() && policyWarned.add(name + "\n" + selection.describe())) {
            LOG.warn("model '{}': {} (conf/models/{}.json or its plugin's descriptor)", name, selection.describe(),
                    name);
        } else if (!selection.fallsBack()) {
            policyWarned.removeIf(k -> k.startsWith(name + "\n"));
        }
        List<ModelVersion> held = repository.candidates(name, null);
        for (ModelVersion v : held) {
            PluginRecord r = plugins.get(v.plugin().bundleId());
            if (v.excluded() && selection.selects(v) && r != null && r.state() instanceof PluginState.NotSelected
                    && r.source().revisionKey().equals(v.plugin().revisionKey())) {
                LOG.info("{} from {}: selected by the version policy again ({}); loading it", v.label(),
                        v.plugin().label(), selection.describe());
                startAttempt(r, r.source());
            }
        }
        // a version it selects that placement evicted loads again when none it selects serves and no request would
        // reload it (the evicted-model path reloads on a request only while the model is marked evicted: another
        // version READY since clears that); while it is marked, it waits for a request, so that an unrelated policy
        // pass never takes back at once the memory placement freed
        boolean selectedServes = held.stream().anyMatch(v -> selection.selects(v) && v.state() == ModelState.READY
                && !v.excluded()) || repository.evictedReason(name).isPresent();
        boolean awaitingParked = false;
        for (PluginRecord r : plugins.values()) {
            Optional<ModelVersion> p = r.state() instanceof PluginState.Evicted && name.equals(r.model())
                    ? repository.parked(r.bundleId()) : Optional.empty();
            if (p.isPresent() && selection.selects(p.get()) && !selectedServes) {
                LOG.info("{} from {}: evicted, and selected by the version policy ({}) with none it selects serving;"
                        + " loading it again", p.get().label(), r.source().label(), selection.describe());
                startAttempt(r, r.source());
                awaitingParked = true;
            }
        }
        if (awaitingParked || held.stream().anyMatch(v -> selection.selects(v)
                && (v.state() == ModelState.LOADING || (v.excluded() && ModelRepository.installed(v))))) {
            return;     // the versions it selects are not all READY yet: the others serve on until they are
        }
        for (ModelVersion v : held) {
            if (v.state() != ModelState.READY || v.retiring() || v.excluded() || selection.selects(v)) {
                continue;
            }
            String reason = ModelRepository.NOT_SELECTED + " (" + selection.describe() + ")";
            LOG.info("{} from {}: {}; requests in flight finish, then it unloads", v.label(), v.plugin().label(),
                    reason);
            repository.exclude(v);
            PluginRecord r = plugins.get(v.plugin().bundleId());
            if (r != null && r.state() instanceof PluginState.Ready
                    && r.source().revisionKey().equals(v.plugin().revisionKey())) {
                r.moveTo(r.state().notSelected(reason), "its version policy does not select its model");
            }
        }
    }

    private PluginRecord record(PluginSource source) {
        PluginRecord r = plugins.computeIfAbsent(source.bundleId(), id -> new PluginRecord(source));
        r.observed(source);
        return r;
    }

    // ---- LoadAttempt.Owner (lifecycle thread) --------------------------------------------------

    @Override
    public boolean isCurrent(LoadAttempt attempt) {
        PluginRecord r = plugins.get(attempt.source().bundleId());
        return !closed && r != null && r.state() instanceof PluginState.Loading loading && loading.attempt() == attempt;
    }

    @Override
    public void described(LoadAttempt attempt, ModelDescriptor descriptor) {
        plugins.get(attempt.source().bundleId()).described(descriptor.name(), descriptor.version());
    }

    @Override
    public void loaded(LoadAttempt attempt, ModelDescriptor effective, long millis) {
        PluginSource source = attempt.source();
        PluginRecord r = plugins.get(source.bundleId());
        r.moveTo(r.state().loaded(attempt), "its model loaded");
        grace.cancel(source.bundleId());
        placements.placedAgainIfEvicted(attempt.version(), this::evicted);
        LOG.info("{}: model '{}' {} is READY on {} (loaded in {} ms)", source.label(), effective.name(),
                effective.version(), attempt.version().accelerator(), millis);
        readiness.settled(source.bundleId());
        modelReady.run();
        applyVersionPolicy(effective.name());
    }

    @Override
    public Optional<String> unselected(LoadAttempt attempt) {
        ModelVersion v = attempt.version();
        if (closed || repository.isUnloaded(v.name())) {
            return Optional.empty();
        }
        // the versions other plugins of the model are loading count before they list them (at start-up every plugin
        // starts at once): with latest N, a version that N newer ones outrank is not loaded at all
        Set<org.osgi.framework.Version> declared = new java.util.HashSet<>();
        for (PluginRecord o : plugins.values()) {
            PluginStatus st = o.status(false);
            if (o.bundleId() != attempt.source().bundleId() && o.state() instanceof PluginState.Loading
                    && st.model().equals(v.name()) && !st.modelVersion().isEmpty()) {
                declared.add(ModelVersion.parse(st.modelVersion()));
            }
        }
        // (a plugin's retiring version does not count: this revision replaces it, a downgrade included)
        ModelRepository.Selection selection = repository.selection(v.name(), declared, attempt.source().bundleId());
        return selection.selects(v) ? Optional.empty()
                : Optional.of(ModelRepository.NOT_SELECTED + " (" + selection.describe() + ")");
    }

    @Override
    public void notSelected(LoadAttempt attempt, String reason) {
        PluginRecord r = plugins.get(attempt.source().bundleId());
        r.moveTo(r.state().notSelected(reason), "its version policy does not select its model");
        LOG.info("{}: {} {}; not loading it (it loads when the policy selects it)", attempt.source().label(),
                attempt.version().label(), reason);
        readiness.settled(r.bundleId());
        applyVersionPolicy(attempt.version().name());
    }

    @Override
    public void awaitsLicense(LoadAttempt attempt) {
        awaitingModelKey.add(attempt.source().bundleId());
    }

    @Override
    public void deferred(LoadAttempt attempt, String message, long retryAfterMs) {
        PluginRecord r = plugins.get(attempt.source().bundleId());
        if (!(r.state() instanceof PluginState.Loading loading)) {
            return;
        }
        r.moveTo(loading.deferred(attempt, PlacementNotes.NO_ROOM), "placement has no room for its model yet");
        String model = r.status(false).model();
        repository.deferred(attempt.version(), model, PlacementNotes.NO_ROOM);
        LOG.warn("{}: {}", attempt.source().label(), message);
        readiness.settled(r.bundleId());
        deferred.accept(model, new io.tollgate.serving.InferenceException(
                io.tollgate.serving.InferenceException.Reason.OVERLOADED, message + "; retry in "
                + PlacementNotes.seconds(retryAfterMs) + " s", PlacementNotes.seconds(retryAfterMs)));
    }

    /** {@code listener} is told (lifecycle thread) the model and the refusal when a load found no room yet. */
    void onDeferred(java.util.function.BiConsumer<String, io.tollgate.serving.InferenceException> listener) {
        this.deferred = listener;
    }

    @Override
    public void failing(LoadAttempt attempt, String message, String awaitingEngine) {
        PluginRecord r = plugins.get(attempt.source().bundleId());
        r.moveTo(r.state().loadFailed(attempt, message, awaitingEngine), "its model did not load");
    }

    @Override
    public void failed(LoadAttempt attempt, String message, String awaitingEngine) {
        PluginRecord r = plugins.get(attempt.source().bundleId());
        repository.unpark(r.bundleId());    // an evicted version whose reload failed is FAILED now, not parked
        List<ModelVersion> superseded = new ArrayList<>();
        for (ModelVersion v : repository.ofBundle(r.bundleId())) {
            // the failure before this attempt, or a cancelled load's version, kept listed while it ran, is superseded
            // by this one; a version the version policy had unloaded did not load again: its plugin's error says
            // why, it no longer counts
            if (v != attempt.version() && !v.retiring() && (v.state() == ModelState.FAILED || v.excluded()
                    || v.state() == ModelState.LOADING)) {
                superseded.add(v);
            }
        }
        PluginStatus status = r.status(false);
        if (attempt.version() == null && !status.model().isEmpty()
                && superseded.stream().anyMatch(v -> !v.excluded() && v.name().equals(status.model()))) {
            // this attempt failed before it listed a version (its plugin could not be read, the model is unloaded...):
            // its failure takes the place of the one listed, never a moment without the model (issue 11)
            String version = status.modelVersion().isEmpty() ? attempt.source().version() : status.modelVersion();
            // unlicensed only when this failure is the license's (its model key: awaitsLicense comes just before)
            repository.refused(attempt.source().info(), status.model(), version, message,
                    awaitingModelKey.contains(r.bundleId()), superseded);
        } else {
            superseded.forEach(repository::remove);
        }
        LOG.warn("{}", message);
        grace.keepServing(r);
        readiness.settled(r.bundleId());
        applyVersionPolicies();
    }

    // ---- ResolveDiagnosis.Owner (lifecycle thread) ---------------------------------------------

    @Override
    public boolean awaitsDiagnosis(PluginSource source) {
        PluginRecord r = plugins.get(source.bundleId());
        return r != null && r.source() == source && !r.state().started();
    }

    @Override
    public void diagnosed(PluginSource source, Optional<String> problem) {
        PluginRecord r = plugins.get(source.bundleId());
        if (problem.isPresent()) {
            String error = source.label() + " cannot be resolved: " + problem.get();
            r.moveTo(r.state().unresolvable(error), "its bundle cannot be resolved");
            LOG.warn("{}", error);
            grace.keepServing(r);
        }
        readiness.settled(source.bundleId());
    }
}
