package io.tollgate.metering;

/**
 * A usage record could not be written or read; {@link #reason()} says why. Serving answers a request
 * whose record could not be written with an error instead of serving it unmetered.
 */
public class MeteringException extends Exception {
    private static final long serialVersionUID = 1L;

    /** Kinds of metering failure. */
    public enum Reason {
        /** The journal has reached its disk budget; appends work again once space is released. */
        DISK_BUDGET_EXCEEDED,
        /**
         * The file system under the journal has less free space than the journal's reserve; appends work again
         * once space is freed (checked every 250 ms).
         *
         * @since 1.1
         */
        DISK_FULL,
        /** Reading or writing the journal failed. */
        IO_FAILURE,
        /** The journal is closed (the appliance is shutting down or metering was reconfigured). */
        CLOSED,
        /**
         * The quantity served under a license on this device cannot be established (records were deleted that no
         * license totals checkpoint covers, or the checkpoint does not verify); the message says why and what to do.
         *
         * @since 1.2
         */
        COUNT_UNKNOWN
    }

    private final Reason reason;

    public MeteringException(Reason reason, String message) {
        super(message);
        this.reason = reason;
    }

    public MeteringException(Reason reason, String message, Throwable cause) {
        super(message, cause);
        this.reason = reason;
    }

    public Reason reason() {
        return reason;
    }
}
