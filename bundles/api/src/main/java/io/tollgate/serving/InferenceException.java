package io.tollgate.serving;

/**
 * Why an inference was not served. The endpoint maps each {@link Reason} to one protocol status
 * in one place; the message is for the caller and says what was wrong and what to do.
 */
public class InferenceException extends Exception {
    private static final long serialVersionUID = 1L;

    /** Kinds of refusal and failure. */
    public enum Reason {
        /** The request is malformed or its tensors do not fit the model (HTTP 400). */
        BAD_REQUEST,
        /** No such model or version is installed (HTTP 404). */
        MODEL_NOT_FOUND,
        /** The model is installed but not ready: loading, failed or draining (HTTP 503). */
        MODEL_NOT_READY,
        /** Admission control refused the request: the model's queue is full (HTTP 503, retry later). */
        OVERLOADED,
        /** The usage record could not be written, so the request is not served (HTTP 503). */
        METERING_UNAVAILABLE,
        /** The license does not cover this use (HTTP 403). */
        NOT_LICENSED,
        /**
         * The prepaid quota of the license that covers the model is used up, or the request needs more than is left
         * (HTTP 402 Payment Required; the message names the license). Other models keep serving; a top-up license
         * lifts it without a restart.
         *
         * @since 1.2
         */
        PAYMENT_REQUIRED,
        /**
         * The request waited in the model's queue longer than its timeout ({@code parameters.timeout} in µs, or the
         * queue policy's default) and was rejected (HTTP 503, the message says how long it waited).
         *
         * @since 1.3
         */
        TIMEOUT,
        /**
         * The caller (API key or tenant) is over its request-rate or concurrency limit (HTTP 429 with
         * {@code Retry-After}).
         *
         * @since 1.3
         */
        RATE_LIMITED,
        /** The engine failed while running the model (HTTP 500). */
        ENGINE_FAILURE,
        /** The appliance is shutting down (HTTP 503). */
        SHUTTING_DOWN
    }

    private final Reason reason;

    public InferenceException(Reason reason, String message) {
        super(message);
        this.reason = reason;
    }

    public InferenceException(Reason reason, String message, Throwable cause) {
        super(message, cause);
        this.reason = reason;
    }

    public Reason reason() {
        return reason;
    }
}
