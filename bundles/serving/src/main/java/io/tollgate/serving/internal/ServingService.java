package io.tollgate.serving.internal;

import io.tollgate.config.ConfigurationKeys;
import java.util.Map;
import io.tollgate.guard.PluginFile;
import io.tollgate.health.ReadinessCheck;
import io.tollgate.guard.PluginFileReport;
import io.tollgate.serving.ModelState;
import io.tollgate.licensing.Entitlements;
import io.tollgate.licensing.QuotaUsage;
import io.tollgate.sync.SyncStatusProvider;
import io.tollgate.engine.spi.InferenceEngine;
import io.tollgate.metering.MeteringException;
import io.tollgate.metering.UsageEvent;
import io.tollgate.metering.UsageJournal;
import io.tollgate.model.ModelDescriptor;
import io.tollgate.model.Tensor;
import io.tollgate.serving.InferenceException;
import io.tollgate.serving.InferenceException.Reason;
import io.tollgate.serving.RemoteRouteException;
import io.tollgate.serving.InferenceRequest;
import io.tollgate.serving.InferenceResponse;
import io.tollgate.serving.InferenceService;
import io.tollgate.serving.ModelRegistry;
import io.tollgate.serving.ModelStatistics;
import io.tollgate.serving.ModelStatus;
import io.tollgate.serving.PluginStatus;
import io.tollgate.serving.RepositoryControl;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.ConfigurationPolicy;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.osgi.service.component.annotations.ReferencePolicyOption;
import org.osgi.service.metatype.annotations.Designate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The serving layer: runs inferences ({@link InferenceService}) on the models it holds and reports
 * them ({@link ModelRegistry}); receives plugin events from {@link ModelPluginTracker}.
 *
 * <p>Threads it owns: {@code tollgate-infer-N} (worker_threads) run the models;
 * {@code tollgate-model-lifecycle} (one) does plugin bookkeeping, timers and model closes;
 * {@code tollgate-model-loader-N} (two) read plugin files and load models; {@code tollgate-batch-timer-1} ends batch
 * delays and queue timeouts of every version's {@link BatchScheduler} (which hands batches to the workers) and the wait
 * of a request for an evicted model (kept off the lifecycle thread, which may be the one that is stuck). {@link #infer}
 * does the cheap routing and validation on the caller's thread and never blocks it.
 *
 * <p>Metering: every request the engine ran successfully gets its usage record appended to the
 * {@link UsageJournal} on the worker thread, after the run and before the response completes. A
 * record that cannot be written fails the request with {@code METERING_UNAVAILABLE}: nothing is served
 * unmetered. The journal is a mandatory static reference, so without it this component does not
 * activate and nothing serves.
 *
 * <p>Licensing (docs/licensing.md, "Quotas and expiry on the appliance"): every request is checked against the
 * {@link Entitlements} service ({@link LicenseGate}: a cached entitlement per model version, a quota claimed per
 * request) before it is queued; the usage record names the license. Without that service nothing is served and the
 * {@code plugins} readiness check says why. A license that stops entitling a loaded model (expiry, revocation) drains
 * it ({@link LicenseWatch}). The per-license use is published as {@link QuotaUsage}.
 */
@Component(service = {InferenceService.class, ModelRegistry.class, PluginLifecycle.class, ReadinessCheck.class,
        QuotaUsage.class, RepositoryControl.class}, configurationPid = "io.tollgate.serving", configurationPolicy = ConfigurationPolicy.OPTIONAL)
@Designate(ocd = ServingConfig.class)
public final class ServingService implements InferenceService, ModelRegistry, PluginLifecycle, ReadinessCheck,
        QuotaUsage, RepositoryControl {
    private static final Logger LOG = LoggerFactory.getLogger(ServingService.class);
    private static final int LOADER_THREADS = 2;
    private static final int REMOTE_THREADS = 2;

    /** The status a usage record of a served request carries. */
    static final String STATUS_OK = "OK";

    private final ServingSettings settings;
    private final UsageJournal journal;
    private final ThreadPoolExecutor workers;
    final ScheduledThreadPoolExecutor lifecycle;   // package-private: tests occupy it
    private final ThreadPoolExecutor loaders;
    /** Batch delays and queue timeouts of every version's scheduler: tiny tasks that only hand work to the workers. */
    private final ScheduledThreadPoolExecutor batchTimer;
    private final SchedulerDirectory schedulers;
    private final EngineDirectory engines = new EngineDirectory();
    /** Where model instances run and what is evicted for what (issue 12); inert without a PlacementService. */
    private final Placements placements = new Placements();
    /** Statistics of the requests of route-only models, by route in force (weak: a replaced route's are dropped). */
    private final Map<RemoteRoute, VersionStatistics> routedStatistics = new java.util.WeakHashMap<>();
    /** Loads of evicted models that requests wait for, by model name (issue 12). */
    private final java.util.Map<String, CompletableFuture<Void>> reloads = new java.util.concurrent.ConcurrentHashMap<>();
    private final ModelRepository repository;
    /** Remote calls of the models' routes (hybrid overflow) complete on these ({@code tollgate-remote-N}). */
    private final ThreadPoolExecutor remoteThreads;
    /** The models' remote routes, from {@code conf/models/{m}.json} ({@link ModelConfigWatch}). */
    private final RouteTable routes;
    /** This box's Via pseudonym and the route-loop check (hybrid overflow). */
    private final RouteHops hops = new RouteHops();
    private final ModelLoader loader;
    private final LicenseGate licenses;
    private final OfflineChecks offline;
    private final LicenseWatch licenseWatch;
    private final Runnable licensingListener;
    private volatile boolean shuttingDown;
    private volatile PluginFileReport files;
    private volatile ModelConfigWatch configWatch;
    /** The kinds of this box's accelerators ({@link #accelerators}); the CPU alone until told. */
    private volatile Set<io.tollgate.accelerator.AcceleratorKind> acceleratorKinds =
            Set.of(io.tollgate.accelerator.AcceleratorKind.CPU);
    /** Models an operator unloaded; guarded by {@link #control}, which also serializes load and unload. */
    private UnloadedModels unloadedModels;
    private final java.util.concurrent.locks.ReentrantLock control =
            new java.util.concurrent.locks.ReentrantLock(true);     // fair: loads and unloads in the order they came
    /** What holds {@link #control} ("the unload of model 'm'"), for the message of a call that waited for it. */
    private volatile String controlHeldBy = "";

    @Activate
    public ServingService(@Reference(name = "journal") UsageJournal journal,
                          @Reference(name = "placement") io.tollgate.accelerator.PlacementService placement,
                          @Reference(name = "accelerators") io.tollgate.accelerator.AcceleratorInventory accelerators,
                          ServingConfig config, Map<String, Object> properties) {
        this(ServingSettings.from(checked(config, properties)), journal);
        // Static and mandatory: a model loaded before placement bound would hold no reservation (issue 12).
        placement(placement);
        // Static and mandatory too (the component that places is the one that has the inventory): the overrides are
        // read below, and an instance_group kind the box cannot honour is refused by what it has.
        accelerators(accelerators);
        if (!config.repository_state_dir().isBlank()) {
            keepUnloadedModelsIn(java.nio.file.Path.of(config.repository_state_dir().trim()));
        }
        if (!config.models_config_dir().isBlank()) {
            watchModelConfigs(java.nio.file.Path.of(config.models_config_dir().trim()));
        }
    }

    /**
     * Keeps the models an operator unloads in {@code dir} ({@code repository.state.dir}), and keeps those it lists
     * unloaded now; call before plugins are reported.
     *
     * @throws IllegalArgumentException when the file there cannot be read (activation fails: serving a model its
     *                                  operator unloaded would be worse; the message says how to fix it)
     */
    void keepUnloadedModelsIn(java.nio.file.Path dir) {
        try {
            UnloadedModels kept = new UnloadedModels(dir);
            control.lock();
            try {
                unloadedModels = kept;
            } finally {
                control.unlock();
            }
            repository.markUnloaded(kept.names());
            if (!kept.names().isEmpty()) {
                LOG.info("models unloaded by an operator stay unloaded ({}): {}", kept.file(), kept.names());
            }
        } catch (java.io.IOException e) {
            throw new IllegalArgumentException("configuration io.tollgate.serving: repository.state.dir " + dir + ": "
                    + e.getMessage(), e);
        }
    }

    /**
     * Applies the owner's model configuration overrides in {@code dir} ({@code models.config.dir}) and watches it;
     * call before plugins are reported, so that models load with their overrides.
     */
    void watchModelConfigs(java.nio.file.Path dir) {
        ModelConfigWatch watch = new ModelConfigWatch(dir, repository, routes, () -> acceleratorKinds);
        configWatch = watch;
        CompletableFuture<Void> started = new CompletableFuture<>();
        lifecycle.execute(() -> {
            try {
                watch.start(lifecycle);
            } finally {
                started.complete(null);
            }
        });
        started.join();
    }

    /**
     * The kinds of this box's accelerators ({@code inventory}; null: the CPU alone), which an override's
     * {@code instance_group} kinds are checked against; call before {@link #watchModelConfigs}.
     */
    void accelerators(io.tollgate.accelerator.AcceleratorInventory inventory) {
        java.util.EnumSet<io.tollgate.accelerator.AcceleratorKind> kinds =
                java.util.EnumSet.of(io.tollgate.accelerator.AcceleratorKind.CPU);
        if (inventory != null) {
            inventory.accelerators().forEach(a -> kinds.add(a.kind()));
        }
        acceleratorKinds = java.util.Collections.unmodifiableSet(kinds);
    }

    /** Places model instances with {@code service} (issue 12); call before plugins are reported. */
    void placement(io.tollgate.accelerator.PlacementService service) {
        placements.bind(service);
    }

    /** Without DS: the configuration as given (its keys are the annotation's own). */
    ServingService(UsageJournal journal, ServingConfig config) {
        this(ServingSettings.from(config), journal);
    }

    private static ServingConfig checked(ServingConfig config, Map<String, Object> properties) {
        ConfigurationKeys.refuseUnknown("io.tollgate.serving", ServingConfig.class, properties);
        return config;
    }

    /** Outside a framework (tests, the test-jar's {@code TestServing}): bind engines, then report plugins. */
    public ServingService(ServingSettings settings, UsageJournal journal) {
        this(settings, journal, System::currentTimeMillis);
    }

    /** As above, with the wall clock licenses are checked at (tests turn it back). */
    ServingService(ServingSettings settings, UsageJournal journal, java.util.function.LongSupplier clock) {
        this.settings = settings;
        this.journal = Objects.requireNonNull(journal, "journal");
        this.workers = new ThreadPoolExecutor(settings.workerThreads(), settings.workerThreads(), 0L,
                TimeUnit.MILLISECONDS, new LinkedBlockingQueue<>(), threads("tollgate-infer-"));
        this.lifecycle = new ScheduledThreadPoolExecutor(1, threads("tollgate-model-lifecycle-"));
        this.lifecycle.setRemoveOnCancelPolicy(true);
        this.loaders = new ThreadPoolExecutor(LOADER_THREADS, LOADER_THREADS, 0L, TimeUnit.MILLISECONDS,
                new LinkedBlockingQueue<>(), threads("tollgate-model-loader-"));
        this.repository = new ModelRepository(settings.drainTimeoutMs(), lifecycle);
        this.remoteThreads = new ThreadPoolExecutor(REMOTE_THREADS, REMOTE_THREADS, 0L, TimeUnit.MILLISECONDS,
                new LinkedBlockingQueue<>(), threads("tollgate-remote-"));
        this.routes = new RouteTable(remoteThreads);
        this.batchTimer = new ScheduledThreadPoolExecutor(1, threads("tollgate-batch-timer-"));
        this.batchTimer.setRemoveOnCancelPolicy(true);
        java.util.function.Function<ModelVersion, io.tollgate.serving.ModelConfig> fromDescriptor =
                DescriptorConfig.cached(settings.workerThreads());
        // the effective configuration (descriptor + conf/models/{m}.json); the descriptor alone where it has none
        this.schedulers = new SchedulerDirectory(v -> v.config() != null ? v.config() : fromDescriptor.apply(v),
                workers, batchTimer);
        this.loader = new ModelLoader(repository, engines, lifecycle, loaders,
                new ModelLoader.Settings(settings.upgradeGraceMs(), settings.engineWaitMs(), settings.resolveSettleMs(),
                        settings.maxModelBytes(), settings.loadTimeoutMs()), this::entitlementsNow, placements);
        repository.onClosed(placements::release);
        this.offline = new OfflineChecks(journal, clock);
        this.licenses = new LicenseGate(journal, offline);
        lifecycle.scheduleWithFixedDelay(offline::refresh, OfflineChecks.REFRESH_MS, OfflineChecks.REFRESH_MS,
                TimeUnit.MILLISECONDS);
        this.licenseWatch = new LicenseWatch(licenses, repository, loader, lifecycle);
        this.licensingListener = licenseWatch::licensingChanged;
        loader.onDeferred((name, refusal) -> {
            CompletableFuture<Void> waiting = reloads.remove(name);
            if (waiting != null) {
                waiting.completeExceptionally(refusal);
            }
        });
        loader.onModelReady(() -> {
            licenseWatch.sweepSoon();
            reloadsProgressed();
        });
        LOG.info("serving started: {} worker threads, {} requests per model queue, drain {} ms, upgrade grace {} ms,"
                        + " engine wait {} ms, models up to {} bytes loaded within {} ms", settings.workerThreads(),
                settings.maxQueuePerModel(), settings.drainTimeoutMs(), settings.upgradeGraceMs(), settings.engineWaitMs(),
                settings.maxModelBytes(), settings.loadTimeoutMs());
    }

    @Reference(name = "engine", service = InferenceEngine.class, cardinality = ReferenceCardinality.MULTIPLE,
            policy = ReferencePolicy.DYNAMIC, policyOption = ReferencePolicyOption.GREEDY, unbind = "unbindEngine")
    public void bindEngine(InferenceEngine engine) {
        String name = engine.name();
        engines.add(engine);
        io.tollgate.accelerator.EngineAvailability availability = engine.availability();
        if (availability.available()) {
            LOG.info("engine '{}' available (accelerator {})", name, engine.accelerator());
        } else {
            LOG.info("engine '{}' registered but unavailable here ({}); ONNX models naming it run on 'onnx'", name,
                    availability.reason());
        }
        loader.engineAdded(name);
    }

    public void unbindEngine(InferenceEngine engine) {
        engines.remove(engine).ifPresent(name -> {
            LOG.info("engine '{}' went away", name);
            loader.engineRemoved(engine, name);
        });
    }

    /**
     * The box's licensing state, registered by the launcher. Without it nothing is served (requests are answered 503
     * and the {@code plugins} readiness check says why); a greedy dynamic reference, so a replacement binds first.
     */
    @Reference(name = "entitlements", service = Entitlements.class, cardinality = ReferenceCardinality.OPTIONAL,
            policy = ReferencePolicy.DYNAMIC, policyOption = ReferencePolicyOption.GREEDY,
            unbind = "unbindEntitlements")
    public void bindEntitlements(Entitlements entitlements) {
        Entitlements old = licenses.entitlements();
        if (old != null) {
            old.removeListener(licensingListener);
        }
        licenses.bind(entitlements);
        entitlements.addListener(licensingListener);
        LOG.info("licensing available: every request is checked against its license");
        licenseWatch.sweepSoon();
    }

    /** The licensing service now (null without one): encrypted models get their keys from it. */
    private Entitlements entitlementsNow() {
        return licenses.entitlements();
    }

    public void unbindEntitlements(Entitlements entitlements) {
        entitlements.removeListener(licensingListener);
        if (licenses.entitlements() == entitlements) {
            // INFO: it also happens at every clean stop; the plugins readiness check says it while it lasts
            LOG.info("the licensing service went away: no model is served until it is back");
        }
        licenses.unbind(entitlements);
    }

    /** The usage uplink: how old the oldest record the cloud has not acknowledged is, for offline grace. */
    @Reference(name = "sync", service = SyncStatusProvider.class, cardinality = ReferenceCardinality.OPTIONAL,
            policy = ReferencePolicy.DYNAMIC, policyOption = ReferencePolicyOption.GREEDY, unbind = "unbindSync")
    public void bindSync(SyncStatusProvider provider) {
        offline.sync(provider);
    }

    public void unbindSync(SyncStatusProvider provider) {
        offline.syncGone(provider);
    }

    // ---- QuotaUsage ------------------------------------------------------------------------------

    @Override
    public long used(String licenseId) {
        return licenses.used(licenseId);
    }

    @Override
    public java.util.Optional<String> offlineRefusal(io.tollgate.licensing.License license) {
        return licenses.offlineRefusal(license);
    }

    /** Refuses new work, lets requests in flight finish (up to the drain timeout) and closes every model. */
    @Deactivate
    public void deactivate() {
        shuttingDown = true;
        ModelConfigWatch watch = configWatch;
        if (watch != null) {
            watch.stop();
        }
        loader.close();
        repository.shutdown();   // queued requests still run (the workers and the batch timer are up) until drained
        schedulers.closeAll(shuttingDown());
        workers.shutdown();
        try {
            if (!workers.awaitTermination(5, TimeUnit.SECONDS)) {
                workers.shutdownNow();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            workers.shutdownNow();
        }
        loaders.shutdownNow();
        remoteThreads.shutdownNow();
        batchTimer.shutdownNow();
        lifecycle.shutdownNow();
        LOG.info("serving stopped");
    }

    // ---- InferenceService ----------------------------------------------------------------------

    @Override
    public CompletionStage<InferenceResponse> infer(InferenceRequest request) {
        CompletableFuture<InferenceResponse> result = new CompletableFuture<>();
        if (shuttingDown) {
            result.completeExceptionally(shuttingDown());
            return result;
        }
        Optional<InferenceException> loop = hops.refusal(request);
        if (loop.isPresent()) {
            // before anything is claimed, run or sent: a request that came back by the boxes' routes
            result.completeExceptionally(loop.get());
            return result;
        }
        RemoteRoute route = routes.of(request.model());
        RemoteRouteException badVersion = route == null ? null
                : RemoteRoute.checkVersion(request.version(), route.config().name());
        if (badVersion != null) {
            // before anything is claimed or sent: a route addresses the route's model only
            result.completeExceptionally(badVersion);
            return result;
        }
        if (route != null && route.config().mode() == RouteConfig.Mode.REMOTE) {
            return overflow(route, request, null, null);   // licensed here whenever its plugin is installed here
        }
        ModelVersion version;
        RequestValidator.Checked checked = null;
        Optional<String> evicted = repository.evictedReason(request.model());
        if (evicted.isPresent() && !repository.isUnloaded(request.model())) {
            return afterReload(request, evicted.get());
        }
        try {
            version = repository.acquire(request.model(), request.version(), settings.maxQueuePerModel());
            placements.touch(version);
        } catch (InferenceException e) {
            if (route != null && (e.reason() == Reason.MODEL_NOT_FOUND || e.reason() == Reason.MODEL_NOT_READY)) {
                return overflow(route, request, e, null);   // local-first: the model (version) is not served here
            }
            if (route != null && e.reason() == Reason.OVERLOADED) {
                // local-first: too many in flight here; checked and licensed as the local model, then sent
                return overflow(route, request, e, e);
            }
            result.completeExceptionally(e.reason() != Reason.MODEL_NOT_READY ? e : licenses.explain(e,
                    repository.candidates(request.model(), request.version()), licenses.now()));
            return result;
        }
        LicenseGate.Grant grant = null;
        try {
            checked = RequestValidator.check(request, version.descriptor());
            io.tollgate.pipeline.PipelineRequest asked = null;
            if (version.loaded() instanceof PipelineModel pipeline) {
                // a capability plugin (issue 13): the pipeline says what the request costs, before it is admitted
                asked = new io.tollgate.pipeline.PipelineRequest(request.id(), request.tenant(), checked.inputs(),
                        request.requestedOutputs(), request.parameters());
                long started = System.nanoTime();
                try {
                    checked = new RequestValidator.Checked(checked.inputs(), checked.outputs(),
                            pipeline.quantity(asked));
                } catch (InferenceException e) {
                    if (e.reason() == Reason.ENGINE_FAILURE) {
                        // the pipeline failed (or threw), not the client: a failure of the model, as a failed run
                        schedulers.statisticsOf(version).failure(System.nanoTime() - started);
                    }
                    throw e;
                }
            }
            grant = licenses.admit(version, checked.quantity(), licenses.now());
            schedulers.of(version).submit(request.id(), checked.inputs(), checked.outputs(),
                    asked == null ? checked.quantity() : 1, request.parameters(),
                    new Answer(request, version, checked.quantity(), grant, result, route), asked);
        } catch (InferenceException e) {
            if (route != null && grant != null && checked != null && e.reason() == Reason.OVERLOADED) {
                // local-first: the queue is full, so the remote serves it under the same license claim
                repository.release(version, false);
                return remote(route, request, version, checked.quantity(), grant, e);
            }
            if (grant != null) {
                grant.cancel();   // a queue full, timeout or priority refusal: the claim goes back
            }
            repository.release(version, false);
            if (e.reason() == Reason.NOT_LICENSED || e.reason() == Reason.PAYMENT_REQUIRED) {
                // one line per refusal at DEBUG (the endpoint logs each answer); the reason goes to the client
                LOG.debug("{}: request {} refused: {}", version.label(), request.id(), e.getMessage());
            }
            result.completeExceptionally(e);
        }
        return result;
    }

    /** How long a request for an evicted model waits for it to load again before it is answered 503 + Retry-After. */
    static final long RELOAD_WAIT_MS = 30_000;

    /** {@link #RELOAD_WAIT_MS}; tests shorten it. */
    volatile long reloadWaitMs = RELOAD_WAIT_MS;

    /** Tests only: runs on the requesting thread right after a reload of an evicted model was asked. */
    volatile Runnable reloadAsked;

    /**
     * A request for a model placement evicted (issue 12): loads it again (one load, whichever request comes first) and
     * runs the request once it is READY; if that takes longer than {@link #RELOAD_WAIT_MS} (or the load
     * fails), the request is answered OVERLOADED (503 + Retry-After) with the reason: the client waits a bounded time,
     * never for ever.
     */
    private CompletionStage<InferenceResponse> afterReload(InferenceRequest request, String why) {
        String name = request.model();
        CompletableFuture<Void> mine = new CompletableFuture<>();
        CompletableFuture<Void> waiting = reloads.putIfAbsent(name, mine);
        CompletableFuture<Void> ready = waiting != null ? waiting : mine;
        if (waiting == null) {
            // The wait is in the map before the reload is asked: a load that ends at once (READY, deferred, nothing
            // to load) settles it. Asked inside computeIfAbsent, the lifecycle thread could finish first, find no
            // wait and the request waited RELOAD_WAIT_MS for a model that was READY (a lost wake-up).
            // The bound is kept by the batch timer, not by the lifecycle thread: that thread does the reload, and when
            // it is stuck (a blocked file read, a slow engine close) a timeout queued behind it never fired.
            long waitMs = reloadWaitMs;
            batchTimer.schedule(() -> {
                // out of the map before it fails, as reloadsProgressed does: completing runs the waiters' callbacks
                // at once, and a request that came in between joined a wait that had already failed (503 at once)
                if (reloads.remove(name, mine)) {
                    mine.completeExceptionally(new InferenceException(Reason.OVERLOADED, "model '" + name + "' was "
                            + why + " and did not load again within " + waitMs + " ms; retry later"));
                }
            }, waitMs, TimeUnit.MILLISECONDS);
            loader.reloadEvicted(name).thenAccept(started -> {
                if (started == 0) {
                    reloadsProgressed();    // nothing to load (e.g. it became READY meanwhile): settle it now
                }
            });
            Runnable hook = reloadAsked;
            if (hook != null) {
                hook.run();
            }
            if (repository.evictedReason(name).isEmpty()) {
                reloadsProgressed();        // READY already (another thread's load): nothing will wake this wait
            }
        }
        CompletableFuture<InferenceResponse> result = new CompletableFuture<>();
        ready.whenComplete((ok, err) -> {
            if (err != null) {
                result.completeExceptionally(err instanceof InferenceException ? err
                        : new InferenceException(Reason.OVERLOADED, "model '" + name + "' is loading again: " + err));
                return;
            }
            // READY now (or evicted once more already: then this request starts the next load, within its own bound)
            infer(request).whenComplete((out, e) -> {
                if (e != null) {
                    result.completeExceptionally(e instanceof java.util.concurrent.CompletionException
                            && e.getCause() != null ? e.getCause() : e);
                } else {
                    result.complete(out);
                }
            });
        });
        return result;
    }

    /** A model became READY or a reload found nothing to load: settles the reloads that waited for it. */
    private void reloadsProgressed() {
        for (java.util.Map.Entry<String, CompletableFuture<Void>> e : reloads.entrySet()) {
            String name = e.getKey();
            if (repository.evictedReason(name).isPresent()) {
                List<PluginStatus> plugins = loader.pluginsOf(name);
                boolean loading = plugins.stream().anyMatch(p -> p.state() == ModelState.LOADING);
                Optional<String> failed = plugins.stream().filter(p -> p.state() == ModelState.FAILED)
                        .map(PluginStatus::error).findFirst();
                if (!loading && failed.isPresent() && reloads.remove(name, e.getValue())) {
                    e.getValue().completeExceptionally(new InferenceException(Reason.MODEL_NOT_READY, "model '" + name
                            + "' was evicted and failed to load again: " + failed.get()));
                }
                continue;
            }
            if (reloads.remove(name, e.getValue())) {
                e.getValue().complete(null);
            }
        }
    }

    /**
     * A request's answer, called by its version's {@link BatchScheduler} on a worker thread once the engine ran it (or
     * failed to): meters it, commits or cancels its quota claim, releases its place in flight and completes it, in
     * that order, so an answer leaves only after its usage record is in the journal.
     */
    private final class Answer implements BatchScheduler.Outcome {
        private final InferenceRequest request;
        private final ModelVersion version;
        private final long quantity;
        private final LicenseGate.Grant grant;
        private final CompletableFuture<InferenceResponse> result;
        /** The model's local-first route, or null: an engine failure overflows there. */
        private final RemoteRoute route;

        Answer(InferenceRequest request, ModelVersion version, long quantity, LicenseGate.Grant grant,
               CompletableFuture<InferenceResponse> result, RemoteRoute route) {
            this.route = route;
            this.request = request;
            this.version = version;
            this.quantity = quantity;
            this.grant = grant;
            this.result = result;
        }

        @Override
        public boolean served(List<Tensor> outputs, long computeNanos) {
            ModelDescriptor model = version.descriptor();
            InferenceResponse response = new InferenceResponse(model.name(), model.version(), request.id(), outputs,
                    computeNanos, version.accelerator());
            try {
                meter(request, version, model, quantity, computeNanos, grant.licenseId());
            } catch (InferenceException e) {
                failed(e);
                return false;
            } catch (Throwable e) {
                // an Error the journal did not turn into METERING_UNAVAILABLE (out of memory...): never unmetered,
                // never unanswered
                LOG.error("{}: writing the usage record of request {} threw", version.label(), request.id(), e);
                failed(meteringUnavailable(e.toString()));
                return false;
            }
            grant.commit();
            repository.release(version, true);
            // One line per request, at DEBUG only (see RequestRouter): joins the endpoint's line to the usage record.
            LOG.debug("{}: request {} served: quantity {}, engine {} ms, usage record appended", version.label(),
                    request.id(), quantity, computeNanos / 1000 / 1000.0);
            result.complete(response);
            return true;
        }

        @Override
        public void failed(InferenceException e) {
            repository.release(version, false);
            if (route != null && e.reason() == Reason.ENGINE_FAILURE) {
                LOG.warn("{}: the engine failed on request {} ({}); it goes to {}", version.label(), request.id(),
                        e.getMessage(), route.config());
                remote(route, request, version, quantity, grant, e).whenComplete((r, x) -> {
                    if (x == null) {
                        result.complete(r);
                    } else {
                        result.completeExceptionally(x);
                    }
                });
                return;
            }
            grant.cancel();
            result.completeExceptionally(e);
        }
    }

    /**
     * A local-first overflow of a request this box does not serve now ({@code why}: not found, not ready, overloaded).
     * Whenever a plugin of the model's name is installed here, in any state (loading, FAILED, unloaded by an operator,
     * evicted), the request is validated against, licensed as and quota-claimed for that plugin's version (the
     * requested one if held, else the preferred one held): the same 403/402 as a local request, and the usage record
     * names its license. Only a model with no plugin here (route-only) goes without a local license.
     *
     * @param why   why it is not served here, or null (the route's mode is {@code remote})
     * @param local the refusal answered instead when the remote cannot serve (queue full), or null
     */
    private CompletableFuture<InferenceResponse> overflow(RemoteRoute route, InferenceRequest request,
                                                          InferenceException why, InferenceException local) {
        List<PluginStatus> plugins = loader.pluginsOf(request.model());
        Optional<ModelVersion> held = repository.licensedAs(request.model(), request.version())
                .or(() -> repository.licensedAs(request.model(), null))
                .or(() -> plugins.stream().map(p -> repository.describedBy(request.model(), p.bundleId()))
                        .flatMap(Optional::stream).max(java.util.Comparator.comparing(ModelVersion::parsedVersion)));
        if (held.isEmpty()) {
            if (!plugins.isEmpty()) {
                // installed here, but its descriptor was never read: its license cannot be checked, so no overflow
                PluginStatus p = plugins.get(0);
                return CompletableFuture.failedFuture(new InferenceException(why == null ? Reason.MODEL_NOT_READY
                        : why.reason(), (why == null ? "model '" + request.model() + "'" : why.getMessage())
                        + "; not sent to " + route.config() + ": plugin " + p.symbolicName() + " " + p.version()
                        + " of this model is installed here (" + p.state() + ") and its license cannot be checked"
                        + " before its descriptor is read"));
            }
            return remote(route, request, null, -1, null, local);
        }
        try {
            RequestValidator.Checked c = RequestValidator.check(request, held.get().descriptor());
            LicenseGate.Grant g = licenses.admit(held.get(), c.quantity(), licenses.now());
            return remote(route, request, held.get(), c.quantity(), g, local);
        } catch (InferenceException refused) {
            return CompletableFuture.failedFuture(refused);
        }
    }

    /**
     * Serves {@code request} through the model's remote route (hybrid overflow) and meters it here, as
     * {@code remote:<route>}, before the answer completes; only a successful remote answer is metered.
     *
     * @param version  the local version the request was admitted to (its plugin, meter and license go into the
     *                 usage record), or null when the model (version) is not here
     * @param quantity the request's billed items as the local model counts them, or -1 (then the remote's metadata
     *                 says: {@link RemoteRoute#quantity})
     * @param grant    the license claim made here (committed when the remote serves, else cancelled), or null
     * @param local    why the request did not run here (null: the route's mode is {@code remote}, or the model is not
     *                 here); a queue-full refusal is answered as before when the remote cannot serve
     */
    private CompletableFuture<InferenceResponse> remote(RemoteRoute route, InferenceRequest request,
                                                        ModelVersion version, long quantity, LicenseGate.Grant grant,
                                                        InferenceException local) {
        CompletableFuture<InferenceResponse> result = new CompletableFuture<>();
        long sent = System.nanoTime();
        // a route-only model's /stats are this box's of the requests it routed (issue 11)
        VersionStatistics routedStats = version == null ? routedStatistics(route) : null;
        // timeout_ms bounds the whole call: a metadata fetch first uses up part of it
        long timeoutMs = route.config().timeoutMs();
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMs);
        CompletableFuture<ModelDescriptor> metadata = version != null || route.metadata() != null
                ? CompletableFuture.completedFuture(route.metadata())
                : route.refreshMetadata().copy().completeOnTimeout(null, timeoutMs, TimeUnit.MILLISECONDS)
                        .handle((d, e) -> d);
        metadata.thenCompose(remoteModel -> {
            if (version == null && route.metadata() == null) {
                // a route-only model whose remote never described it: its answer could be neither checked nor
                // counted (a batch of 8 billed as 1), so it is not sent
                RemoteRouteException why = route.metadataFailure();
                return CompletableFuture.<InferenceResponse>failedFuture(why != null
                        ? new RemoteRouteException(why.reason(), route.config().name(), why.remoteStatus(), why.retryAfterSeconds(), why.getMessage()
                                + "; the request was not sent: without the model's metadata its answer can be"
                                + " neither checked nor metered")
                        : new RemoteRouteException(Reason.REMOTE_TIMEOUT, route.config().name(), 0, "route '"
                                + route.config().name() + "': the metadata of model '" + route.config().remoteModel()
                                + "' did not arrive within " + timeoutMs + " ms (route.timeout_ms); the request was"
                                + " not sent: without it the answer can be neither checked nor metered"));
            }
            if (version == null) {
                InferenceException over = overDeclaredBatch(request, route);
                if (over != null) {
                    return CompletableFuture.<InferenceResponse>failedFuture(over);
                }
            }
            // sent on with this box in its Via: a route leading back here is refused there (508), not followed
            return route.infer(hops.forwarded(request), version != null ? version.descriptor() : route.metadata(),
                    deadline);
        }).thenApply(response -> {
            ModelDescriptor model = version != null ? version.descriptor() : null;
            long items = quantity >= 0 ? quantity : RemoteRoute.quantity(request, route.metadata());
            PluginInfo plugin = version != null ? version.plugin() : null;
            UsageEvent event = new UsageEvent(request.tenant(), request.model(), response.version(),
                    plugin == null ? "" : plugin.symbolicName(), plugin == null ? "" : plugin.version(),
                    grant == null ? "" : grant.licenseId(), model == null ? "inference" : model.meter(), items,
                    response.computeNanos(), route.accelerator(), request.id(), STATUS_OK);
            try {
                append(event, route.accelerator() + " " + request.model());
            } catch (InferenceException e) {
                throw new java.util.concurrent.CompletionException(e);
            }
            return response;
        }).whenComplete((response, failure) -> {
            if (routedStats != null) {
                routed(routedStats, request, route, failure == null, System.nanoTime() - sent);
            }
            if (failure == null) {
                if (grant != null) {
                    grant.commit();
                }
                LOG.debug("{}: request {} served by {}: usage record appended", request.model(), request.id(),
                        route.accelerator());
                result.complete(response);
                return;
            }
            if (grant != null) {
                grant.cancel();
            }
            Throwable t = failure instanceof java.util.concurrent.CompletionException && failure.getCause() != null
                    ? failure.getCause() : failure;
            if (local != null && local.reason() == Reason.OVERLOADED && t instanceof InferenceException ie
                    && ie.reason() != Reason.REMOTE_REJECTED && ie.reason() != Reason.METERING_UNAVAILABLE
                    && ie.reason() != Reason.LOOP_DETECTED) {
                // (a route loop is answered 508 as it is: the box it came from relays it, its breaker untouched)
                // local-first stays local: the queue-full refusal as before, saying why the remote did not take it
                result.completeExceptionally(new InferenceException(Reason.OVERLOADED, local.getMessage()
                        + "; overflow: " + ie.getMessage(), local.retryAfterSeconds()));
            } else {
                result.completeExceptionally(t);
            }
        });
        return result;
    }

    /**
     * A request to a route-only model whose batch is larger than the {@code max_batch_size} the remote's model
     * configuration declares ({@link RemoteRoute#batchDeclared}): refused here (400, not metered, not sent, no failure
     * of the route), as the local model's would be and as the remote would; null when it fits or nothing is declared
     * (a batch inferred from the metadata alone is not checked).
     */
    static InferenceException overDeclaredBatch(InferenceRequest request, RemoteRoute route) {
        ModelDescriptor d = route.metadata();
        if (!route.batchDeclared(d) || d.maxBatchSize() <= 0) {
            return null;
        }
        for (io.tollgate.model.Tensor t : request.inputs()) {
            long[] shape = t.shape();
            if (shape.length > 0 && shape[0] > d.maxBatchSize()) {
                return new InferenceException(Reason.BAD_REQUEST, "input '" + t.name() + "' has a batch of " + shape[0]
                        + " but model '" + request.model() + "' takes at most " + d.maxBatchSize() + " per request"
                        + " (the max_batch_size of " + route.config() + "'s model configuration); split the request;"
                        + " it was not sent");
            }
        }
        return null;
    }

    /** The statistics of a route-only model's requests, per route in force (a changed route starts from zero). */
    private VersionStatistics routedStatistics(RemoteRoute route) {
        synchronized (routedStatistics) {
            return routedStatistics.computeIfAbsent(route, r -> new VersionStatistics());
        }
    }

    /**
     * Counts a routed request of a model that is not here: the time from sending to the remote's answer is its total
     * and its {@code compute_infer} (the remote ran it), one execution of its batch; a failure counts its time.
     */
    private static void routed(VersionStatistics stats, InferenceRequest request, RemoteRoute route, boolean ok,
                               long nanos) {
        if (!ok) {
            stats.failure(nanos);
            return;
        }
        stats.execution((int) Math.min(Integer.MAX_VALUE, RemoteRoute.quantity(request, route.metadata())), 0, nanos,
                0);
        stats.success(nanos, 0, 0, nanos, 0);
    }

    /**
     * Appends the usage record of a request the engine served; returns only once it is in the journal.
     * Any failure to write it becomes METERING_UNAVAILABLE, so the caller never releases the answer.
     */
    private void meter(InferenceRequest request, ModelVersion version, ModelDescriptor model, long quantity,
                       long computeNanos, String licenseId) throws InferenceException {
        // The request's one id (the client's or the endpoint's, never one of ours: decision 2026-11-30)
        String requestId = request.id();
        PluginInfo plugin = version.plugin();
        UsageEvent event = new UsageEvent(request.tenant(), model.name(), model.version(), plugin.symbolicName(),
                plugin.version(), licenseId, model.meter(), quantity, Math.max(0, computeNanos),
                version.accelerator(), requestId, STATUS_OK);
        append(event, version.label());
    }

    /**
     * Appends {@code event}; returns only once it is in the journal. Any failure to write it becomes
     * METERING_UNAVAILABLE, so the caller never releases the answer.
     */
    private void append(UsageEvent event, String label) throws InferenceException {
        String requestId = event.requestId();
        try {
            journal.append(event);
        } catch (MeteringException e) {
            // No cause attached: the journal's message says it all, and at the disk budget every request lands
            // here (the journal logs the condition once; the endpoint logs each refusal in one line).
            throw meteringUnavailable(e.getMessage());
        } catch (RuntimeException e) {
            // e.g. a string the validator let through that the record format cannot hold: still never unmetered
            LOG.error("{}: the usage journal refused the record of request {}", label, requestId, e);
            throw meteringUnavailable(e.toString());
        } catch (InternalError e) {
            // A write to a memory-mapped journal page the disk could not back (SIGBUS) surfaces as an asynchronous
            // InternalError, possibly after the journal's own catch: answer 503, never let the serving thread die.
            LOG.error("{}: writing the usage record of request {} faulted (full disk?)", label, requestId, e);
            throw meteringUnavailable(e.toString());
        }
    }

    private static InferenceException meteringUnavailable(String reason) {
        return new InferenceException(Reason.METERING_UNAVAILABLE, "metering unavailable: " + reason
                + "; the request was not served");
    }

    private static InferenceException shuttingDown() {
        return new InferenceException(Reason.SHUTTING_DOWN, "serving is shutting down; retry when the appliance is back");
    }

    /** The model versions held (tests watch its transitions). */
    ModelRepository repository() {
        return repository;
    }

    /** The versions' schedulers (tests set the configurations they schedule by). */
    SchedulerDirectory schedulers() {
        return schedulers;
    }

    // ---- ModelRegistry -------------------------------------------------------------------------

    @Override
    public List<ModelStatus> models() {
        List<ModelStatus> here = repository.statuses();
        Map<String, RemoteRoute> routed = routes.all();
        if (routed.isEmpty()) {
            return here;
        }
        List<ModelStatus> all = new java.util.ArrayList<>(here);
        for (Map.Entry<String, RemoteRoute> r : routed.entrySet()) {
            if (here.stream().noneMatch(s -> s.name().equals(r.getKey()))) {
                routed(r.getKey(), r.getValue()).ifPresent(all::add);
            }
        }
        return all;
    }

    @Override
    public Optional<ModelStatus> model(String name, String version) {
        Optional<ModelStatus> here = repository.status(name, version);
        if (here.isPresent()) {
            return here;
        }
        RemoteRoute route = routes.of(name);
        return route == null ? here : routed(name, route).filter(s -> version == null || version.equals(s.version()));
    }

    /**
     * A model that is served through its route and not here: its remote metadata (fetched in the background and
     * cached, {@link RemoteRoute#METADATA_TTL_MS}), READY while the route's breaker is not open; LOADING until the
     * metadata was fetched once.
     */
    private Optional<ModelStatus> routed(String name, RemoteRoute route) {
        ModelDescriptor remote = route.metadata();
        boolean open = route.breaker().state() == CircuitBreaker.State.OPEN;
        if (remote == null) {
            remote = new ModelDescriptor(name, "", "", "remote", "", List.of(), List.of(), 0, List.of(), "inference",
                    "", Map.of());
            RemoteRouteException failed = route.metadataFailure();
            return Optional.of(new ModelStatus(remote, failed != null ? ModelState.FAILED : ModelState.LOADING, true,
                    "", "", route.accelerator(), failed != null ? failed.getMessage()
                    : "the metadata of " + route.config() + " was not fetched yet", 0, 0));
        }
        return Optional.of(new ModelStatus(remote, open ? ModelState.FAILED : ModelState.READY, true, "", "",
                route.accelerator(), open ? route.config() + ": circuit breaker open" : "", 0, 0));
    }

    @Override
    public Optional<InferenceException> metadataFailure(String name) {
        RemoteRoute route = routes.of(name);
        if (route == null || repository.status(name, null).isPresent() || route.metadata() != null) {
            return Optional.empty();
        }
        RemoteRouteException failed = route.metadataFailure();
        return Optional.of(failed != null ? failed : new RemoteRouteException(Reason.REMOTE_UNAVAILABLE,
                route.config().name(), 0, "route '" + route.config().name() + "': the metadata of model '"
                + route.config().remoteModel() + "' is being fetched from " + route.config().url() + "; retry in a"
                + " moment"));
    }

    @Override
    public List<io.tollgate.serving.RouteStatus> routes() {
        return routes.statuses();
    }

    @Override
    public Optional<String> unavailable(String name) {
        Optional<String> evicted = repository.evictedReason(name);
        if (evicted.isPresent() && !repository.isUnloaded(name)
                && !loader.pluginsOf(name).isEmpty()) {
            // issue 12: installed, its instance gone to make room (or no room yet); the index says UNAVAILABLE too
            return Optional.of("model '" + name + "' is installed but not loaded: " + evicted.get() + "; the next"
                    + " infer request for it (POST /v2/models/" + name + "/infer) loads it again");
        }
        if (!repository.isUnloaded(name) || loader.pluginsOf(name).isEmpty()) {
            return Optional.empty();
        }
        return Optional.of(ModelRepository.unloadedRefusal(name).getMessage());
    }

    @Override
    public Optional<io.tollgate.serving.ModelConfig> config(String name, String version) {
        return repository.find(name, version).map(ModelVersion::config);
    }

    @Override
    public Map<String, String> configErrors() {
        ModelConfigWatch watch = configWatch;
        return watch == null ? Map.of() : watch.problems();
    }

    @Override
    public List<ModelStatistics> statistics(String name, String version) {
        List<ModelStatistics> here = schedulers.snapshot(name == null ? repository.all()
                : repository.candidates(name, version));
        Map<String, RemoteRoute> routed = routes.all();
        if (routed.isEmpty()) {
            return here;
        }
        // a model served here only through its route (as models() lists it): this box's statistics of what it routed
        List<ModelStatistics> all = new java.util.ArrayList<>(here);
        List<ModelVersion> held = repository.all();
        for (Map.Entry<String, RemoteRoute> r : new java.util.TreeMap<>(routed).entrySet()) {
            String model = r.getKey();
            if ((name != null && !name.equals(model)) || held.stream().anyMatch(v -> v.name().equals(model))) {
                continue;
            }
            String remoteVersion = routed(model, r.getValue()).map(ModelStatus::version).orElse("");
            if (version == null || version.equals(remoteVersion)) {
                all.add(routedStatistics(r.getValue()).snapshot(model, remoteVersion));
            }
        }
        return all;
    }

    @Override
    public List<PluginStatus> plugins() {
        List<PluginStatus> statuses = loader.statuses();
        PluginFileReport report = files;
        if (report == null) {
            return statuses;
        }
        List<PluginFile> pending = report.files();
        if (pending.isEmpty()) {
            return statuses;
        }
        List<PluginStatus> all = new java.util.ArrayList<>(pending.size() + statuses.size());
        for (PluginFile f : pending) {
            // No bundle (yet) for this content: id -1. A version installed from the same file before is listed too.
            all.add(new PluginStatus(-1, f.symbolicName(), f.version(), f.location(), "", "",
                    f.copying() ? ModelState.LOADING : ModelState.FAILED, f.reason()));
        }
        all.addAll(statuses);
        return all;
    }

    /**
     * The launcher's plugin folder gate: the files of {@code plugins/} that are being written or were refused before
     * they became bundles. Absent where no launcher watches a folder (Pax Exam).
     */
    @Reference(name = "files", service = PluginFileReport.class, cardinality = ReferenceCardinality.OPTIONAL,
            policy = ReferencePolicy.DYNAMIC, unbind = "unbindFiles")
    void bindFiles(PluginFileReport report) {
        files = report;
    }

    void unbindFiles(PluginFileReport report) {
        if (files == report) {
            files = null;
        }
    }

    @Override
    public boolean ready() {
        return !shuttingDown && loader.ready() && licenses.unavailable().isEmpty();
    }

    // ---- RepositoryControl ---------------------------------------------------------------------

    @Override
    public List<IndexEntry> index(boolean readyOnly) {
        List<IndexEntry> entries = new java.util.ArrayList<>(repository.index());
        java.util.Set<String> listed = new java.util.HashSet<>();
        for (IndexEntry e : entries) {
            listed.add(e.name() + "\n" + ModelVersion.parse(e.version()));
        }
        for (PluginStatus p : loader.statuses()) {
            // an unloaded model's plugins: its versions are closed and gone from the repository, the plugins stay
            if (!p.model().isEmpty() && repository.isUnloaded(p.model())
                    && listed.add(p.model() + "\n" + ModelVersion.parse(p.modelVersion()))) {
                entries.add(new IndexEntry(p.model(), p.modelVersion(), "UNAVAILABLE", LoadAttempt.UNLOADED
                        + " (POST /v2/repository/models/" + p.model() + "/load loads it)"));
            }
            // a model placement evicted (issue 12): closed and gone from the repository until a request loads it again
            Optional<String> evicted = p.model().isEmpty() ? Optional.empty() : repository.evictedReason(p.model());
            if (evicted.isPresent() && p.state() == ModelState.UNLOADED
                    && listed.add(p.model() + "\n" + ModelVersion.parse(p.modelVersion()))) {
                entries.add(new IndexEntry(p.model(), p.modelVersion(), "UNAVAILABLE", evicted.get()
                        + "; the next request for it loads it again"));
            }
        }
        entries.sort(java.util.Comparator.comparing(IndexEntry::name)
                .thenComparing(e -> ModelVersion.parse(e.version())));
        if (readyOnly) {
            entries.removeIf(e -> !"READY".equals(e.state()));
        }
        return entries;
    }

    @Override
    public void load(String name) throws InferenceException {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(controlWaitMs);
        locked(name, "load", deadline);
        try {
            known(name);
            try {
                unloaded().remove(name);
            } catch (java.io.IOException e) {
                LOG.warn("model '{}' loads, but {} cannot be updated ({}): it would be unloaded again after a restart",
                        DescriptorReader.printable(name), unloaded().file(), e.toString());
            }
            List<Long> plugins = taken(loader.load(name), name, "load", deadline);
            long loaded = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(settings.loadTimeoutMs());
            while (System.nanoTime() - loaded < 0
                    && loader.pluginsOf(name).stream().anyMatch(p -> p.state() == ModelState.LOADING)) {
                try {
                    Thread.sleep(50);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    break;
                }
            }
            try {
                repository.route(name, null);
                LOG.info("model '{}' is loaded again ({} plugin(s))", DescriptorReader.printable(name), plugins.size());
            } catch (InferenceException e) {
                String errors = loader.pluginsOf(name).stream().map(PluginStatus::error).filter(x -> !x.isEmpty())
                        .collect(java.util.stream.Collectors.joining("; "));
                throw new InferenceException(Reason.MODEL_NOT_READY, "model '" + name + "' did not become ready: "
                        + (errors.isEmpty() ? e.getMessage() : errors) + "; GET /admin/plugins says more");
            }
        } finally {
            controlHeldBy = "";
            control.unlock();
        }
    }

    @Override
    public void unload(String name) throws InferenceException {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(controlWaitMs);
        locked(name, "unload", deadline);
        try {
            known(name);
            try {
                unloaded().add(name);
            } catch (java.io.IOException e) {
                LOG.warn("model '{}' is unloaded, but {} cannot be written ({}): it would load again after a restart",
                        DescriptorReader.printable(name), unloaded().file(), e.toString());
            }
            taken(loader.unload(name), name, "unload", deadline);
            LOG.info("model '{}' is unloaded: new requests are refused, requests in flight finish, then its engine"
                    + " memory is freed; its plugin stays installed", DescriptorReader.printable(name));
        } finally {
            controlHeldBy = "";
            control.unlock();
        }
    }

    /**
     * How long a load or unload waits, for the one before it to finish and then for the model lifecycle thread to take
     * it, before it is answered 503.
     */
    static final long CONTROL_WAIT_MS = 20_000;

    /** {@link #CONTROL_WAIT_MS}; tests shorten it. */
    volatile long controlWaitMs = CONTROL_WAIT_MS;

    /**
     * Takes {@link #control} (loads and unloads run one at a time) by {@code deadline} ({@link System#nanoTime()}),
     * else 503 + Retry-After naming the call that holds it: a call queued behind one that waits for a stuck lifecycle
     * thread is bounded by the same {@link #controlWaitMs}, not by the sum of the calls before it.
     */
    private void locked(String name, String action, long deadline) throws InferenceException {
        try {
            if (!control.tryLock(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS)) {
                String holder = controlHeldBy.isEmpty() ? "another load or unload" : controlHeldBy;
                // where the lifecycle thread is goes to the log only: the holder may be waiting elsewhere (a slow load)
                LOG.warn("model '{}': the {} waited {} ms for {} to finish and is answered 503 (the model lifecycle"
                        + " thread is {})", DescriptorReader.printable(name), action, controlWaitMs, holder,
                        lifecycleFrames());
                throw new InferenceException(Reason.OVERLOADED, "model '" + name + "': the " + action + " was not"
                        + " taken within " + controlWaitMs + " ms: " + holder + " is still in progress; nothing was"
                        + " changed; retry later; POST /v2/repository/index shows the state", 5);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InferenceException(Reason.SHUTTING_DOWN, "model '" + name + "': the " + action + " was"
                    + " interrupted (the appliance is stopping)");
        }
        controlHeldBy = "the " + action + " of model '" + DescriptorReader.printable(name) + "'";
    }

    /**
     * The value of {@code step}, a load or unload handed to the model lifecycle thread, waited for until
     * {@code deadline} ({@link System#nanoTime()}, {@link #controlWaitMs} after the call came): a lifecycle thread
     * that is stuck (a blocked file read, a slow engine close) answers the operator 503 + Retry-After naming where it
     * is busy, never a request that hangs. The step stays queued and takes effect once the thread is free.
     */
    private <T> T taken(CompletableFuture<T> step, String name, String action, long deadline)
            throws InferenceException {
        try {
            return step.get(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
        } catch (java.util.concurrent.TimeoutException e) {
            String busy = lifecycleFrames();
            LOG.warn("model '{}': the {} waited {} ms for the model lifecycle thread, which is busy {}; it stays"
                    + " queued and takes effect once the thread is free", DescriptorReader.printable(name), action,
                    controlWaitMs, busy);
            throw new InferenceException(Reason.OVERLOADED, "model '" + name + "': the " + action + " was not taken"
                    + " within " + controlWaitMs + " ms: the model lifecycle thread is busy (" + busy + "); the "
                    + action + " stays queued and takes effect once it is free; POST /v2/repository/index shows the"
                    + " state", 5);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InferenceException(Reason.SHUTTING_DOWN, "model '" + name + "': the " + action + " was"
                    + " interrupted (the appliance is stopping)");
        } catch (java.util.concurrent.ExecutionException e) {
            throw new InferenceException(Reason.MODEL_NOT_READY, "model '" + name + "': the " + action + " failed: "
                    + e.getCause());
        }
    }

    /**
     * Where the model lifecycle thread is: its top frame (what it waits in) and its first frames outside the JDK
     * (whose work it is), e.g. {@code in FileInputStream.open0 at ...RemoteRoute.trustOf(RemoteRoute.java:1030)}.
     */
    private static String lifecycleFrames() {
        for (java.util.Map.Entry<Thread, StackTraceElement[]> t : Thread.getAllStackTraces().entrySet()) {
            if (t.getKey().getName().startsWith("tollgate-model-lifecycle-") && t.getValue().length > 0) {
                StackTraceElement[] frames = t.getValue();
                StringBuilder b = new StringBuilder("in ").append(frame(frames[0]));
                String sep = " at ";
                int shown = 0;
                for (StackTraceElement f : frames) {
                    String c = f.getClassName();
                    if (shown < 2 && !c.startsWith("java.") && !c.startsWith("jdk.") && !c.startsWith("sun.")) {
                        b.append(sep).append(frame(f));
                        sep = " < ";
                        shown++;
                    }
                }
                return b.toString();
            }
        }
        return "no lifecycle thread";
    }

    private static String frame(StackTraceElement f) {
        String c = f.getClassName();
        return c.substring(c.lastIndexOf('.') + 1) + "." + f.getMethodName() + "(" + f.getFileName() + ":"
                + f.getLineNumber() + ")";
    }

    private UnloadedModels unloaded() {
        if (unloadedModels == null) {
            try {
                unloadedModels = new UnloadedModels(null);
            } catch (java.io.IOException e) {
                throw new java.io.UncheckedIOException(e);   // never: nothing is read without a folder
            }
        }
        return unloadedModels;
    }

    private void known(String name) throws InferenceException {
        if (loader.pluginsOf(name).isEmpty() && repository.candidates(name, null).isEmpty()) {
            throw new InferenceException(Reason.MODEL_NOT_FOUND, "no installed plugin holds model '" + name
                    + "'; POST /v2/repository/index lists the models");
        }
    }

    // ---- ReadinessCheck: "plugins" ------------------------------------------------------------

    @Override
    public String name() {
        return "plugins";
    }

    /** Required: until the plugins present at start-up are processed, the box would answer 404 for their models. */
    @Override
    public boolean required() {
        return true;
    }

    @Override
    public Optional<String> notReadyReason() {
        if (shuttingDown) {
            return Optional.of("serving is shutting down");
        }
        Optional<String> licensing = licenses.unavailable();
        return licensing.isPresent() ? licensing : loader.notReadyReason();
    }

    // ---- PluginLifecycle -----------------------------------------------------------------------

    @Override
    public void trackerOpened(Set<Long> awaitedBundleIds) {
        loader.opened(awaitedBundleIds);
    }

    @Override
    public void trackerClosed() {
        loader.trackerClosed();
    }

    @Override
    public void pluginStarted(PluginSource plugin) {
        loader.started(plugin);
    }

    @Override
    public void pluginResolved(PluginSource plugin) {
        loader.resolved(plugin);
    }

    @Override
    public void pluginInstalled(PluginSource plugin) {
        loader.installed(plugin);
    }

    @Override
    public void pluginStopped(long bundleId) {
        loader.stopped(bundleId);
    }

    @Override
    public void pluginUninstalled(long bundleId) {
        loader.uninstalled(bundleId);
    }

    private static ThreadFactory threads(String prefix) {
        AtomicInteger count = new AtomicInteger();
        return r -> {
            Thread t = new Thread(r, prefix + count.incrementAndGet());
            t.setDaemon(true);
            return t;
        };
    }
}
