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
 * delays and queue timeouts of every version's {@link BatchScheduler} (which hands batches to the workers). {@link #infer}
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

    /** The status a usage record of a served request carries. */
    static final String STATUS_OK = "OK";

    private final ServingSettings settings;
    private final UsageJournal journal;
    private final ThreadPoolExecutor workers;
    private final ScheduledThreadPoolExecutor lifecycle;
    private final ThreadPoolExecutor loaders;
    /** Batch delays and queue timeouts of every version's scheduler: tiny tasks that only hand work to the workers. */
    private final ScheduledThreadPoolExecutor batchTimer;
    private final SchedulerDirectory schedulers;
    private final EngineDirectory engines = new EngineDirectory();
    private final ModelRepository repository;
    private final ModelLoader loader;
    private final LicenseGate licenses;
    private final OfflineChecks offline;
    private final LicenseWatch licenseWatch;
    private final Runnable licensingListener;
    private volatile boolean shuttingDown;
    private volatile PluginFileReport files;
    private volatile ModelConfigWatch configWatch;
    /** Models an operator unloaded; guarded by {@link #control}, which also serializes load and unload. */
    private UnloadedModels unloadedModels;
    private final Object control = new Object();

    @Activate
    public ServingService(@Reference(name = "journal") UsageJournal journal, ServingConfig config,
                          Map<String, Object> properties) {
        this(ServingSettings.from(checked(config, properties)), journal);
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
            synchronized (control) {
                unloadedModels = kept;
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
        ModelConfigWatch watch = new ModelConfigWatch(dir, repository);
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
        this.batchTimer = new ScheduledThreadPoolExecutor(1, threads("tollgate-batch-timer-"));
        this.batchTimer.setRemoveOnCancelPolicy(true);
        java.util.function.Function<ModelVersion, io.tollgate.serving.ModelConfig> fromDescriptor =
                DescriptorConfig.cached(settings.workerThreads());
        // the effective configuration (descriptor + conf/models/{m}.json); the descriptor alone where it has none
        this.schedulers = new SchedulerDirectory(v -> v.config() != null ? v.config() : fromDescriptor.apply(v),
                workers, batchTimer);
        this.loader = new ModelLoader(repository, engines, lifecycle, loaders,
                new ModelLoader.Settings(settings.upgradeGraceMs(), settings.engineWaitMs(), settings.resolveSettleMs(),
                        settings.maxModelBytes(), settings.loadTimeoutMs()), this::entitlementsNow);
        this.offline = new OfflineChecks(journal, clock);
        this.licenses = new LicenseGate(journal, offline);
        lifecycle.scheduleWithFixedDelay(offline::refresh, OfflineChecks.REFRESH_MS, OfflineChecks.REFRESH_MS,
                TimeUnit.MILLISECONDS);
        this.licenseWatch = new LicenseWatch(licenses, repository, loader, lifecycle);
        this.licensingListener = licenseWatch::licensingChanged;
        loader.onModelReady(licenseWatch::sweepSoon);
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
        ModelVersion version;
        RequestValidator.Checked checked;
        try {
            version = repository.acquire(request.model(), request.version(), settings.maxQueuePerModel());
        } catch (InferenceException e) {
            result.completeExceptionally(e.reason() != Reason.MODEL_NOT_READY ? e : licenses.explain(e,
                    repository.candidates(request.model(), request.version()), licenses.now()));
            return result;
        }
        LicenseGate.Grant grant = null;
        try {
            checked = RequestValidator.check(request, version.descriptor());
            grant = licenses.admit(version, checked.quantity(), licenses.now());
            schedulers.of(version).submit(request.id(), checked.inputs(), checked.outputs(), checked.quantity(),
                    request.parameters(), new Answer(request, version, checked.quantity(), grant, result));
        } catch (InferenceException e) {
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

        Answer(InferenceRequest request, ModelVersion version, long quantity, LicenseGate.Grant grant,
               CompletableFuture<InferenceResponse> result) {
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
            grant.cancel();
            repository.release(version, false);
            result.completeExceptionally(e);
        }
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
        try {
            journal.append(event);
        } catch (MeteringException e) {
            // No cause attached: the journal's message says it all, and at the disk budget every request lands
            // here (the journal logs the condition once; the endpoint logs each refusal in one line).
            throw meteringUnavailable(e.getMessage());
        } catch (RuntimeException e) {
            // e.g. a string the validator let through that the record format cannot hold: still never unmetered
            LOG.error("{}: the usage journal refused the record of request {}", version.label(), requestId, e);
            throw meteringUnavailable(e.toString());
        } catch (InternalError e) {
            // A write to a memory-mapped journal page the disk could not back (SIGBUS) surfaces as an asynchronous
            // InternalError, possibly after the journal's own catch: answer 503, never let the serving thread die.
            LOG.error("{}: writing the usage record of request {} faulted (full disk?)", version.label(), requestId, e);
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

    /** The versions' schedulers (tests set the configurations they schedule by). */
    SchedulerDirectory schedulers() {
        return schedulers;
    }

    // ---- ModelRegistry -------------------------------------------------------------------------

    @Override
    public List<ModelStatus> models() {
        return repository.statuses();
    }

    @Override
    public Optional<ModelStatus> model(String name, String version) {
        return repository.status(name, version);
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
        return schedulers.snapshot(name == null ? repository.all() : repository.candidates(name, version));
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
        synchronized (control) {
            known(name);
            try {
                unloaded().remove(name);
            } catch (java.io.IOException e) {
                LOG.warn("model '{}' loads, but {} cannot be updated ({}): it would be unloaded again after a restart",
                        DescriptorReader.printable(name), unloaded().file(), e.toString());
            }
            List<Long> plugins = loader.load(name).join();
            long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(settings.loadTimeoutMs());
            while (System.nanoTime() - deadline < 0
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
        }
    }

    @Override
    public void unload(String name) throws InferenceException {
        synchronized (control) {
            known(name);
            try {
                unloaded().add(name);
            } catch (java.io.IOException e) {
                LOG.warn("model '{}' is unloaded, but {} cannot be written ({}): it would load again after a restart",
                        DescriptorReader.printable(name), unloaded().file(), e.toString());
            }
            loader.unload(name).join();
            LOG.info("model '{}' is unloaded: new requests are refused, requests in flight finish, then its engine"
                    + " memory is freed; its plugin stays installed", DescriptorReader.printable(name));
        }
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
