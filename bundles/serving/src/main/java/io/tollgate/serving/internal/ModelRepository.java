package io.tollgate.serving.internal;

import com.fasterxml.jackson.databind.JsonNode;
import io.tollgate.engine.spi.InferenceEngine;
import io.tollgate.engine.spi.LoadedModel;
import io.tollgate.model.ModelDescriptor;
import io.tollgate.model.ModelNames;
import io.tollgate.serving.InferenceException;
import io.tollgate.serving.ModelConfig;
import io.tollgate.serving.InferenceException.Reason;
import io.tollgate.serving.ModelState;
import io.tollgate.serving.ModelStatus;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Collectors;
import org.osgi.framework.Version;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The model versions the appliance holds, their states and their routing. Plain Java, thread-safe.
 *
 * <p>Routing: a request naming a version goes to the READY entry of that version; an unversioned
 * request goes to the highest READY version. Among equal versions a live entry wins over a retiring
 * one (whose plugin stopped), then the newest entry.
 *
 * <p>Draining: a version that stops serving takes no new requests; its loaded model is closed when
 * the last request in flight finishes, or after {@code drainTimeoutMs} with a WARN if requests are
 * still running then. Closes run on the {@code scheduler} and happen exactly once.
 */
final class ModelRepository {
    private static final Logger LOG = LoggerFactory.getLogger(ModelRepository.class);
    private static final int MAX_REROUTES = 100;
    private static final Comparator<ModelVersion> PREFERENCE = Comparator
            .comparing(ModelVersion::parsedVersion)
            .thenComparing(v -> !v.retiring())
            .thenComparingLong(ModelVersion::id);

    private final List<ModelVersion> versions = new CopyOnWriteArrayList<>();
    /** The last version each plugin (model name + bundle id) described, kept after it is removed: {@link #licensedAs}. */
    private final java.util.Map<String, ModelVersion> described = new java.util.concurrent.ConcurrentHashMap<>();
    /** The owner's override of a model's configuration ({@code conf/models/{model}.json}), or null for none. */
    private volatile java.util.function.Function<String, JsonNode> overrides = name -> null;
    /** Models an operator unloaded (RepositoryControl): refused at once, whatever their versions' states. */
    private final java.util.Set<String> unloaded = java.util.concurrent.ConcurrentHashMap.newKeySet();
    /** Models placement evicted (issue 12), with the reason; cleared when a version of the model is READY again. */
    private final java.util.Map<String, String> evicted = new java.util.concurrent.ConcurrentHashMap<>();
    /**
     * Versions placement evicted or had no room for (issue 12), by plugin bundle id: no longer listed once closed, yet
     * their plugins still hold them and the next request loads them again, so a version policy counts them
     * ({@link #selection}); forgotten when the version is READY again or its plugin stops.
     */
    private final java.util.Map<Long, ModelVersion> parked = new java.util.concurrent.ConcurrentHashMap<>();
    /** Told about each version whose model closed or that failed (placement releases its reservation). */
    private volatile java.util.function.Consumer<ModelVersion> onClosed = v -> { };
    /** Bumped after every change of membership or state, so a routing that overlapped a change can tell. */
    private final AtomicLong generation = new AtomicLong();
    private volatile Runnable changeListener = () -> { };
    /** True for a model one of whose plugins is loading but has not listed its version yet (ModelLoader). */
    private volatile java.util.function.Predicate<String> loadingUnlisted = name -> false;
    private volatile java.util.function.Consumer<String> reconfigured = name -> { };
    private final long drainTimeoutMs;
    private final ScheduledExecutorService scheduler;

    ModelRepository(long drainTimeoutMs, ScheduledExecutorService scheduler) {
        this.drainTimeoutMs = drainTimeoutMs;
        this.scheduler = scheduler;
    }

    /**
     * Registers a version that is about to load (LOADING).
     *
     * <p>A model's name belongs to the plugin bundle symbolic name that first registered it: while the repository
     * holds any version of that name from another symbolic name (loading, ready, retiring, draining or failed; not
     * one listed only because the guard refused its plugin), this plugin is refused. Versions of one model come
     * from one plugin (side by side, or by upgrading its jar); once every version of the owner is gone (it was
     * uninstalled and drained), the name is free again.
     *
     * @throws PluginException when another plugin owns the model's name, or another plugin that is still active
     * already provides this model version
     */
    synchronized ModelVersion add(PluginInfo plugin, ModelDescriptor declared) throws PluginException {
        return add(plugin, declared, ModelConfigs.layerOf(declared));
    }

