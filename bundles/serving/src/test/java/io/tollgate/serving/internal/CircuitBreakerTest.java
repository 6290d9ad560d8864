package io.tollgate.serving.internal;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertTrue;

import java.util.concurrent.atomic.AtomicLong;
import org.junit.Test;

/** Closed → open after N consecutive failures → half-open (one trial) after open_ms → closed or open again. */
public class CircuitBreakerTest {
    private final AtomicLong now = new AtomicLong(1_000_000_000L);
    private final CircuitBreaker breaker = new CircuitBreaker("b", 3, 1000, now::get);

    @Test
    public void opensAfterConsecutiveFailuresOnly() {
        assertTrue(breaker.tryAcquire());
        breaker.failure("x");
        breaker.failure("x");
        breaker.success();   // a success in between resets the count
        breaker.failure("x");
        breaker.failure("x");
        assertEquals(CircuitBreaker.State.CLOSED, breaker.state());
        assertTrue(breaker.tryAcquire());
        breaker.failure("x");
        assertEquals(CircuitBreaker.State.OPEN, breaker.state());
        assertFalse("open: refused at once", breaker.tryAcquire());
        assertEquals(1000, breaker.retryInMs());
    }

    @Test
    public void halfOpenLetsOneTrialThroughThenClosesOrOpensAgain() {
        for (int i = 0; i < 3; i++) {
            breaker.failure("x");
        }
        now.addAndGet(999_000_000L);
        assertFalse(breaker.tryAcquire());
        now.addAndGet(1_000_000L);
        assertEquals(CircuitBreaker.State.HALF_OPEN, breaker.state());
        assertTrue("the trial", breaker.tryAcquire());
        assertFalse("only one trial at a time", breaker.tryAcquire());
        breaker.failure("still down");
        assertEquals(CircuitBreaker.State.OPEN, breaker.state());
        assertFalse(breaker.tryAcquire());
        now.addAndGet(1_000_000_000L);
        assertTrue(breaker.tryAcquire());
        breaker.success();
        assertEquals(CircuitBreaker.State.CLOSED, breaker.state());
        assertTrue(breaker.tryAcquire());
        assertTrue(breaker.tryAcquire());
    }
}
