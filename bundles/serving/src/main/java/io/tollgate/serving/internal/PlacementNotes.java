package io.tollgate.serving.internal;

/** Words and units serving uses for placement that has no room yet (issue 12, {@code min.residency.ms}). */
final class PlacementNotes {
    /** The reason an unloaded model shows when its load found no room: the next request tries again. */
    static final String NO_ROOM = "not loaded: no room (the resident models are within min.residency.ms)";

    private PlacementNotes() {
    }

    /** {@code ms} as whole seconds for {@code Retry-After}, rounded up, at least 1. */
    static long seconds(long ms) {
        return Math.max(1, (ms + 999) / 1000);
    }
}