    /** As {@link #add(PluginInfo, ModelDescriptor)}, with the descriptor's model configuration fields. */
    synchronized ModelVersion add(PluginInfo plugin, ModelDescriptor declared, JsonNode configLayer)
            throws PluginException {
        Version v = ModelVersion.parse(declared.version());
        for (ModelVersion other : versions) {
            // (the same bundle's earlier FAILED version, kept listed until this one is, is replaced below)
            if (other.ownsName() && other.state() != ModelState.UNLOADED && other.name().equals(declared.name())
                    && !other.plugin().symbolicName().equals(plugin.symbolicName())
                    && !(other.plugin().bundleId() == plugin.bundleId() && !other.retiring()
                    && (other.state() == ModelState.FAILED || other.state() == ModelState.LOADING))) {
                throw new PluginException(plugin.label() + ": model '" + declared.name() + "' is already served by"
                        + " plugin " + other.plugin().symbolicName() + "; a model's versions must come from the"
                        + " plugin that owns its name");
            }
        }
        for (ModelVersion other : versions) {
            boolean live = other.state() == ModelState.LOADING || other.state() == ModelState.READY;
            if (live && !other.retiring() && other.plugin().bundleId() != plugin.bundleId()
                    && other.name().equals(declared.name()) && other.parsedVersion().equals(v)) {
                throw new PluginException(plugin.label() + ": model '" + declared.name() + "' " + declared.version()
                        + " is already provided by " + other.plugin().label() + " (bundle "
                        + other.plugin().bundleId() + "); uninstall one of the two plugins");
            }
        }
        ModelVersion added = new ModelVersion(plugin, declared, true, configLayer);
        configure(added);
        versions.add(added);
        described.put(added.name() + "\n" + plugin.bundleId(), added);
        changed();
        // the plugin's earlier failure (or refusal), its version the policy had unloaded, or the version of a load it
        // cancelled (restarted while loading) goes only now that this load is listed: never a moment without it
        for (ModelVersion old : ofBundle(plugin.bundleId())) {
            if (old != added && !old.retiring() && (old.state() == ModelState.FAILED || old.excluded()
                    || old.state() == ModelState.LOADING)) {
                remove(old);
            }
        }
        return added;
    }

    /**
     * Lists a model version whose plugin was refused before it could load (the plugin guard: it carries code) as
     * FAILED with {@code error}, so that the repository index and the model's status say why. It never serves and
     * blocks no other plugin's version of the same model; {@link #remove} forgets it.
     */
    synchronized ModelVersion refused(PluginInfo plugin, String name, String version, String error) {
        return refused(plugin, name, version, error, false, List.of());
    }

    /**
     * As {@link #refused(PluginInfo, String, String, String)}, taking the place of {@code replaces} (the plugin's
     * earlier FAILED versions) without a gap: the refusal is listed before they are removed, so a request at any
     * instant finds the model (issue 11: a reader in between got 404 "not installed"). {@code unlicensed} marks it as
     * stopped for want of a license (the guard refused it for its license, or it replaces a version that lost its
     * license): requests keep getting 403 with the reason, as for the version it replaces.
     */
    synchronized ModelVersion refused(PluginInfo plugin, String name, String version, String error, boolean unlicensed,
                                      List<ModelVersion> replaces) {
        ModelVersion refused = new ModelVersion(plugin, new ModelDescriptor(name, version, "", "", "", List.of(),
                List.of(), 0, List.of(), "", "", Map.of()), false);
        if (unlicensed) {
            refused.markUnlicensed();
        }
        refused.stopServing(ModelState.FAILED, error);
        versions.add(refused);
        changed();
        for (ModelVersion old : replaces) {
            remove(old);
        }
        return refused;
    }

    /**
     * LOADING → READY; then retiring versions this one replaces (same plugin bundle, or same model
     * and version) stop serving and drain.
     *
     * @return false when the version is no longer LOADING (e.g. its plugin went away meanwhile): the
     * caller still owns {@code model} and must close it
     */
    boolean ready(ModelVersion version, LoadedModel model, InferenceEngine engine, ModelDescriptor effective) {
        if (!version.markReady(model, engine, effective)) {
            return false;
        }
        configure(version);     // with the inputs and outputs the loaded model declares
        evicted.remove(version.name());
        parked.remove(version.plugin().bundleId());
        changed();
        for (ModelVersion old : versions) {
            if (old != version && old.state() == ModelState.READY && old.retiring()
                    && (old.plugin().bundleId() == version.plugin().bundleId()
                    || (old.name().equals(version.name()) && old.parsedVersion().equals(version.parsedVersion())))) {
                LOG.info("{} replaces {} from {}; draining the old one", version.label(), old.label(),
                        old.plugin().label());
                drain(old);
            }
        }
        return true;
    }

    /** The version stops serving and, once requests in flight are done, is closed and forgotten (UNLOADED). */
    void drain(ModelVersion version) {
        boolean mustClose = version.stopServing(ModelState.DRAINING, "");
        changed();
        if (mustClose) {
            closeWhenIdle(version);
        } else if (version.isClosed() && !version.excluded()) {
            versions.remove(version);
            changed();
        }
    }

    /**
     * The model's version policy no longer selects READY {@code version} (issue 11, as Triton unloads it): it takes no
     * new request, requests in flight finish, then its model closes (engine memory freed, placement's reservation
     * released). Unlike {@link #drain} it stays listed, UNAVAILABLE "not selected", and counts among the model's
     * versions for the policy, so that a policy that selects it again has it loaded again (ModelLoader).
     */
    void exclude(ModelVersion version) {
        version.excluded(true);
        drain(version);
    }

