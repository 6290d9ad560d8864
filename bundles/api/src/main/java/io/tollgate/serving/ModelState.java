package io.tollgate.serving;

/** Lifecycle of one model version. */
public enum ModelState {
    /** The plugin is being validated and its model loaded. */
    LOADING,
    /** Serving requests. */
    READY,
    /** A newer version took over, or the plugin is going away: finishing requests in flight. */
    DRAINING,
    /** Unloaded; its engine memory is released. */
    UNLOADED,
    /**
     * Does not serve: its plugin was refused or its model did not load, its engine or license went away, or an operator
     * unloaded it; {@link ModelStatus#error()} says which.
     */
    FAILED
}
