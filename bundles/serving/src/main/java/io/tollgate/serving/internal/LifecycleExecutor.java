package io.tollgate.serving.internal;

import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * How the model lifecycle hands work to its threads: everything that touches plugin bookkeeping runs
 * on the one lifecycle thread (tasks and timers), reading plugins and engine loads on the loaders.
 * A task refused because serving is shutting down is dropped; a lifecycle task or timer that throws
 * is logged, never lost silently, and never kills the thread.
 *
 * <p>Threads: {@code tollgate-model-lifecycle-1} (the {@code lifecycle} executor, one thread) and
 * {@code tollgate-model-loader-N} (the {@code loaders}); {@link ServingService} creates and shuts down
 * both. This class only submits to them, from any thread.
 */
final class LifecycleExecutor {
    private static final Logger LOG = LoggerFactory.getLogger(LifecycleExecutor.class);

    private final ScheduledExecutorService lifecycle;
    private final Executor loaders;

    LifecycleExecutor(ScheduledExecutorService lifecycle, Executor loaders) {
        this.lifecycle = lifecycle;
        this.loaders = loaders;
    }

    /** The lifecycle thread's executor, for timeouts that must complete on it (engine waits). */
    ScheduledExecutorService scheduler() {
        return lifecycle;
    }

    /** Runs {@code task} on the lifecycle thread; false when serving is shutting down (the task is dropped). */
    boolean onLifecycle(Runnable task) {
        try {
            lifecycle.execute(() -> {
                try {
                    task.run();
                } catch (Throwable e) {
                    LOG.error("model lifecycle task failed", e);
                }
            });
            return true;
        } catch (RejectedExecutionException e) {
            return false;
        }
    }

    /** Runs {@code task} on a loader thread; false when serving is shutting down (the task is dropped). */
    boolean onLoader(Runnable task) {
        try {
            loaders.execute(task);
            return true;
        } catch (RejectedExecutionException e) {
            return false;
        }
    }

    /** Runs {@code task} on the lifecycle thread after {@code delayMs}; null when serving is shutting down. */
    ScheduledFuture<?> schedule(Runnable task, long delayMs) {
        try {
            return lifecycle.schedule(() -> {
                try {
                    task.run();
                } catch (Throwable e) {
                    LOG.error("model lifecycle timer failed", e);
                }
            }, delayMs, TimeUnit.MILLISECONDS);
        } catch (RejectedExecutionException e) {
            return null;
        }
    }

    static void cancel(ScheduledFuture<?> timer) {
        if (timer != null) {
            timer.cancel(false);
        }
    }
}
