package io.tollgate.runtime;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.IntConsumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Bounds the whole start, whatever blocks it. {@code --start-timeout} is checked by the thread that starts the
 * appliance, between steps; a step that never returns — a component's activation blocked reading a FIFO or a hung
 * network file system, both on that thread because Felix SCR activates components on the thread that starts their
 * bundle — would leave a process that never binds its port, never says why and never exits. This watchdog, a daemon
 * thread armed before the start and disarmed when it returns or fails, logs one ERROR naming where the start thread is
 * blocked (its innermost Tollgate frames) and exits with {@link StartFailure#START_TIMEOUT} (13), as a start that timed
 * out the ordinary way does, so a supervisor (systemd) restarts it or shows the reason.
 *
 * <p>Exit runs the shutdown hooks; if they have not finished {@link #HALT_AFTER_MS} later (a hook blocked on the same
 * cause), the JVM is halted.
 */
final class StartWatchdog implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(StartWatchdog.class);
    /** How long after the exit the JVM is halted if it is still alive. */
    static final long HALT_AFTER_MS = 10_000;
    /** Over {@code --start-timeout}: what the steps before the component wait may take before the watchdog fires. */
    static final long GRACE_MS = 30_000;

    private final CountDownLatch done = new CountDownLatch(1);

    private StartWatchdog() {
    }

    /**
     * Arms a watchdog over {@code starter}: unless {@link #close()} is called within {@code timeoutMs}, it logs why and
     * calls {@code exit} with {@link StartFailure#START_TIMEOUT}.
     *
     * @param startTimeoutMs the run's --start-timeout, for the message
     */
    static StartWatchdog arm(Thread starter, long timeoutMs, long startTimeoutMs, IntConsumer exit) {
        StartWatchdog w = new StartWatchdog();
        Thread t = new Thread(() -> {
            try {
                if (w.done.await(timeoutMs, TimeUnit.MILLISECONDS)) {
                    return;
                }
            } catch (InterruptedException e) {
                return;
            }
            LOG.error(message(starter, timeoutMs, startTimeoutMs));
            exit.accept(StartFailure.START_TIMEOUT);
        }, "tollgate-start-watchdog");
        t.setDaemon(true);
        t.start();
        return w;
    }

    /** The JVM's exit with a halt behind it, for {@link #arm}. */
    static void exitJvm(int status) {
        Thread halt = new Thread(() -> {
            try {
                Thread.sleep(HALT_AFTER_MS);
            } catch (InterruptedException e) {
                return;
            }
            Runtime.getRuntime().halt(status);
        }, "tollgate-start-watchdog-halt");
        halt.setDaemon(true);
        halt.start();
        System.exit(status);
    }

    static String message(Thread starter, long timeoutMs, long startTimeoutMs) {
        StackTraceElement[] stack = starter.getStackTrace();
        List<String> ours = new ArrayList<>();
        for (StackTraceElement e : stack) {
            if (e.getClassName().startsWith("io.tollgate.") && ours.size() < 4) {
                ours.add(e.getClassName() + "." + e.getMethodName() + "(" + e.getFileName() + ":" + e.getLineNumber()
                        + ")");
            }
        }
        String innermost = stack.length == 0 ? "(no stack: the thread ended)"
                : stack[0].getClassName() + "." + stack[0].getMethodName();
        return "not started within " + timeoutMs + " ms (--start-timeout " + startTimeoutMs + " ms + "
                + (timeoutMs - startTimeoutMs) + " ms for the steps before it): the start is blocked in " + innermost
                + (ours.isEmpty() ? "" : ", called from " + String.join(" <- ", ours)) + " (thread state "
                + starter.getState() + "). Tollgate is not running; a file or folder it reads at start that never "
                + "answers (a FIFO, a device, a hung network mount) is the usual cause: check the files named in "
                + "conf/ and the log above";
    }

    /** The start returned or failed: the watchdog stands down. */
    @Override
    public void close() {
        done.countDown();
    }
}
