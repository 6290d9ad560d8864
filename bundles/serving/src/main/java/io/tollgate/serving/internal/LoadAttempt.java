package io.tollgate.serving.internal;

import io.tollgate.engine.spi.EngineException;
import io.tollgate.engine.spi.InferenceEngine;
import io.tollgate.engine.spi.LoadedModel;
import io.tollgate.engine.spi.ModelArtifact;
import io.tollgate.model.ModelDescriptor;
import io.tollgate.serving.ModelState;
import java.util.Optional;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One try at loading one plugin revision's model: read the descriptor and the model file, register
 * the version (LOADING) with the {@link ModelRepository}, wait (bounded) for its engine, load the
 * model and reconcile its signature with the descriptor, then make the version READY. It ends in
 * exactly one of {@link Owner#loaded} or {@link Owner#failed}, unless it is cancelled first or its
 * {@link Owner} says it is no longer current (the plugin moved on): then whatever it finishes is
 * discarded and a model it loaded is closed.
 *
 * <p>Threads: {@link #start} and {@link #cancel} on the lifecycle thread, which also registers the
 * version and reports every outcome; reading the plugin and {@code engine.load} run on a loader
 * thread; the engine wait completes on whichever thread registers the engine (or the lifecycle
 * thread, on timeout) and only hands over to a loader.
 */
final class LoadAttempt {
    private static final Logger LOG = LoggerFactory.getLogger(LoadAttempt.class);

    /** The plugin lifecycle this attempt reports to; every call is on the lifecycle thread. */
    interface Owner {
        /** False once the plugin moved on (stopped, updated, uninstalled, serving closed). */
        boolean isCurrent(LoadAttempt attempt);

        /** The descriptor was read: the plugin's model is {@code descriptor.name()} {@code version()}. */
        void described(LoadAttempt attempt, ModelDescriptor descriptor);

        /** The version is READY; the attempt is done. */
        void loaded(LoadAttempt attempt, ModelDescriptor effective, long millis);

        /**
         * The plugin is being refused with {@code message}: its state (what {@code /admin/plugins} shows) changes now,
         * before the attempt's version is marked FAILED; {@link #failed} follows.
         */
        void failing(LoadAttempt attempt, String message, String awaitingEngine);

        /** The plugin was refused with {@code message}; {@code awaitingEngine} (or null) retries it when it comes. */
        void failed(LoadAttempt attempt, String message, String awaitingEngine);

        /**
         * Placement has no room for the model before {@code retryAfterMs} (every instance that could make room was
         * placed or used less than {@code min.residency.ms} ago): nothing was loaded; the plugin waits, like an
         * evicted one, for a request to load it again.
         */
        void deferred(LoadAttempt attempt, String message, long retryAfterMs);

        /** Called just before {@link #failed}: the model's key may come with another license, so retry on a change. */
        void awaitsLicense(LoadAttempt attempt);

        /**
         * The version was listed: why the model's version policy does not select it (then it is not loaded, and
         * {@link #notSelected} follows), or empty to load it.
         */
        Optional<String> unselected(LoadAttempt attempt);

        /** The version is not loaded: the version policy does not select it ({@code reason}); the attempt is done. */
        void notSelected(LoadAttempt attempt, String reason);
    }

    /** What every attempt works with. */
    record Context(ModelRepository repository, EngineDirectory engines, LifecycleExecutor threads,
                   long engineWaitMs, long maxModelBytes, long loadTimeoutMs, Owner owner,
                   java.util.function.Supplier<io.tollgate.licensing.Entitlements> entitlements,
                   Placements placements, io.tollgate.accelerator.EvictionListener evictions) {
    }

    /** The engine an ONNX model falls back to when the engine it names is unavailable here. */
    private static final String CPU_ENGINE = "onnx";

    /** The reason a plugin of an unloaded model gives. */
    static final String UNLOADED = "the model is unloaded by an operator";

    private final PluginSource source;
    private final Context context;
    private volatile boolean cancelled;
    private volatile boolean done;
    private ModelVersion version;                               // lifecycle thread
    private CompletableFuture<InferenceEngine> engineWait;      // lifecycle thread
    private ScheduledFuture<?> deadline;                        // lifecycle thread
    /** A capability plugin's stage models (issue 13), read with the descriptor; null for a plain model or once loaded. */
    private volatile java.util.Map<String, byte[]> stageBytes;
    /** Where placement put this instance (issue 12), or null without a PlacementService; set before the load. */
    private volatile io.tollgate.accelerator.Placement placement;

    LoadAttempt(PluginSource source, Context context) {
        this.source = source;
        this.context = context;
    }

    PluginSource source() {
        return source;
    }

    /** True once the attempt ended in {@link Owner#loaded} or {@link Owner#failed}. */
    boolean isDone() {
        return done;
    }

    /** True once the attempt was cancelled: nothing it finishes later takes effect. */
    boolean isCancelled() {
        return cancelled;
    }

    /** The version this attempt registered, or null before its descriptor was read. */
    ModelVersion version() {
        return version;
    }

    /**
     * Begins with reading the plugin on a loader thread; the attempt fails if it has not ended within
     * {@code loadTimeoutMs}, so that no plugin stays LOADING for ever (or holds readiness at start-up).
     */
    void start() {
        deadline = context.threads().schedule(this::expired, context.loadTimeoutMs());
        if (!context.threads().onLoader(this::read)) {
            LOG.debug("{}: not loaded, serving is shutting down", source.label());
        }
    }

    // lifecycle thread
    private void expired() {
        if (done || cancelled) {
            return;
        }
        if (engineWait != null) {
            engineWait.cancel(false);
        }
        // A loader still busy with this attempt finishes in its own time; what it finishes is discarded (closed).
        fail(source.label() + ": loading did not finish within " + context.loadTimeoutMs() + " ms, the limit"
                + " load.timeout.ms of io.tollgate.serving; the plugin is FAILED (replace or restart it to try again,"
                + " or raise load.timeout.ms in conf/io.tollgate.serving.cfg for a model that is slow to load)", null);
    }

    /**
     * Stops the attempt: whatever it finishes later is discarded and its placement is released. A version still
     * LOADING stays listed (issue 11: a reader never finds the model absent): the plugin's next attempt takes its
     * place when it lists its own version or fails ({@link ModelRepository#add}, ModelLoader), and a plugin that
     * stopped forgets it when its upgrade grace passes ({@link UpgradeGrace}).
     */
    void cancel() {
        if (done || cancelled) {
            return;
        }
        cancelled = true;
        LifecycleExecutor.cancel(deadline);
        if (engineWait != null) {
            engineWait.cancel(false);
        }
        if (version != null && version.state() == ModelState.LOADING) {
            context.placements().release(version);
        }
    }

    private boolean current() {
        return !cancelled && context.owner().isCurrent(this);
    }

    // loader thread
    private void read() {
        if (cancelled) {
            return;
        }
        // The framework never resolves, let alone starts, a plugin the guard refuses; should one start anyway
        // (no guard in this framework), its model is not served either.
        Optional<String> refusal = source.refusal();
        if (refusal.isPresent()) {
            String message = source.label() + " is refused: " + refusal.get();
            context.threads().onLifecycle(() -> fail(message, null));
            return;
        }
        ModelDescriptor descriptor;
        com.fasterxml.jackson.databind.JsonNode configLayer;
        byte[] bytes;
        try {
            DescriptorReader.Described described = DescriptorReader.describe(source);
            descriptor = described.descriptor();
            configLayer = described.configLayer();
            byte[] file = DescriptorReader.readModelFile(source, descriptor, context.maxModelBytes());
            Optional<DescriptorReader.Encryption> encryption = DescriptorReader.encryption(source);
            // an encrypted model is opened in memory with the key its license carries (issue 10)
            if (encryption.isEmpty() && ModelDecryption.hasEncryptedHeader(file)) {
                // without this, the engine would be handed the ciphertext and say only "invalid protobuf"
                throw new PluginException(source.label() + ": model file " + descriptor.file() + " is an encrypted"
                        + " model (it starts with the TGEM header) but " + source.descriptorPath() + " has no"
                        + " 'encryption' field naming its key; repack it with plugin pack --encrypt-key");
            }
            bytes = encryption.isEmpty() ? file
                    : ModelDecryption.open(source, descriptor, encryption.get(), file, context.entitlements());
            if (descriptor.isPipeline()) {
                // every stage, read once (the file's stage is the bytes above): placement reserves for all of
                // them, then they load from these bytes
                stageBytes = PipelineModel.readStages(source, descriptor, context.maxModelBytes(), file);
            }
        } catch (PluginException e) {
            context.threads().onLifecycle(() -> {
                if (e.awaitsLicense() && current()) {
                    context.owner().awaitsLicense(this);
                }
                fail(e.getMessage(), null);
            });
            return;
        }
        context.threads().onLifecycle(() -> register(descriptor, configLayer, bytes));
    }

    // lifecycle thread
    private void register(ModelDescriptor descriptor, com.fasterxml.jackson.databind.JsonNode configLayer,
                          byte[] bytes) {
        if (!current()) {
            return;
        }
        context.owner().described(this, descriptor);
        if (context.repository().isUnloaded(descriptor.name())) {
            // an operator unloaded the model (RepositoryControl): its plugin stays installed but nothing loads
            fail(source.label() + ": " + UNLOADED + " (POST /v2/repository/models/" + descriptor.name()
                    + "/load loads it)", null);
            return;
        }
        try {
            version = context.repository().add(source.info(), descriptor, configLayer);
        } catch (PluginException e) {
            fail(e.getMessage(), null);
            return;
        }
        Optional<String> unselected = context.owner().unselected(this);
        if (unselected.isPresent()) {
            // as Triton, a version the policy does not select is never loaded (issue 11)
            done = true;
            LifecycleExecutor.cancel(deadline);
            context.repository().notSelected(version);
            context.owner().notSelected(this, unselected.get());
            return;
        }
        String engineName = descriptor.engine();
        long waitMs = context.engineWaitMs();
        EngineDirectory engines = context.engines();
        CompletableFuture<InferenceEngine> wait = engines.await(engineName, waitMs, context.threads().scheduler());
        engineWait = wait;
        if (!wait.isDone()) {
            LOG.info("{}: waiting up to {} ms for engine '{}'", source.label(), waitMs, engineName);
        }
        wait.whenComplete((engine, err) -> {
            if (err == null) {
                if (!context.threads().onLifecycle(() -> place(engine, descriptor, bytes))) {
                    LOG.debug("{}: not loaded, serving is shutting down", source.label());
                }
            } else if (!(unwrap(err) instanceof CancellationException)) {
                context.threads().onLifecycle(() -> fail(source.label() + ": engine '" + engineName + "' is not"
                        + " available: no InferenceEngine service named '" + engineName + "' appeared within " + waitMs
                        + " ms (engines present: " + engines.names() + "); install the engine bundle, or fix field"
                        + " 'engine' of " + source.descriptorPath(), engineName));
            }
        });
    }

    // lifecycle thread: where the instance goes (issue 12); may evict least recently used models to make room
    private void place(InferenceEngine engine, ModelDescriptor descriptor, byte[] bytes) {
        if (!current()) {
            return;
        }
        try {
            placement = context.placements().place(version, descriptor, engine,
                    context.engines().find(CPU_ENGINE).orElse(null), modelBytes(bytes), context.evictions()).orElse(null);
        } catch (io.tollgate.accelerator.PlacementException e) {
            if (e.reason() == io.tollgate.accelerator.PlacementException.Reason.BUDGET_FULL) {
                defer("model '" + descriptor.name() + "' " + descriptor.version() + " cannot be loaded now: "
                        + e.getMessage(), e.retryAfterMs());
                return;
            }
            fail(source.label() + ": model '" + descriptor.name() + "' " + descriptor.version() + " cannot be placed ("
                    + e.reason() + "): " + e.getMessage(), null);
            return;
        }
        if (!context.threads().onLoader(() -> load(engine, descriptor, bytes))) {
            LOG.debug("{}: not loaded, serving is shutting down", source.label());
            context.placements().release(version);
        }
    }

    /** What placement reserves for: the model file, or the sum of a pipeline's stage models. */
    private long modelBytes(byte[] bytes) {
        java.util.Map<String, byte[]> stages = stageBytes;
        return stages == null ? bytes.length : stages.values().stream().mapToLong(b -> b.length).sum();
    }

    // loader thread
    private void load(InferenceEngine named, ModelDescriptor described, byte[] bytes) {
        if (cancelled) {
            return;
        }
        io.tollgate.accelerator.Placement placed = placement;
        if (placed != null) {
            // placement chose the engine among the named one and onnx (issue 12); it said why when it fell back
            if (placed.engine().equals(named.name())) {
                loadWith(named, described, bytes);
                return;
            }
            Optional<InferenceEngine> chosen = context.engines().find(placed.engine());
            if (chosen.isPresent()) {
                io.tollgate.accelerator.EngineAvailability a = named.availability();
                LOG.warn("{}: engine '{}' is {}; the model runs on engine '{}' on {} instead", source.label(),
                        named.name(), a.available() ? "not placed (" + placed.reason() + ")"
                                : "unavailable (" + a.reason() + ")", placed.engine(),
                        placed.acceleratorId().equals("cpu") ? "the CPU" : placed.acceleratorId());
                loadWith(chosen.get(), described.withEngine(placed.engine()), bytes);
                return;
            }
            context.threads().onLifecycle(() -> fail(source.label() + ": placement chose engine '" + placed.engine()
                    + "' but it went away before the model loaded", placed.engine()));
            return;
        }
        // Without a placement service: an accelerator engine that cannot run here (no CUDA driver, no TensorRT)
        // hands an ONNX model to the CPU engine, saying why once per load (issue 12).
        io.tollgate.accelerator.EngineAvailability availability = named.availability();
        if (!availability.available() && !named.name().equals(CPU_ENGINE) && CPU_ENGINE.equals(described.platform())) {
            Optional<InferenceEngine> cpu = context.engines().find(CPU_ENGINE);
            if (cpu.isPresent()) {
                LOG.warn("{}: engine '{}' is unavailable ({}); the model runs on engine '{}' on the CPU instead",
                        source.label(), named.name(), availability.reason(), CPU_ENGINE);
                loadWith(cpu.get(), described.withEngine(CPU_ENGINE), bytes);
                return;
            }
        }
        loadWith(named, described, bytes);
    }

    // loader thread
    private void loadWith(InferenceEngine engine, ModelDescriptor descriptor, byte[] bytes) {
        if (descriptor.isPipeline()) {
            loadPipeline(engine, descriptor);
            return;
        }
        String modelPath = DescriptorReader.entryPath(source.descriptorPath(), descriptor.file());
        long started = System.nanoTime();
        LoadedModel model;
        try {
            // other plugin files (a prebuilt TensorRT engine) are read only if the engine asks for them
            // the placement's accelerator and precision (issue 12): engine-onnx picks its providers from them
            io.tollgate.accelerator.Placement placed = placement;
            model = engine.load(new ModelArtifact(descriptor, bytes, source.label() + ", " + modelPath,
                    placed == null ? "" : placed.acceleratorId(), placed == null ? "" : placed.precision(),
                    path -> source.read(DescriptorReader.entryPath(source.descriptorPath(), path),
                            context.maxModelBytes())));
        } catch (EngineException e) {
            context.threads().onLifecycle(() -> fail(source.label() + ": " + modelPath + ": engine '"
                    + descriptor.engine() + "' cannot load the model (" + e.reason() + "): " + e.getMessage(), null));
            return;
        } catch (RuntimeException | LinkageError e) {
            LOG.warn("{}: engine '{}' threw while loading {}", source.label(), descriptor.engine(), modelPath, e);
            context.threads().onLifecycle(() -> fail(source.label() + ": " + modelPath + ": engine '"
                    + descriptor.engine() + "' failed while loading the model: " + e, null));
            return;
        }
        ModelDescriptor effective;
        try {
            effective = ModelSignature.reconcile(source.info(), source.descriptorPath(), descriptor, model);
        } catch (PluginException e) {
            closeQuietly(model);
            context.threads().onLifecycle(() -> fail(e.getMessage(), null));
            return;
        }
        ModelVersion loading = version;
        try {
            // before READY, on this loader thread: the first requests after READY are not the slow ones (issue 11)
            ModelWarmupRun.run(model, effective, loading == null ? null : loading.config(), "model '"
                    + effective.name() + "' " + effective.version());
        } catch (EngineException e) {
            closeQuietly(model);
            context.threads().onLifecycle(() -> fail(source.label() + ": " + e.getMessage(), null));
            return;
        }
        long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started);
        if (!context.threads().onLifecycle(() -> finish(model, engine, effective, millis))) {
            closeQuietly(model);
        }
    }

    /**
     * Loader thread: a capability plugin (issue 13): every stage through {@code engine} where placement put the
     * version, then the plugin's pipeline class, opened. No warm-up runs: zero tensors are no image, text or sound
     * (a pipeline warms its own stages in {@code open} if it wants to); the descriptor's inputs/outputs are the
     * pipeline's interface, not reconciled with any stage.
     */
    private void loadPipeline(InferenceEngine engine, ModelDescriptor descriptor) {
        long started = System.nanoTime();
        io.tollgate.accelerator.Placement placed = placement;
        PipelineModel model;
        try {
            java.util.Map<String, byte[]> stages = stageBytes;
            stageBytes = null;   // the engine holds the models now; a retry reads the plugin again
            PipelineModel.Target target = new PipelineModel.Target(placed == null ? "" : placed.acceleratorId(),
                    placed == null ? "" : placed.precision());
            model = stages == null
                    ? PipelineModel.load(source, engine, descriptor, target, context.maxModelBytes(),
                            PipelineModel.workRoot())
                    : PipelineModel.load(source, engine, descriptor, target, context.maxModelBytes(),
                            PipelineModel.workRoot(), stages);
        } catch (PluginException e) {
            context.threads().onLifecycle(() -> fail(e.getMessage(), null));
            return;
        }
        if (cancelled) {
            closeQuietly(model);
            return;
        }
        long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started);
        if (!context.threads().onLifecycle(() -> finish(model, engine, descriptor, millis))) {
            closeQuietly(model);
        }
    }

    // lifecycle thread
    private void finish(LoadedModel model, InferenceEngine engine, ModelDescriptor effective, long millis) {
        if (!current()) {
            closeQuietly(model);
            context.placements().release(version);
            return;
        }
        if (!context.engines().contains(engine)) {
            closeQuietly(model);
            fail(source.label() + ": engine '" + effective.engine() + "' went away while the model was loading",
                    effective.engine());
            return;
        }
        if (!context.repository().ready(version, model, engine, effective)) {
            closeQuietly(model);
            context.placements().release(version);
            return;
        }
        done = true;
        LifecycleExecutor.cancel(deadline);
        context.owner().loaded(this, effective, millis);
    }

    // lifecycle thread: no room yet (BUDGET_FULL); the version is forgotten, not failed, so a later request retries
    private void defer(String message, long retryAfterMs) {
        if (!current()) {
            return;
        }
        done = true;
        LifecycleExecutor.cancel(deadline);
        if (version != null) {
            context.repository().remove(version);
        }
        context.owner().deferred(this, message, retryAfterMs);
    }

    // lifecycle thread
    private void fail(String message, String awaitingEngine) {
        if (!current()) {
            return;
        }
        done = true;
        LifecycleExecutor.cancel(deadline);
        // the plugin says why before its version shows FAILED: a reader never sees a failed model with a silent plugin
        context.owner().failing(this, message, awaitingEngine);
        if (version != null) {
            context.repository().fail(version, message);
            context.placements().release(version);
        }
        context.owner().failed(this, message, awaitingEngine);
    }

    private void closeQuietly(LoadedModel model) {
        try {
            model.close();
        } catch (RuntimeException e) {
            LOG.warn("{}: closing a discarded model failed: {}", source.label(), e.toString());
        }
    }

    private static Throwable unwrap(Throwable t) {
        return t instanceof CompletionException && t.getCause() != null ? t.getCause() : t;
    }
}
