package io.tollgate.serving.internal;

import io.tollgate.serving.ModelState;

/**
 * Where one model plugin stands, as the extender sees it: one record per state, one method per
 * transition. A method the current state does not allow throws {@link IllegalStateException} naming
 * the state and the transition; nothing changes then. {@link PluginRecord#moveTo} is the one place a
 * transition takes effect (and is logged).
 *
 * <pre>
 *   ┌──────────┐   load    ┌─────────┐  loaded   ┌───────┐
 *   │ Inactive │──────────▶│ Loading │──────────▶│ Ready │
 *   └──────────┘           └─────────┘           └───────┘
 *     │  │  ▲ │  resume (restarted unchanged)      ▲   │ engineLost
 *     │  │  │ └────────────────────────────────────┘   │
 *     │  │  │                  │ loadFailed             ▼
 *     │  │  │                  └───────────────────▶ ┌────────┐
 *     │  │  │ resolved                               │ Failed │── load (its engine is back)
 *     │  ▼  │                                        └────────┘
 *     │ ┌──────────────┐  unresolvable: from every state that is not started
 *     │ │ Unresolvable │
 *     │ └──────────────┘
 *     │ engineLost (the model it kept serving after its bundle stopped)
 *     ▼
 *   ┌────────────────┐
 *   │ RetiringFailed │
 *   └────────────────┘
 *
 *   stop: every state ──▶ Inactive          load: every state ──▶ Loading (a new attempt)
 * </pre>
 *
 * <p>{@link #reported()} is what {@code /admin/plugins} shows; {@link ModelLoader#statuses()} shows an
 * Inactive plugin whose stopped revision still serves (its versions are retiring) as READY.
 *
 * <p>Threads: values are immutable. Transitions are made on the {@code tollgate-model-lifecycle}
 * thread; any thread may read a record's current state.
 */
sealed interface PluginState {
    /** The one Inactive value: {@link #stop()} always lands here. */
    PluginState INACTIVE = new Inactive();

    /** What {@code /admin/plugins} reports for a plugin in this state. */
    ModelState reported();

    /** Why the plugin was refused; "" unless the state is a failure. */
    default String error() {
        return "";
    }

    /** True while the plugin's bundle is ACTIVE (its current revision loads, serves or failed to load). */
    default boolean started() {
        return false;
    }

    /** The revision that is loading, ready or failed to load; only for {@link #started()} states. */
    default String revisionKey() {
        throw illegal("revisionKey");
    }

    // ---- transitions ---------------------------------------------------------------------------

    /** The bundle started (or the engine a failed load waited for came back): a new load attempt. Legal from every state. */
    default PluginState load(LoadAttempt attempt) {
        return new Loading(attempt);
    }

    /** The bundle stopped (or is being updated, or went): nothing of it loads any more. Legal from every state. */
    default PluginState stop() {
        return INACTIVE;
    }

    /** The bundle restarted unchanged and its retiring versions serve again. Only from Inactive. */
    default PluginState resume(String revisionKey) {
        throw illegal("resume");
    }

    /** {@code attempt} loaded the model and it serves. Only from Loading with that attempt. */
    default PluginState loaded(LoadAttempt attempt) {
        throw illegal("loaded");
    }

    /** {@code attempt} failed; {@code awaitingEngine} names the engine whose return retries it, or is null. */
    default PluginState loadFailed(LoadAttempt attempt, String error, String awaitingEngine) {
        throw illegal("loadFailed");
    }

    /** The engine running this plugin's READY model went away. Only from Ready, or Inactive (a retiring model). */
    default PluginState engineLost(String error, String engine) {
        throw illegal("engineLost");
    }

    /**
     * The license of this plugin's READY model no longer entitles it (expired, revoked, removed): as {@link #engineLost}
     * with no engine to wait for; a license that entitles it again loads it again (LicenseWatch).
     */
    default PluginState licenseLost(String error) {
        return engineLost(error, null);
    }

    /**
     * Placement evicted this plugin's READY model to make room for another (issue 12): it loads again on demand, when
     * a request for it arrives. Only from Ready.
     */
    default PluginState evicted(String reason) {
        throw illegal("evicted");
    }

    /**
     * The model's version policy does not select this plugin's READY model (issue 11): it unloads, and loads again
     * when the policy selects it. Only from Ready.
     */
    default PluginState notSelected(String reason) {
        throw illegal("notSelected");
    }

    /** The framework cannot resolve the bundle's revision. Only from states that are not {@link #started()}. */
    default PluginState unresolvable(String error) {
        if (started()) {
            throw illegal("unresolvable");      // a diagnosis that arrives after the bundle started is stale
        }
        return new Unresolvable(error);
    }