    /** The version is refused or broke: FAILED with {@code error}; a loaded model is drained and closed. */
    void fail(ModelVersion version, String error) {
        boolean mustClose = version.stopServing(ModelState.FAILED, error);
        changed();
        if (mustClose) {
            closeWhenIdle(version);
        } else {
            onClosed.accept(version);
        }
    }

    /** {@code listener} is told (on the closing thread) when a version's model closed or a version failed. */
    void onClosed(java.util.function.Consumer<ModelVersion> listener) {
        this.onClosed = listener;
    }

    /**
     * Placement evicted {@code version} (issue 12): it drains and closes (its engine memory is freed), and requests for
     * its model are refused with {@code reason} until a version of it is READY again ({@link #evictedReason}).
     */
    void evict(ModelVersion version, String reason) {
        evicted.put(version.name(), reason);
        parked.put(version.plugin().bundleId(), version);
        drain(version);
    }

    /**
     * Placement had no room to load {@code version} (null: it was not listed yet) of model {@code name} (issue 12,
     * {@code min.residency.ms}): as if evicted with {@code reason}; the next request loads it again.
     */
    void deferred(ModelVersion version, String name, String reason) {
        evicted.put(name, reason);
        if (version != null) {
            parked.put(version.plugin().bundleId(), version);
        }
        changed();
    }

    /** Plugin {@code bundleId} stopped or went away: a version of it placement evicted no longer counts. */
    /** The version of plugin {@code bundleId} placement evicted or had no room for, while it counts (any thread). */
    Optional<ModelVersion> parked(long bundleId) {
        return Optional.ofNullable(parked.get(bundleId));
    }

    /** {@code version} failed while parked (its engine went away as it drained): it no longer counts. */
    void unpark(ModelVersion version) {
        if (parked.remove(version.plugin().bundleId(), version)) {
            changed();
        }
    }

    void unpark(long bundleId) {
        if (parked.remove(bundleId) != null) {
            changed();
        }
    }

    /** Why model {@code name} is not loaded, when placement evicted it and it has not loaded again yet. */
    Optional<String> evictedReason(String name) {
        return Optional.ofNullable(evicted.get(name));
    }

    /**
     * The version's license no longer entitles it (expired, revoked, removed): it takes no new request at once, the
     * requests in flight finish, then its model is closed (engine memory freed), as an uninstall drains. It stays listed
     * FAILED with {@code why}, and requests for it are answered 403 with that reason (see {@link #notReady}).
     */
    void failUnlicensed(ModelVersion version, String why) {
        version.markUnlicensed();
        fail(version, why);
    }

    /** Forgets a version that never loaded or failed; drains one that is loaded. */
    void remove(ModelVersion version) {
        version.excluded(false);        // it goes for good: forgotten once closed
        ModelState state = version.state();
        if (state == ModelState.READY || (state == ModelState.FAILED && !version.isClosed())) {
            drain(version);
            if (state == ModelState.FAILED) {
                version.closed().thenRun(() -> {
                    versions.remove(version);
                    changed();
                });
            }
        } else if (state == ModelState.LOADING) {
            version.stopServing(ModelState.DRAINING, "");
            versions.remove(version);
        } else if (state != ModelState.DRAINING) {
            versions.remove(version);
        }
        changed();
    }

    // ---- model configuration -------------------------------------------------------------------

    /** Where the owner's overrides come from ({@link ModelConfigWatch}); applies them to the versions held. */
    void overrides(java.util.function.Function<String, JsonNode> source) {
        overrides = source;
        for (ModelVersion v : versions) {
            configure(v);
        }
    }

    /**
     * Checks {@code override} (null: none) against every version of {@code name} held, without applying it.
     *
     * @throws ModelConfigs.Fault the first version's refusal, its message naming the version
     */
    void checkOverride(String name, JsonNode override) throws ModelConfigs.Fault {
        for (ModelVersion v : versions) {
            if (v.name().equals(name) && v.config() != null) {
                try {
                    ModelConfigs.effective(v.descriptor(), v.configLayer(), override);
                } catch (ModelConfigs.Fault f) {
                    throw new ModelConfigs.Fault(f.field(), f.getMessage() + " (for " + v.label() + ")");
                }
            }
        }
    }

    /** Applies the current override of {@code name} to every version of it held. */
    void reconfigure(String name) {
        for (ModelVersion v : versions) {
            if (v.name().equals(name)) {
                configure(v);
            }
        }
        changed();
        reconfigured.accept(name);
    }

    /** {@code listener} is told the model's name after its configuration changed (its version policy may have). */
    void onReconfigured(java.util.function.Consumer<String> listener) {
        reconfigured = listener;
    }

