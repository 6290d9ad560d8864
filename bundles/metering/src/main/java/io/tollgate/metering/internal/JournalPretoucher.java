package io.tollgate.metering.internal;

import java.io.IOException;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import net.openhft.chronicle.bytes.BytesStore;
import net.openhft.chronicle.core.io.ReferenceOwner;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps the pages the next records go to mapped and writable, so that appends (under the chain lock, on request
 * threads) do not take the page faults: the first write to a fresh page of the memory-mapped file, and the
 * write-protect fault on the current page after an fsync wrote it back, cost 5-200 us each (the file system may wait
 * for its journal commit). Chronicle's own pretoucher is an Enterprise feature ({@code ExcerptAppender.pretouch()}
 * is a no-op in the open-source queue), so this does what its {@code MicroToucher} does: an atomic compare-and-swap
 * of 0 with 0 on each page, which changes no byte (a record written concurrently is never overwritten: the swap only
 * stores when it reads 0, atomically) but makes the CPU take the write fault here. It touches the same mapping the
 * appender writes through (the chunk the last record went into, reserved so that it cannot be unmapped meanwhile),
 * never past the end of that chunk.
 *
 * <p>Threads: owns the daemon thread {@code tollgate-usage-pretoucher}; runs every 10 ms and when the sealer wakes
 * it after an fsync. It takes the chain lock only to reserve the chunk; the touching happens outside it.
 */
final class JournalPretoucher {
    private static final Logger LOG = LoggerFactory.getLogger(JournalPretoucher.class);
    /** How often the pretoucher maps in the pages ahead of the write position. */
    static final long INTERVAL_NANOS = TimeUnit.MILLISECONDS.toNanos(10);
    /** How far ahead of the write position pages are touched (at ~2 MB/s of records, ~0.5 s of headroom). */
    static final long AHEAD_BYTES = 1 << 20;
    private static final long PAGE = 4096;

    private final ChainWriter chain;
    /** False while the disk is too full to back new pages: touching one would be a SIGBUS. */
    private final BooleanSupplier roomToTouch;
    private final JournalThread thread;
    /** Pages touched so far (written by the pretoucher thread only; for tests). */
    private volatile long touchedPages;
    /** Turns that ended in an {@link InternalError}, i.e. a SIGBUS on a mapped page (for tests: must stay 0). */
    private volatile long mappedFaults;

    JournalPretoucher(ChainWriter chain, BooleanSupplier roomToTouch) {
        this.chain = chain;
        this.roomToTouch = roomToTouch;
        this.thread = new JournalThread("tollgate-usage-pretoucher", this::pretouchLoop);
    }

    void start() {
        thread.start();
    }

    /** Touch now (the page being written to was just written back by an fsync). */
    void wake() {
        thread.wake();
    }

    void stop() {
        thread.stop();
    }

    long touchedPages() {
        return touchedPages;
    }

    long mappedFaults() {
        return mappedFaults;
    }

    private void pretouchLoop() {
        ReferenceOwner owner = ReferenceOwner.temporary("tollgate-usage-pretoucher");
        long[] end = new long[2];
        long lastWarned = 0;
        while (!thread.stopping()) {
            try {
                BytesStore<?, ?> store = null;
                if (roomToTouch.getAsBoolean()) {
                    // the file system backs the pages first (touching a hole of a full disk would be a SIGBUS)
                    while (chain.backAhead() && !thread.stopping()) {
                        Thread.onSpinWait();   // the chain lock is free between steps: appends go first
                    }
                    store = chain.reserveTail(owner, end);
                }
                if (store != null) {
                    try {
                        touchedPages += touchAhead(store, end[0], end[1]);
                    } finally {
                        store.release(owner);
                    }
                }
            } catch (IOException | RuntimeException | InternalError e) {
                if (e instanceof InternalError) {
                    mappedFaults++;
                }
                // IOException: no room to back the next pages (appends then refuse, saying so). InternalError would
                // be a SIGBUS on a page the file system could not back, which the backing is there to prevent.
                if (System.nanoTime() - lastWarned > TimeUnit.MINUTES.toNanos(1)) {
                    lastWarned = System.nanoTime();
                    LOG.warn("Reserving or pretouching the usage journal's next pages failed (appends may be slower, "
                            + "or refused while the disk is full; nothing is lost): {}", e.toString());
                }
            }
            thread.park(INTERVAL_NANOS);
        }
    }

    /**
     * Touches the page holding {@code end} and the pages after it, inside {@code store} and below {@code backed} (the
     * pages the file system backs, {@link JournalBacking}); returns how many.
     */
    static int touchAhead(BytesStore<?, ?> store, long end, long backed) {
        int touched = 0;
        long first = end & -PAGE;
        for (long page = first; page < Math.min(end + AHEAD_BYTES, backed); page += PAGE) {
            if (!store.inside(page, 8)) {
                if (page > end) {
                    break;
                }
                continue;
            }
            store.compareAndSwapLong(page, 0L, 0L);
            touched++;
        }
        return touched;
    }
}
