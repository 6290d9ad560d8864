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

    public PlacementException(Reason reason, String message) {
        super(message);
        this.reason = reason;
    }

    public Reason reason() {
        return reason;
    }
}