    /**
     * Computes the version's effective configuration. An override that does not fit it (checked before it was taken,
     * so only a version loaded since) is left out with a WARN; a descriptor that does not fit (a refused plugin's
     * placeholder) leaves no configuration.
     */
    private void configure(ModelVersion v) {
        JsonNode override = overrides.apply(v.name());
        try {
            v.applyConfig(ModelConfigs.effective(v.descriptor(), v.configLayer(), override));
            return;
        } catch (ModelConfigs.Fault f) {
            if (override == null) {
                LOG.debug("{}: no model configuration: {}", v.label(), f.getMessage());
                return;
            }
            LOG.warn("{}: the owner's configuration of model '{}' does not fit this version and is not applied to it:"
                    + " {}", v.label(), v.name(), f.getMessage());
        }
        try {
            v.applyConfig(ModelConfigs.effective(v.descriptor(), v.configLayer(), null));
        } catch (ModelConfigs.Fault f) {
            LOG.debug("{}: no model configuration: {}", v.label(), f.getMessage());
        }
    }

    /** The version a request for {@code name} ({@code version}, when given) goes to, else the most recent entry. */
    Optional<ModelVersion> find(String name, String version) {
        try {
            return Optional.of(route(name, version));
        } catch (InferenceException e) {
            return named(name).stream()
                    .filter(v -> version == null || version.isBlank() || sameVersion(v, version))
                    .max(PREFERENCE);
        }
    }

    /** Every version (any state) that came from {@code bundleId}. */
    List<ModelVersion> ofBundle(long bundleId) {
        return versions.stream().filter(v -> v.plugin().bundleId() == bundleId).collect(Collectors.toList());
    }

    /** READY versions of {@code bundleId} keep serving but may be replaced: their plugin stopped. */
    List<ModelVersion> retire(long bundleId) {
        List<ModelVersion> retired = new ArrayList<>();
        for (ModelVersion v : ofBundle(bundleId)) {
            if (v.state() == ModelState.READY) {
                v.setRetiring(true);
                retired.add(v);
            }
        }
        changed();
        return retired;
    }

    /** Retiring versions of {@code bundleId}. */
    List<ModelVersion> retiring(long bundleId) {
        return ofBundle(bundleId).stream().filter(ModelVersion::retiring).collect(Collectors.toList());
    }

    /**
     * The plugin restarted without changing: its retiring versions from revision {@code revisionKey}
     * serve as live versions again.
     *
     * @return true when there was something to resume
     */
    boolean resume(long bundleId, String revisionKey) {
        boolean resumed = false;
        for (ModelVersion v : retiring(bundleId)) {
            if (v.plugin().revisionKey().equals(revisionKey)) {
                v.setRetiring(false);
                resumed = true;
            }
        }
        changed();
        return resumed;
    }

    /**
     * Admits a request: routes it and counts it in flight. The caller must {@link #release} the
     * returned version exactly once.
     *
     * @throws InferenceException MODEL_NOT_FOUND, MODEL_NOT_READY or OVERLOADED
     */
    ModelVersion acquire(String name, String version, int maxQueue) throws InferenceException {
        // Routing reads the versions without a lock. When it overlapped a change (an upgrade switching
        // traffic, a close), its view may be stale: route again rather than refuse the request.
        for (int attempt = 0; ; attempt++) {
            long seen = generation.get();
            ModelVersion target;
            try {
                target = route(name, version);
            } catch (InferenceException e) {
                if (generation.get() != seen && attempt < MAX_REROUTES) {
                    continue;
                }
                throw e;
            }
            switch (target.tryAdmit(maxQueue)) {
                case ADMITTED:
                    return target;
                case FULL:
                    throw new InferenceException(Reason.OVERLOADED, "model " + name + " has " + target.inFlight()
                            + " requests queued; retry later");
                default:
                    if (attempt >= MAX_REROUTES) {
                        throw notReady(name, version, List.of(target), List.of(target));
                    }
            }
        }
    }

    /** Ends a request admitted by {@link #acquire}; closes a draining version after its last request. */
    void release(ModelVersion version, boolean succeeded) {
        if (version.release(succeeded)) {
            scheduleClose(version);
        }
    }

