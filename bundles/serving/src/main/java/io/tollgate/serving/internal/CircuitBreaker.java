package io.tollgate.serving.internal;

import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The circuit breaker of one remote route: {@code CLOSED} (calls go through) → after {@code failureThreshold}
 * consecutive failures {@code OPEN} (calls are refused at once) → after {@code openMs} {@code HALF_OPEN} (one trial
 * call goes through; its success closes the circuit, its failure opens it again for another {@code openMs}).
 * Every transition is logged here, once. A hand-written one of ~80 lines rather than resilience4j: decision
 * 2026-12-01 "Hybrid overflow".
 *
 * <p>One per route name, shared by every model routed to it ({@link RouteTable}): the remote is down for all of them
 * (decision 2026-12-01 "Hybrid overflow defects").
 *
 * <p>Thread-safe (synchronized; a few field writes per remote call).
 */
final class CircuitBreaker {
    private static final Logger LOG = LoggerFactory.getLogger(CircuitBreaker.class);

    /** The breaker's states, as {@code /metrics} names them in lower case. */
    enum State { CLOSED, OPEN, HALF_OPEN }

    private final String route;
    private final int failureThreshold;
    private final long openNanos;
    private final LongSupplier nanoClock;
    private State state = State.CLOSED;
    private int failures;
    private long openedAt;
    private boolean trialInFlight;

    CircuitBreaker(String route, int failureThreshold, long openMs, LongSupplier nanoClock) {
        this.route = route;
        this.failureThreshold = failureThreshold;
        this.openNanos = openMs * 1_000_000L;
        this.nanoClock = nanoClock;
    }

    /** The route's name, as the breaker logs it. */
    String route() {
        return route;
    }

    /** Consecutive failures that open the circuit. */
    int failureThreshold() {
        return failureThreshold;
    }

    /** How long an open circuit refuses at once, in ms. */
    long openMs() {
        return openNanos / 1_000_000L;
    }

    /** True when a call may go to the remote now; a true in HALF_OPEN is the one trial call. */
    synchronized boolean tryAcquire() {
        switch (state) {
            case CLOSED:
                return true;
            case OPEN:
                if (nanoClock.getAsLong() - openedAt < openNanos) {
                    return false;
                }
                transition(State.HALF_OPEN, "open for " + openNanos / 1_000_000 + " ms: one trial request goes");
                trialInFlight = true;
                return true;
            default:
                if (trialInFlight) {
                    return false;
                }
                trialInFlight = true;
                return true;
        }
    }

    /** A call that {@link #tryAcquire} allowed succeeded (or failed by the client's fault: a 4xx). */
    synchronized void success() {
        failures = 0;
        trialInFlight = false;
        if (state != State.CLOSED) {
            transition(State.CLOSED, "the remote answered");
        }
    }

    /** A call that {@link #tryAcquire} allowed failed: 5xx, timeout, connection failure, an invalid answer. */
    synchronized void failure(String why) {
        trialInFlight = false;
        failures++;
        if (state == State.HALF_OPEN || state == State.CLOSED && failures >= failureThreshold) {
            openedAt = nanoClock.getAsLong();
            transition(State.OPEN, failures + " consecutive failure(s), the last: " + why + "; requests are refused"
                    + " at once for " + openNanos / 1_000_000 + " ms");
        }
    }

    synchronized State state() {
        if (state == State.OPEN && nanoClock.getAsLong() - openedAt >= openNanos) {
            return State.HALF_OPEN;   // what the next call will find
        }
        return state;
    }

    /** Milliseconds until an open circuit lets a trial call through (0 when not open). */
    synchronized long retryInMs() {
        return state != State.OPEN ? 0 : Math.max(0, (openNanos - (nanoClock.getAsLong() - openedAt)) / 1_000_000);
    }

    private void transition(State to, String why) {
        if (to == State.OPEN) {
            LOG.warn("route '{}': circuit breaker {} -> OPEN: {}", route, state, why);
        } else {
            LOG.info("route '{}': circuit breaker {} -> {}: {}", route, state, to, why);
        }
        state = to;
    }
}
