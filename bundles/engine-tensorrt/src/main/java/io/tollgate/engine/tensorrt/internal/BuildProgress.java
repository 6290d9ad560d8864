package io.tollgate.engine.tensorrt.internal;

import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Says that a TensorRT build is still running, every {@code everyMs} ms, in the log and as one line per model in
 * {@link TensorRtEngine#builds()} (a Jetson build runs for minutes and would otherwise look hung). The javacpp preset
 * does not let Java implement TensorRT's {@code IProgressMonitor} (no virtual callback), so this is a heartbeat with
 * the elapsed time, not TensorRT's phase list; TensorRT's own INFO lines go to the log at debug level.
 * Threads: one daemon scheduler thread per build, stopped by {@link #close()}.
 */
final class BuildProgress implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(BuildProgress.class);

    private final String origin;
    private final Map<String, String> status;
    private final long start = System.nanoTime();
    private final ScheduledExecutorService ticker;

    BuildProgress(String origin, String what, Map<String, String> status, long everyMs) {
        this.origin = origin;
        this.status = status;
        status.put(origin, "building TensorRT engine (" + what + ")");
        this.ticker = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "tensorrt-build-progress");
            t.setDaemon(true);
            return t;
        });
        ticker.scheduleAtFixedRate(() -> tick(what), everyMs, everyMs, TimeUnit.MILLISECONDS);
    }

    private void tick(String what) {
        long seconds = TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - start);
        String line = "building TensorRT engine (" + what + "): " + seconds + " s so far";
        status.put(origin, line);
        LOG.info("model {}: {}", origin, line);
    }

    @Override
    public void close() {
        ticker.shutdownNow();
        status.remove(origin);
    }
}