    /**
     * The READY version a request would go to. Only versions the model's version policy selects serve
     * ({@link #selection}); an unversioned request goes to {@code default_model_version} when it is set and serves,
     * else to the newest version that serves.
     */
    ModelVersion route(String name, String version) throws InferenceException {
        if (unloaded.contains(name)) {
            throw unloadedRefusal(name);     // its versions may be draining or gone; its plugins stay installed
        }
        List<ModelVersion> named = named(name);
        if (named.isEmpty()) {
            if (loadingUnlisted.test(name)) {
                // a plugin of it is being read (at start, after a load or a restart): not "not installed"
                throw new InferenceException(Reason.MODEL_NOT_READY, "model '" + name + "' is loading; retry shortly");
            }
            throw new InferenceException(Reason.MODEL_NOT_FOUND, "model '" + name + "' is not installed; installed: "
                    + installedNames());
        }
        List<ModelVersion> candidates = named;
        Selection selection = selection(named, parkedOf(name));
        if (version != null && !version.isBlank()) {
            candidates = named.stream().filter(v -> sameVersion(v, version)).collect(Collectors.toList());
            if (candidates.isEmpty()) {
                throw new InferenceException(Reason.MODEL_NOT_FOUND, "model '" + name + "' has no version '" + version
                        + "'; installed versions: " + versionsOf(named));
            }
            // a version that loads or serves but is not selected; a failed or draining one says why below instead
            List<ModelVersion> live = candidates.stream().filter(ModelRepository::installed)
                    .collect(Collectors.toList());
            if (!live.isEmpty() && live.stream().noneMatch(selection::selects)) {
                throw new InferenceException(Reason.MODEL_NOT_FOUND, "model '" + name + "' " + version + " is "
                        + NOT_SELECTED + " (" + selection.describe() + "); versions served: " + selection.served()
                        + " (conf/models/" + name + ".json sets version_policy)");
            }
        }
        List<ModelVersion> serving = candidates.stream()
                .filter(v -> v.state() == ModelState.READY && selection.selects(v)).collect(Collectors.toList());
        if ((version == null || version.isBlank()) && !selection.defaultVersion().isEmpty()) {
            Optional<ModelVersion> preferred = serving.stream()
                    .filter(v -> sameVersion(v, selection.defaultVersion())).max(PREFERENCE);
            if (preferred.isPresent()) {
                return preferred.get();
            }
        }
        Optional<ModelVersion> best = serving.stream().max(PREFERENCE);
        if (best.isPresent()) {
            return best.get();
        }
        if ((version == null || version.isBlank()) && (named.stream().anyMatch(v -> selection.selects(v)
                && (v.state() == ModelState.LOADING || (v.excluded() && installed(v))))
                || parkedOf(name).stream().anyMatch(selection.selected()::contains))) {
            // (or a version it selects was evicted and loads again: ModelLoader#applyVersionPolicy)
            // the policy changed and the versions it selects are still loading: the version serving until now goes on
            // until they are READY (then it is unloaded), so a policy change drops no request (issue 11)
            Optional<ModelVersion> standIn = named.stream().filter(v -> v.state() == ModelState.READY && !v.excluded())
                    .max(PREFERENCE);
            if (standIn.isPresent()) {
                return standIn.get();
            }
        }
        // when the versions the policy selects all lost their license, the client is told that, not the others' states
        List<ModelVersion> chosen = candidates.stream().filter(selection::selects).collect(Collectors.toList());
        throw notReady(name, version, candidates, chosen.isEmpty() ? candidates : chosen);
    }

    /** The reason the repository index gives for a version its policy does not select. */
    static final String NOT_SELECTED = "not selected by the version policy";

    /**
     * Which versions of a model serve: its version policy (from the configuration of its newest version, so an
     * override in {@code conf/models/} decides for all) applied to the versions that are loading or ready.
     */
    record Selection(ModelConfig.VersionPolicy policy, java.util.Set<Version> selected, String defaultVersion,
                     String fallback) {
        /** True when a specific policy's versions cannot serve and others serve instead ({@link #fallback}: how). */
        boolean fallsBack() {
            return !fallback.isEmpty();
        }

        boolean selects(ModelVersion v) {
            return selected.contains(v.parsedVersion());
        }

        String served() {
            return selected.stream().sorted().map(Version::toString).collect(Collectors.toList()).toString();
        }

        String describe() {
            switch (policy.kind()) {
                case LATEST:
                    return "version_policy latest " + policy.latestNumVersions();
                case ALL:
                    return "version_policy all";
                default:
                    return "version_policy specific " + policy.versions() + (fallback.isEmpty() ? "" : ", " + fallback);
            }
        }
    }

    /** The version policy's selection among the versions of model {@code name} held. */
    Selection selection(String name) {
        return selection(named(name), parkedOf(name));
    }

    /**
     * As {@link #selection(String)}, counting {@code alsoInstalled} too, and not the retiring versions of plugin
     * {@code replacing} (the revision being loaded replaces them once READY).
     */
    Selection selection(String name, java.util.Set<Version> alsoInstalled, long replacing) {
        java.util.Set<Version> also = new java.util.HashSet<>(alsoInstalled);
        also.addAll(parkedOf(name));
        return selection(named(name).stream().filter(v -> !(v.retiring() && v.plugin().bundleId() == replacing))
                .collect(Collectors.toList()), also);
    }

    /** The versions of model {@code name} placement evicted or had no room for whose plugins still hold them. */
    private java.util.Set<Version> parkedOf(String name) {
        return parked.values().stream().filter(v -> v.name().equals(name)).map(ModelVersion::parsedVersion)
                .collect(Collectors.toSet());
    }

    /**
     * LOADING {@code version} is not loaded because its model's version policy does not select it (issue 11, as
     * Triton never loads it): listed UNAVAILABLE "not selected", it counts among the model's versions for the policy
     * and loads when the policy selects it (ModelLoader).
     */
    void notSelected(ModelVersion version) {
        version.excluded(true);
        version.stopServing(ModelState.UNLOADED, "");
        changed();
    }

    /**
     * True for a version the version policy chooses among: loading, ready, or unloaded because the policy did not
     * select it (it loads again when the policy does).
     */
    static boolean installed(ModelVersion v) {
        ModelState state = v.state();
        return state == ModelState.READY || state == ModelState.LOADING
                || (v.excluded() && (state == ModelState.DRAINING || state == ModelState.UNLOADED));
    }

