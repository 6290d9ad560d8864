package io.tollgate.serving.internal;

import io.tollgate.engine.spi.InferenceEngine;
import io.tollgate.engine.spi.LoadedModel;
import com.fasterxml.jackson.databind.JsonNode;
import io.tollgate.model.ModelDescriptor;
import io.tollgate.serving.ModelConfig;
import io.tollgate.serving.ModelState;
import io.tollgate.serving.ModelStatus;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.osgi.framework.Version;

/**
 * One model version held by the {@link ModelRepository}: its descriptor, state, loaded model and
 * request counts. State and the in-flight count change together under one lock, so a request is
 * either admitted before the version stops serving (and the close waits for it) or refused.
 */
final class ModelVersion {
    private static final AtomicLong SEQUENCE = new AtomicLong();

    /** Outcome of {@link #tryAdmit}. */
    enum Admission { ADMITTED, NOT_SERVING, FULL }

    private final long id = SEQUENCE.incrementAndGet();
    private final PluginInfo plugin;
    private final Version parsedVersion;
    private final AtomicLong served = new AtomicLong();
    private final AtomicBoolean closeStarted = new AtomicBoolean();
    private final CompletableFuture<Void> closed = new CompletableFuture<>();
    /** False for a version listed only to say why its plugin was refused: it never owns its model's name. */
    private final boolean ownsName;

    private final Object lock = new Object();
    private ModelDescriptor descriptor;
    private ModelState state = ModelState.LOADING;
    private boolean retiring;
    private boolean closing;
    private String error = "";
    private LoadedModel loaded;
    private InferenceEngine engine;
    private String accelerator = "";
    private long inFlight;
    /** The entitlement granted to this version, for the request path (LicenseGate); null until asked. */
    private volatile LicenseGate.Cached licenseCache;
    /** Set when the version stopped serving because its license no longer entitles it (expired, revoked...). */
    private volatile boolean unlicensed;
    /**
     * Set when the model's version policy stopped selecting this READY version (issue 11): it drained and closed, and
     * stays listed (not selected) so that a policy that selects it again loads it again. Cleared when it goes for good.
     */
    private volatile boolean excluded;
    /** The descriptor's model configuration fields ({@link ModelConfigs#descriptorLayer}). */
    private final JsonNode configLayer;
    /** The effective configuration; null only for a version listed to say why its plugin was refused. */
    private volatile ModelConfig config;

    ModelVersion(PluginInfo plugin, ModelDescriptor descriptor) {
        this(plugin, descriptor, true);
    }

    ModelVersion(PluginInfo plugin, ModelDescriptor descriptor, boolean ownsName) {
        this(plugin, descriptor, ownsName, ModelConfigs.layerOf(descriptor));
    }

    ModelVersion(PluginInfo plugin, ModelDescriptor descriptor, boolean ownsName, JsonNode configLayer) {
        this.plugin = plugin;
        this.descriptor = descriptor;
        this.parsedVersion = parse(descriptor.version());
        this.ownsName = ownsName;
        this.configLayer = configLayer;
    }

    /** The descriptor's model configuration fields, as the plugin wrote them. */
    JsonNode configLayer() {
        return configLayer;
    }

    /**
     * The effective model configuration (defaults, descriptor, the owner's {@code conf/models/{model}.json}), for the
     * endpoint's {@code /config} and the scheduler; it changes without a restart when the owner's file does. Null
     * only for a version listed to say why its plugin was refused.
     */
    ModelConfig config() {
        return config;
    }

    /**
     * Makes {@code effective} this version's configuration; the descriptor's {@code maxBatchSize} (what the request
     * validator enforces) follows it.
     */
    void applyConfig(ModelConfig effective) {
        synchronized (lock) {
            config = effective;
            ModelDescriptor d = descriptor;
            if (d.maxBatchSize() != effective.maxBatchSize()) {
                descriptor = new ModelDescriptor(d.name(), d.version(), d.platform(), d.engine(), d.file(), d.inputs(),
                        d.outputs(), effective.maxBatchSize(), d.labels(), d.meter(), d.licenseFeature(),
                        d.parameters(), d.precision(), d.engines(), d.pipeline());
            }
        }
    }

    /** True when this version holds its model's name for its plugin's symbolic name (see ModelRepository#add). */
    boolean ownsName() {
        return ownsName;
    }

    long id() {
        return id;
    }

    PluginInfo plugin() {
        return plugin;
    }

    String name() {
        return descriptor().name();
    }

    String version() {
        return descriptor().version();
    }

    /** The version as an OSGi version for ordering; 0.0.0 when it does not parse. */
    Version parsedVersion() {
        return parsedVersion;
    }

    /**
     * The version licenses are checked for: the model version as an OSGi version ({@code 1.0} is {@code 1.0.0}), the
     * same value as the plugin's {@code tollgate.model} capability's {@code version} attribute, which the launcher's
     * resolver hook decides on ({@code Entitlements.check(name, version, now)}).
     */
    String licensedVersion() {
        return parsedVersion.toString();
    }

