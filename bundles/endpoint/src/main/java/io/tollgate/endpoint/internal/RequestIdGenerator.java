package io.tollgate.endpoint.internal;

import java.security.SecureRandom;
import java.util.UUID;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;

/**
 * Makes the id of a request that came without one (decision 2026-11-30 in docs/decisions.md): a UUID version 7
 * (RFC 9562) in its 36-character lowercase text form, e.g. {@code 019ad4c2-8f3e-7a01-9c4b-5e6f7a8b9c0d}.
 *
 * <pre>
 *  48 bits  Unix time in milliseconds
 *   4 bits  version 7
 *  12 bits  counter within the millisecond (RFC 9562 section 6.2, method 1)
 *   2 bits  variant 10
 *  62 bits  random
 * </pre>
 *
 * <p>Within one generator the (millisecond, counter) pair strictly increases, so ids are unique and their text
 * sorts in the order they were made, even when the wall clock steps back (the pair then keeps counting from where
 * it was) or more than 4096 ids fall into one millisecond (the counter carries into the millisecond field). Across
 * restarts and boxes the time and the 62 random bits keep them apart: there is no counter that starts again at 1.
 * The random bits are {@link ThreadLocalRandom} output mixed with a per-generator seed from {@link SecureRandom}, so
 * making an id neither locks nor blocks: it runs on the event loops, one per request.
 */
final class RequestIdGenerator {
    private static final int COUNTER_BITS = 12;

    private final LongSupplier clockMillis;
    private final long seed = new SecureRandom().nextLong();
    /** (millisecond << 12) | counter of the last id made. */
    private final AtomicLong last = new AtomicLong();

    RequestIdGenerator() {
        this(System::currentTimeMillis);
    }

    /** @param clockMillis the wall clock, in milliseconds since 1970 (tests stop it or step it back) */
    RequestIdGenerator(LongSupplier clockMillis) {
        this.clockMillis = clockMillis;
    }

    /** A new id; thread-safe. */
    String next() {
        long now = clockMillis.getAsLong() << COUNTER_BITS;
        long stamp = last.accumulateAndGet(now, (previous, clock) -> Math.max(previous + 1, clock));
        long millis = stamp >>> COUNTER_BITS;
        long counter = stamp & ((1L << COUNTER_BITS) - 1);
        long high = millis << 16 | 0x7000L | counter;
        long low = (ThreadLocalRandom.current().nextLong() ^ seed) >>> 2 | 0x8000_0000_0000_0000L;
        return new UUID(high, low).toString();
    }
}
