package io.tollgate.endpoint.internal;

import io.netty.channel.Channel;
import io.netty.util.AttributeKey;
import java.util.ArrayDeque;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The bytes of request bodies the endpoint holds at once, across all connections ({@code max.inflight.body.bytes}).
 * A body is counted from its first byte until its request is answered (decoded tensors may share its array until
 * then); a body that would take the total over the budget is refused with 503 + {@code Retry-After} instead of
 * being buffered, so 100 clients each sending a body just under {@code max.body.bytes} cannot exhaust the heap.
 * Thread-safe: reservations come from every event loop. Each connection keeps its reservations in request order
 * (a pipelined request may be aggregated while the one before it is answered).
 */
final class BodyBudget {
    private static final AttributeKey<ArrayDeque<long[]>> HELD = AttributeKey.valueOf("tollgate.body.held");

    private final long max;
    private final AtomicLong held = new AtomicLong();

    /** @param max bytes; at least 1 */
    BodyBudget(long max) {
        this.max = max;
    }

    long max() {
        return max;
    }

    long held() {
        return held.get();
    }

    /**
     * Adds {@code bytes} to the current (last started) request of {@code ch}; false, with nothing added, when that
     * would exceed the budget.
     */
    boolean reserve(Channel ch, long bytes, boolean newRequest) {
        long now;
        do {
            now = held.get();
            if (now + bytes > max) {
                return false;
            }
        } while (!held.compareAndSet(now, now + bytes));
        ArrayDeque<long[]> q = queue(ch);
        if (newRequest || q.isEmpty()) {
            q.addLast(new long[] {bytes});
        } else {
            q.peekLast()[0] += bytes;
        }
        return true;
    }

    /** Starts a request with nothing reserved yet (a chunked body reserves as it arrives). */
    void begin(Channel ch) {
        queue(ch).addLast(new long[] {0});
    }

    /** The oldest request of {@code ch} was answered: its bytes are free. */
    void answered(Channel ch) {
        long[] first = queue(ch).pollFirst();
        if (first != null) {
            held.addAndGet(-first[0]);
        }
    }

    /** The connection closed: whatever it still held is free. */
    void closed(Channel ch) {
        ArrayDeque<long[]> q = ch.attr(HELD).getAndSet(null);
        if (q != null) {
            for (long[] r : q) {
                held.addAndGet(-r[0]);
            }
        }
    }

    private static ArrayDeque<long[]> queue(Channel ch) {
        ArrayDeque<long[]> q = ch.attr(HELD).get();
        if (q == null) {
            q = new ArrayDeque<>();
            ch.attr(HELD).set(q);
        }
        return q;
    }
}