    /** The version policy's selection among {@code named} (the versions of one model). */
    static Selection selection(List<ModelVersion> named) {
        return selection(named, java.util.Set.of());
    }

    /**
     * As {@link #selection(List)}, counting {@code alsoInstalled}: versions plugins hold but that are not listed (being
     * described, or evicted by placement: an evicted version counts, so evicting it never loads another). A
     * {@code specific} policy none of whose versions is installed (a typo, written before the plugin is dropped in, or
     * a version that failed to load) selects the newest version held instead (Triton keeps the model it has when a
     * reload selects no available version); not when one of them is held but its license no longer entitles it: the
     * owner pinned that version, and nothing else loads and bills in its place (requests get 403 with the reason).
     * The outcome depends on the versions held and their states only, never on what served before (a restart gives
     * the same).
     */
    static Selection selection(List<ModelVersion> named, java.util.Set<Version> alsoInstalled) {
        List<ModelVersion> live = named.stream().filter(ModelRepository::installed).collect(Collectors.toList());
        ModelConfig config = live.stream().filter(v -> v.config() != null).max(PREFERENCE).map(ModelVersion::config)
                .orElse(null);
        ModelConfig.VersionPolicy policy = config == null ? ModelConfigs.DEFAULT_POLICY : config.versionPolicy();
        String defaultVersion = config == null ? "" : config.defaultModelVersion();
        List<Version> versions = java.util.stream.Stream.concat(live.stream().map(ModelVersion::parsedVersion),
                alsoInstalled.stream()).distinct().sorted(Comparator.reverseOrder()).collect(Collectors.toList());
        java.util.Set<Version> selected = new java.util.HashSet<>();
        switch (policy.kind()) {
            case ALL:
                selected.addAll(versions);
                break;
            case LATEST:
                selected.addAll(versions.subList(0, Math.min(policy.latestNumVersions(), versions.size())));
                break;
            default:
                for (String v : policy.versions()) {
                    selected.add(ModelVersion.parse(v));
                }
        }
        String fallback = "";
        if (policy.kind() == ModelConfig.VersionPolicy.Kind.SPECIFIC
                && versions.stream().noneMatch(selected::contains)) {
            // a named version its license no longer entitles is the owner's choice, not absent: nothing else loads
            // in its place (it would serve and bill what the owner pinned away); one that failed to load (a broken
            // model, a missing engine) is absent like one not installed, so the outcome is the same after a restart
            boolean unlicensed = named.stream().anyMatch(v -> v.state() == ModelState.FAILED && v.unlicensed()
                    && selected.contains(v.parsedVersion()));
            if (!unlicensed && !versions.isEmpty()) {
                List<String> failed = named.stream().filter(v -> v.state() == ModelState.FAILED
                        && selected.contains(v.parsedVersion())).map(ModelVersion::version).sorted()
                        .collect(Collectors.toList());
                selected.clear();
                selected.add(versions.get(0));
                fallback = (failed.isEmpty() ? "none of them installed" : "none of them installed but " + failed
                        + ", which failed") + ": the newest installed version serves";
            }
        }
        return new Selection(policy, selected, defaultVersion, fallback);
    }

    // ---- explicit model control (RepositoryControl) ----------------------------------------------

    /** True when an operator unloaded model {@code name}. */
    boolean isUnloaded(String name) {
        return unloaded.contains(name);
    }

    /** Marks {@code names} unloaded (at start, from the kept state), without draining anything. */
    void markUnloaded(java.util.Collection<String> names) {
        unloaded.addAll(names);
        changed();
    }

    /**
     * Unloads model {@code name}: from now on its requests are refused; its loaded versions drain (requests in flight
     * finish) and close.
     */
    void unload(String name) {
        unloaded.add(name);
        changed();
        for (ModelVersion v : versions) {
            if (v.name().equals(name) && v.state() == ModelState.READY) {
                drain(v);
            }
        }
    }

    /** Lifts {@link #unload}: versions that load from now on serve. */
    void loadAgain(String name) {
        unloaded.remove(name);
        changed();
    }

