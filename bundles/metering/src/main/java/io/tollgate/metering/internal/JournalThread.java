package io.tollgate.metering.internal;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.LockSupport;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One named daemon thread of the journal ({@code tollgate-usage-sealer}, {@code tollgate-usage-pretoucher}): runs
 * its loop until stopped, parks between turns, and can be woken early.
 *
 * <p>Threads: {@link #start}, {@link #wake} and {@link #stop} are called by other threads (the opener, appending
 * threads, the closer); {@link #stopping} and {@link #park} by the loop on its own thread.
 */
final class JournalThread {
    private static final Logger LOG = LoggerFactory.getLogger(JournalThread.class);
    private static final long STOP_TIMEOUT_MS = TimeUnit.SECONDS.toMillis(10);

    private final Thread thread;
    private volatile boolean stopping;
    /**
     * Set by {@link #wake}, taken by {@link #park}. The unpark permit alone is not enough: the loop's own thread may
     * consume it in between (parking to wait for the chain lock, inside Chronicle), and the wake-up would then be lost
     * until the park times out — a count-triggered seal waited for {@code seal.every.ms}.
     */
    private final AtomicBoolean woken = new AtomicBoolean();

    JournalThread(String name, Runnable loop) {
        this.thread = new Thread(() -> runUntilStopped(loop), name);
        thread.setDaemon(true);
    }

    /**
     * Runs the loop again if it ever ends by an exception or error before {@link #stop}: on a full disk the JVM raises
     * a SIGBUS on a mapped page as an asynchronous {@link InternalError} at the thread's next safepoint, which may be
     * outside the loop's own catch, and a dead sealer or disk thread would stop seals or the return of service.
     */
    private void runUntilStopped(Runnable loop) {
        while (!stopping) {
            try {
                loop.run();
            } catch (Throwable t) {
                LOG.error("{} failed; running it again", thread.getName(), t);
                LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(100));
            }
        }
    }

    void start() {
        thread.start();
    }

    /** Ends the current or next park at once. */
    void wake() {
        woken.set(true);
        LockSupport.unpark(thread);
    }

    /** True once {@link #stop} was called: the loop returns. */
    boolean stopping() {
        return stopping;
    }

    /** Parks the loop for up to {@code nanos}, or until woken or stopped. */
    void park(long nanos) {
        if (woken.getAndSet(false)) {
            return;   // woken since the last park: the loop looks again before sleeping
        }
        LockSupport.parkNanos(this, nanos);
    }

    /**
     * Asks the loop to return and waits up to 10 s for it (it finishes what it is doing); a loop still running then is
     * left behind (a daemon thread) with one ERROR line saying where it is, so that a stop stays bounded (three journal
     * threads stop one after the other, well within the appliance's 60 s stop).
     */
    void stop() {
        stopping = true;
        LockSupport.unpark(thread);
        try {
            thread.join(STOP_TIMEOUT_MS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (thread.isAlive()) {
            StringBuilder at = new StringBuilder();
            for (StackTraceElement e : thread.getStackTrace()) {
                at.append("\n\tat ").append(e);
            }
            LOG.error("{} did not stop within {} ms; going on without it{}", thread.getName(), STOP_TIMEOUT_MS, at);
        }
    }
}
