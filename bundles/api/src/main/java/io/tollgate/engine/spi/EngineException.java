package io.tollgate.engine.spi;

/** A failure inside an inference engine; {@link #reason()} says which kind. */
public class EngineException extends Exception {
    private static final long serialVersionUID = 1L;

    /** Kinds of engine failure. */
    public enum Reason {
        /** The model file cannot be parsed by the engine. */
        CORRUPT_MODEL,
        /** The model uses an operator, data type or feature this engine (or its accelerator) lacks. */
        UNSUPPORTED,
        /** The engine or its accelerator is not available on this device. */
        UNAVAILABLE,
        /** A run failed (bad input that passed validation, out of memory, engine error). */
        RUN_FAILED,
        /**
         * The request's input cannot be handed to this engine as sent (e.g. a BYTES element ONNX Runtime's Java API
         * would alter): the client's mistake, answered 400 and never counted as an engine failure (since 1.2).
         */
        INVALID_INPUT
    }

    private final Reason reason;

    public EngineException(Reason reason, String message) {
        super(message);
        this.reason = reason;
    }

    public EngineException(Reason reason, String message, Throwable cause) {
        super(message, cause);
        this.reason = reason;
    }

    public Reason reason() {
        return reason;
    }
}