    /**
     * The repository index rows of the versions held, in Triton's states: READY; LOADING; UNLOADING (draining:
     * requests in flight finish); UNAVAILABLE with the reason (failed, unloaded, or not selected by the version
     * policy). Sorted by name, then version.
     */
    List<io.tollgate.serving.RepositoryControl.IndexEntry> index() {
        List<io.tollgate.serving.RepositoryControl.IndexEntry> out = new ArrayList<>();
        java.util.Map<String, Selection> selections = new java.util.HashMap<>();
        List<ModelVersion> sorted = new ArrayList<>(versions);
        sorted.sort(Comparator.comparing(ModelVersion::name).thenComparing(ModelVersion::parsedVersion));
        for (ModelVersion v : sorted) {
            String state;
            String reason = "";
            if (v.excluded() && installed(v)) {
                // unloaded (or unloading: no new request goes there) because the version policy does not select it
                Selection selection = selections.computeIfAbsent(v.name(), this::selection);
                if (unloaded.contains(v.name())) {
                    state = "UNAVAILABLE";
                    reason = LoadAttempt.UNLOADED + " (POST /v2/repository/models/" + v.name() + "/load loads it)";
                } else if (selection.selects(v)) {
                    state = "LOADING";
                    reason = "selected by the version policy again (" + selection.describe() + "); loading";
                } else {
                    state = "UNAVAILABLE";
                    reason = NOT_SELECTED + " (" + selection.describe() + ")";
                }
                out.add(new io.tollgate.serving.RepositoryControl.IndexEntry(v.name(), v.version(), state, reason));
                continue;
            }
            switch (v.state()) {
                case READY:
                    Selection selection = selections.computeIfAbsent(v.name(), this::selection);
                    if (unloaded.contains(v.name())) {
                        state = "UNLOADING";
                        reason = "unloaded by an operator; requests in flight are finishing";
                    } else if (!selection.selects(v)) {
                        state = "UNAVAILABLE";
                        reason = NOT_SELECTED + " (" + selection.describe() + ")";
                    } else {
                        state = "READY";
                    }
                    break;
                case LOADING:
                    state = "LOADING";
                    break;
                case DRAINING:
                    state = "UNLOADING";
                    reason = "requests in flight are finishing before it unloads";
                    break;
                case UNLOADED:
                    continue;
                default:
                    state = "UNAVAILABLE";
                    reason = v.error();
            }
            out.add(new io.tollgate.serving.RepositoryControl.IndexEntry(v.name(), v.version(), state, reason));
        }
        return out;
    }

    static InferenceException unloadedRefusal(String name) {
        return new InferenceException(Reason.MODEL_NOT_FOUND, "model '" + name + "' is unloaded: an operator unloaded"
                + " it, so it has no available versions (POST /v2/repository/models/" + name
                + "/load serves it again)");
    }

    /**
     * The version of {@code name} (and {@code version}, when given) a remote overflow is licensed as: the preferred one
     * held here in any state (loading, failed, unloaded by an operator, evicted), or empty when none is held.
     */
    Optional<ModelVersion> licensedAs(String name, String version) {
        return versions.stream().filter(v -> v.name().equals(name)
                && (version == null || version.isBlank() || sameVersion(v, version))).max(PREFERENCE);
    }

    /**
     * The last version plugin {@code bundleId} described for model {@code name}, even once it was removed from the
     * repository (an unloaded or evicted version may be dropped while its plugin stays installed), or empty.
     */
    Optional<ModelVersion> describedBy(String name, long bundleId) {
        return Optional.ofNullable(described.get(name + "\n" + bundleId));
    }

    /** The versions a request for {@code name} (and {@code version}, when given) could go to, in any state. */
    List<ModelVersion> candidates(String name, String version) {
        return named(name).stream().filter(v -> version == null || version.isBlank() || sameVersion(v, version))
                .collect(Collectors.toList());
    }

    /** Status of the version a request would go to, or of the most recent entry when none is READY. */
    Optional<ModelStatus> status(String name, String version) {
        try {
            ModelVersion v = route(name, version);
            return Optional.of(v.status(isServing(v)));
        } catch (InferenceException e) {
            // a READY version that does not serve (unloaded, or not selected by the version policy) says why
            return named(name).stream()
                    .filter(v -> version == null || version.isBlank() || sameVersion(v, version))
                    .max(PREFERENCE)
                    .map(v -> {
                        ModelStatus st = v.status(false);
                        return (st.state() == ModelState.READY || v.excluded()) && st.error().isEmpty() ? new ModelStatus(
                                st.descriptor(), st.state(), false, st.plugin(), st.pluginVersion(), st.accelerator(),
                                e.getMessage(), st.inFlight(), st.served()) : st;
                    });
        }
    }

    List<ModelStatus> statuses() {
        List<ModelStatus> out = new ArrayList<>();
        for (ModelVersion v : versions) {
            out.add(v.status(isServing(v)));
        }
        out.sort(Comparator.comparing(ModelStatus::name).thenComparing(s -> ModelVersion.parse(s.version())));
        return out;
    }

    List<ModelVersion> all() {
        return List.copyOf(versions);
    }