    ModelDescriptor descriptor() {
        synchronized (lock) {
            return descriptor;
        }
    }

    ModelState state() {
        synchronized (lock) {
            return state;
        }
    }

    String error() {
        synchronized (lock) {
            return error;
        }
    }

    /** True while the version serves on borrowed time: its plugin stopped and a successor may replace it. */
    boolean retiring() {
        synchronized (lock) {
            return retiring;
        }
    }

    LoadedModel loaded() {
        synchronized (lock) {
            return loaded;
        }
    }

    InferenceEngine engine() {
        synchronized (lock) {
            return engine;
        }
    }

    String accelerator() {
        synchronized (lock) {
            return accelerator;
        }
    }

    long inFlight() {
        synchronized (lock) {
            return inFlight;
        }
    }

    LicenseGate.Cached licenseCache() {
        return licenseCache;
    }

    void licenseCache(LicenseGate.Cached c) {
        licenseCache = c;
    }

    /** True when the version was stopped because no license entitles it any more. */
    boolean unlicensed() {
        return unlicensed;
    }

    void markUnlicensed() {
        unlicensed = true;
    }

    /** True while the version is unloaded because its model's version policy does not select it. */
    boolean excluded() {
        return excluded;
    }

    void excluded(boolean value) {
        excluded = value;
    }

    long served() {
        return served.get();
    }

    /** Completes once the loaded model has been closed (or at once if none was ever loaded). */
    CompletableFuture<Void> closed() {
        return closed;
    }

    boolean isClosed() {
        return closed.isDone();
    }

    /** LOADING → READY with the loaded model; false (and nothing changes) when it is no longer LOADING. */
    boolean markReady(LoadedModel model, InferenceEngine by, ModelDescriptor effective) {
        synchronized (lock) {
            if (state != ModelState.LOADING) {
                return false;
            }
            loaded = model;
            engine = by;
            descriptor = effective;
            accelerator = model.accelerator() == null ? "" : model.accelerator();
            state = ModelState.READY;
            return true;
        }
    }

    void setRetiring(boolean value) {
        synchronized (lock) {
            retiring = value && state == ModelState.READY;
        }
    }

    /**
     * Stops routing new requests here: the state becomes {@code next} (DRAINING or FAILED).
     *
     * @return true when a loaded model is now waiting for in-flight requests to finish before it is
     * closed (the caller arranges the close); false when nothing was loaded or a close is already under way
     */
    boolean stopServing(ModelState next, String why) {
        synchronized (lock) {
            if (next == ModelState.FAILED) {
                error = why;
            }
            if (state == ModelState.UNLOADED || (state == ModelState.FAILED && next != ModelState.FAILED)) {
                return false;
            }
            state = next;
            retiring = false;
            if (closing) {
                return false;
            }
            if (loaded == null) {
                closed.complete(null);
                return false;
            }
            closing = true;
            return true;
        }
    }

    /** True when the version is waiting to close and nothing is in flight any more. */
    boolean idleAndClosing() {
        synchronized (lock) {
            return closing && inFlight == 0;
        }
    }

    Admission tryAdmit(int maxQueue) {
        synchronized (lock) {
            if (state != ModelState.READY) {
                return Admission.NOT_SERVING;
            }
            if (inFlight >= maxQueue) {
                return Admission.FULL;
            }
            inFlight++;
            return Admission.ADMITTED;
        }
    }

    /** Ends one admitted request; true when it was the last one a pending close waited for. */
    boolean release(boolean succeeded) {
        if (succeeded) {
            served.incrementAndGet();
        }
        synchronized (lock) {
            inFlight--;
            return closing && inFlight == 0;
        }
    }

    /**
     * Closes the loaded model, exactly once however many paths (last release, drain timeout,
     * shutdown) ask for it. A DRAINING version becomes UNLOADED; a FAILED one keeps its state and error.
     *
     * @return true for the call that did the close
     */
    boolean closeOnce() {
        if (!closeStarted.compareAndSet(false, true)) {
            return false;
        }
        LoadedModel model;
        synchronized (lock) {
            model = loaded;
            closing = true;
            if (state != ModelState.FAILED) {
                state = ModelState.UNLOADED;
            }
            retiring = false;
        }
        try {
            if (model != null) {
                model.close();
            }
        } finally {
            synchronized (lock) {
                loaded = null;
            }
            closed.complete(null);
        }
        return true;
    }

    ModelStatus status(boolean serving) {
        synchronized (lock) {
            return new ModelStatus(descriptor, state, serving, plugin.symbolicName(), plugin.version(), accelerator,
                    error, inFlight, served.get());
        }
    }

    String label() {
        return "model '" + name() + "' " + version();
    }

    @Override
    public String toString() {
        return name() + " " + version() + " [" + state() + ", " + plugin.label() + "]";
    }

    static Version parse(String version) {
        try {
            return Version.parseVersion(version);
        } catch (IllegalArgumentException e) {
            return Version.emptyVersion;
        }
    }
}
