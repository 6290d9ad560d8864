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
        /**
         * The model's remote route (hybrid overflow, {@code conf/models/{m}.json} {@code route}) cannot be used now:
         * its circuit breaker is open after consecutive failures (HTTP 503; the message names the route).
         *
         * @since 1.4
         */
        REMOTE_UNAVAILABLE,
        /**
         * The remote server of the model's route failed: a 5xx answer, a refused connection, a redirect, an answer
         * that is not a valid inference response or larger than allowed (HTTP 502; the message names the route).
         *
         * @since 1.4
         */
        REMOTE_FAILED,
        /**
         * The remote server of the model's route did not answer within the route's {@code timeout_ms} (HTTP 504).
         *
         * @since 1.4
         */
        REMOTE_TIMEOUT,
        /**
         * The remote server refused the request with a 4xx (a client mistake it saw, e.g. a bad tensor): answered
         * with the same status, the remote's message prefixed by the route's name ({@link RemoteRouteException}).
         * A 429 (the remote is rate-limiting this box) is answered 429 with {@code Retry-After}: the remote's, in
         * seconds from 1 to 60 ({@link #retryAfterSeconds()}, since 1.7).
         *
         * @since 1.4
         */
        REMOTE_REJECTED,
        /** The engine failed while running the model (HTTP 500). */
        ENGINE_FAILURE,
        /** The appliance is shutting down (HTTP 503). */
        SHUTTING_DOWN,
        /**
         * The request came back to a box it already passed through by the boxes' routes (a route loop: a box routing
         * to itself, two boxes overflowing into each other), or passed through too many: HTTP 508 (RFC 5842).
         *
         * @since 1.8
         */
        LOOP_DETECTED
    }

    private final Reason reason;
    private final long retryAfterSeconds;

    public InferenceException(Reason reason, String message) {
        this(reason, message, 0L);
    }

    /**
     * @param retryAfterSeconds for a transient refusal ({@code OVERLOADED}, a remote's 429): seconds the caller should wait before
     *                          retrying (HTTP {@code Retry-After}); 0 = not known
     * @since 1.5
     */
    public InferenceException(Reason reason, String message, long retryAfterSeconds) {
        super(message);
        this.reason = reason;
        this.retryAfterSeconds = retryAfterSeconds;
    }

    public InferenceException(Reason reason, String message, Throwable cause) {
        super(message, cause);
        this.reason = reason;
        this.retryAfterSeconds = 0;
    }

    /**
     * Seconds until a retry may succeed (HTTP {@code Retry-After}), 0 when not known.
     *
     * @since 1.5
     */
    public long retryAfterSeconds() {
        return retryAfterSeconds;
    }

    public Reason reason() {
        return reason;
    }
}