    /**
     * Stops all serving, waits up to the drain timeout for requests in flight, then closes every
     * loaded model. Blocks the caller (component deactivation) for at most the drain timeout plus
     * the time the closes take.
     */
    void shutdown() {
        List<ModelVersion> all = List.copyOf(versions);
        for (ModelVersion v : all) {
            if (v.stopServing(ModelState.DRAINING, "")) {
                closeWhenIdle(v);
            }
        }
        changed();
        CompletableFuture<?>[] closes = all.stream().map(ModelVersion::closed).toArray(CompletableFuture[]::new);
        try {
            CompletableFuture.allOf(closes).get(drainTimeoutMs + 5_000, TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (ExecutionException | TimeoutException e) {
            LOG.warn("models did not close within {} ms of shutdown; closing them now", drainTimeoutMs + 5_000);
        }
        for (ModelVersion v : all) {
            closeNow(v);
        }
        versions.clear();
        changed();
    }

    private boolean isServing(ModelVersion v) {
        if (v.state() != ModelState.READY) {
            return false;
        }
        try {
            return route(v.name(), null) == v;
        } catch (InferenceException e) {
            return false;
        }
    }

    private void closeWhenIdle(ModelVersion version) {
        if (version.idleAndClosing()) {
            scheduleClose(version);
            return;
        }
        try {
            scheduler.schedule(() -> {
                if (!version.isClosed()) {
                    LOG.warn("{} from {}: {} requests still in flight after {} ms of draining; closing it anyway",
                            version.label(), version.plugin().label(), version.inFlight(), drainTimeoutMs);
                    closeNow(version);
                }
            }, drainTimeoutMs, TimeUnit.MILLISECONDS);
        } catch (RejectedExecutionException e) {
            closeNow(version);
        }
    }

    private void scheduleClose(ModelVersion version) {
        try {
            scheduler.execute(() -> closeNow(version));
        } catch (RejectedExecutionException e) {
            closeNow(version);
        }
    }

    private void closeNow(ModelVersion version) {
        try {
            if (version.closeOnce()) {
                LOG.info("{} from {} closed ({})", version.label(), version.plugin().label(), version.state());
                onClosed.accept(version);
            }
        } catch (RuntimeException e) {
            LOG.warn("{} from {}: closing the model failed: {}", version.label(), version.plugin().label(), e.toString(), e);
        } finally {
            if (version.state() == ModelState.UNLOADED && !version.excluded()) {
                versions.remove(version);
            }
            changed();
        }
    }

    private void changed() {
        generation.incrementAndGet();
        changeListener.run();
    }

    /**
     * {@code listener} runs on the changing thread after each change of membership or state, before the next one: what
     * a request routed at that instant would see (tests check that no transition leaves a gap).
     */
    void onChange(Runnable listener) {
        changeListener = listener;
    }

    /** How to tell a model whose plugin is loading but has not listed its version yet (any thread). */
    void loadingUnlisted(java.util.function.Predicate<String> test) {
        loadingUnlisted = test;
    }

    private List<ModelVersion> named(String name) {
        return versions.stream().filter(v -> v.name().equals(name) && (v.state() != ModelState.UNLOADED || v.excluded()))
                .collect(Collectors.toList());
    }

    private String installedNames() {
        return versions.stream().filter(v -> v.state() != ModelState.UNLOADED || v.excluded()).map(ModelVersion::name)
                .collect(Collectors.toCollection(TreeSet::new)).toString();
    }

    private static String versionsOf(List<ModelVersion> named) {
        return named.stream().sorted(Comparator.comparing(ModelVersion::parsedVersion))
                .map(ModelVersion::version).distinct().collect(Collectors.toList()).toString();
    }

    /**
     * True when {@code requested} names {@code v}: the same text, or the same version number ("01.00.000" is 1.0.0, as
     * Triton reads "01" as version 1). A requested text that is not a version name ({@link ModelNames}: a space, tab
     * or line break at either end, which OSGi's parser trims) names no version: "1.0.0%20" was served as 1.0.0.
     */
    private static boolean sameVersion(ModelVersion v, String requested) {
        if (v.version().equals(requested)) {
            return true;
        }
        if (ModelNames.problem(requested).isPresent()) {
            return false;
        }
        try {
            return v.parsedVersion().equals(Version.parseVersion(requested));
        } catch (IllegalArgumentException e) {
            return false;
        }
    }

    private static InferenceException notReady(String name, String version, List<ModelVersion> candidates,
                                               List<ModelVersion> selected) {
        String states = candidates.stream().sorted(PREFERENCE.reversed()).map(ModelRepository::stateText)
                .collect(Collectors.joining("; "));
        String which = version == null || version.isBlank() ? "model '" + name + "' has no ready version"
                : "model '" + name + "' " + version + " is not ready";
        if (!selected.isEmpty() && selected.stream().allMatch(v -> v.unlicensed() && v.state() == ModelState.FAILED)) {
            // every version it would serve stopped for want of a license: the client is told why, as a request to a
            // READY one is
            ModelVersion best = selected.stream().max(PREFERENCE).orElseThrow();
            return new InferenceException(Reason.NOT_LICENSED, best.label() + " is not licensed on this box: "
                    + best.error());
        }
        return new InferenceException(Reason.MODEL_NOT_READY, which + ": " + states);
    }

    private static String stateText(ModelVersion v) {
        if (v.excluded() && installed(v)) {
            return v.version() + " is unloaded by the version policy (it loads again while the policy selects it)";
        }
        switch (v.state()) {
            case LOADING:
                return v.version() + " is loading; retry shortly";
            case FAILED:
                return v.version() + " failed: " + v.error();
            case DRAINING:
                return v.version() + " is being unloaded";
            default:
                return v.version() + " is " + v.state();
        }
    }
}
