package io.tollgate.pipeline;

/** A pipeline could not serve a request, or could not open; {@link #reason()} says whose fault it is. */
public class PipelineException extends Exception {
    private static final long serialVersionUID = 1L;

    /** Whose fault. */
    public enum Reason {
        /** The client's input cannot be served (not an image, empty text, wrong sample rate): 400, nothing billed. */
        INVALID_INPUT,
        /** The pipeline or one of its stages failed: 500, counted as a failure of the model. */
        FAILED
    }

    private final Reason reason;

    public PipelineException(Reason reason, String message) {
        super(message);
        this.reason = java.util.Objects.requireNonNull(reason, "reason");
    }

    public PipelineException(Reason reason, String message, Throwable cause) {
        super(message, cause);
        this.reason = java.util.Objects.requireNonNull(reason, "reason");
    }

    /** The client's mistake, answered 400 with {@code message}. */
    public static PipelineException invalidInput(String message) {
        return new PipelineException(Reason.INVALID_INPUT, message);
    }

    public Reason reason() {
        return reason;
    }
}