    /** The bundle's revision resolved: clears Unresolvable, leaves every other state as it is. */
    default PluginState resolved() {
        return this;
    }

    /** The state's name for logs: {@code Loading}, {@code Ready}, … */
    default String name() {
        return getClass().getSimpleName();
    }

    private IllegalStateException illegal(String transition) {
        return new IllegalStateException("illegal plugin state transition: " + transition + " from " + name());
    }

    // ---- states --------------------------------------------------------------------------------

    /** Known, not started (installed, resolved or stopped): nothing of it loads. UNLOADED. */
    record Inactive() implements PluginState {
        @Override
        public ModelState reported() {
            return ModelState.UNLOADED;
        }

        @Override
        public PluginState resume(String revisionKey) {
            return new Ready(revisionKey);
        }

        @Override
        public PluginState engineLost(String error, String engine) {
            return new RetiringFailed(error);
        }
    }

    /** Not started, and the framework cannot resolve it (asked once per revision). FAILED. */
    record Unresolvable(String error) implements PluginState {
        @Override
        public ModelState reported() {
            return ModelState.FAILED;
        }

        @Override
        public PluginState resolved() {
            return INACTIVE;
        }
    }

    /** Not started, and the model it kept serving after it stopped lost its engine. FAILED. */
    record RetiringFailed(String error) implements PluginState {
        @Override
        public ModelState reported() {
            return ModelState.FAILED;
        }
    }

    /** Started; {@code attempt} reads, registers and loads its model. LOADING. */
    record Loading(LoadAttempt attempt) implements PluginState {
        @Override
        public PluginState notSelected(String reason) {
            // issue 11: the version policy does not select its version; it is not loaded
            return new NotSelected(attempt.source().revisionKey(), reason);
        }

        @Override
        public ModelState reported() {
            return ModelState.LOADING;
        }

        @Override
        public boolean started() {
            return true;
        }

        @Override
        public String revisionKey() {
            return attempt.source().revisionKey();
        }

        @Override
        public PluginState loaded(LoadAttempt by) {
            return new Ready(ownAttempt(by, "loaded").revisionKey());
        }

        @Override
        public PluginState loadFailed(LoadAttempt by, String error, String awaitingEngine) {
            return new Failed(ownAttempt(by, "loadFailed").revisionKey(), error, awaitingEngine);
        }

        /**
         * {@code by} found no room: placement may evict nothing yet ({@code min.residency.ms}). Evicted: the next
         * request for the model loads it again.
         */
        public PluginState deferred(LoadAttempt by, String error) {
            return new Evicted(ownAttempt(by, "deferred").revisionKey(), error);
        }

        private Loading ownAttempt(LoadAttempt by, String transition) {
            if (by != attempt) {
                throw new IllegalStateException("illegal plugin state transition: " + transition + " from Loading by"
                        + " an attempt that is not the current one");
            }
            return this;
        }
    }

    /** Started; revision {@code revisionKey}'s model serves. READY. */
    record Ready(String revisionKey) implements PluginState {
        @Override
        public ModelState reported() {
            return ModelState.READY;
        }

        @Override
        public boolean started() {
            return true;
        }

        @Override
        public PluginState engineLost(String error, String engine) {
            return new Failed(revisionKey, error, engine);
        }

        @Override
        public PluginState evicted(String reason) {
            return new Evicted(revisionKey, reason);
        }

        @Override
        public PluginState notSelected(String reason) {
            return new NotSelected(revisionKey, reason);
        }
    }

    /**
     * Started; revision {@code revisionKey}'s model is unloaded because its version policy does not select it
     * ({@code error} says which policy); it loads again when the policy selects it. UNLOADED.
     */
    record NotSelected(String revisionKey, String error) implements PluginState {
        @Override
        public ModelState reported() {
            return ModelState.UNLOADED;
        }

        @Override
        public boolean started() {
            return true;
        }
    }

    /**
     * Started; revision {@code revisionKey}'s model was evicted by placement ({@code error} says why, e.g.
     * {@code evicted (memory budget)}) and loads again when a request for it arrives. UNLOADED.
     */
    record Evicted(String revisionKey, String error) implements PluginState {
        @Override
        public ModelState reported() {
            return ModelState.UNLOADED;
        }

        @Override
        public boolean started() {
            return true;
        }
    }

    /**
     * Started, and revision {@code revisionKey} was refused (descriptor, model file, signature, engine) or
     * its engine went away; {@code awaitingEngine} (or null) is the engine whose return loads it again. FAILED.
     */
    record Failed(String revisionKey, String error, String awaitingEngine) implements PluginState {
        @Override
        public ModelState reported() {
            return ModelState.FAILED;
        }

        @Override
        public boolean started() {
            return true;
        }
    }
}
