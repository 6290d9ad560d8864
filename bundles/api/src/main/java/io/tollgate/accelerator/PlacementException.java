package io.tollgate.accelerator;

/** A model instance cannot be placed; {@link #reason()} says which kind of problem. */
public class PlacementException extends Exception {
    private static final long serialVersionUID = 1L;

    /** Kinds of placement failure. */
    public enum Reason {
        /** No engine the plugin supports is available here (each engine's reason is in the message). */
        NO_ENGINE,
        /** The model is larger than the budget of every accelerator it could run on, even with nothing else loaded. */
        TOO_LARGE,
        /**
         * The budget is full and nothing can be evicted now (every resident model is pinned, e.g. loading or busy):
         * a transient condition, retry later.
         */
        BUDGET_FULL
    }

    private final Reason reason;
    private final long retryAfterMs;

    public PlacementException(Reason reason, String message) {
        this(reason, message, 0);
    }

    /**
     * @param retryAfterMs for {@code BUDGET_FULL}: milliseconds until an instance may be evicted to make room
     * @since 1.1
     */
    public PlacementException(Reason reason, String message, long retryAfterMs) {
        super(message);
        this.reason = reason;
        this.retryAfterMs = retryAfterMs;
    }

    /**
     * Milliseconds until placing may succeed ({@code BUDGET_FULL}: the earliest time a resident instance passes
     * {@code min.residency.ms}); 0 when unknown or not transient.
     *
     * @since 1.1
     */
    public long retryAfterMs() {
        return retryAfterMs;
    }

    public Reason reason() {
        return reason;
    }
}
