package io.tollgate.serving.internal;

import java.util.Collection;
import java.util.HashSet;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Whether serving is ready ({@code GET /v2/health/ready}): the tracker is open and every plugin
 * present when it opened has been processed — loaded, refused or diagnosed.
 *
 * <p>Threads: changed on the {@code tollgate-model-lifecycle} thread only; {@link #ready()} is read
 * from any thread.
 */
final class StartupReadiness {
    private static final Logger LOG = LoggerFactory.getLogger(StartupReadiness.class);

    private final Set<Long> awaited = new HashSet<>();
    private boolean opened;
    private volatile boolean ready;
    /** What {@link #waitingFor()} answers: the awaited ids, copied at every change (null: the tracker is not open). */
    private volatile Set<Long> waiting;

    /** The tracker opened; {@code unprocessed} are the plugins still to load or be diagnosed. */
    void opened(Collection<Long> unprocessed) {
        opened = true;
        awaited.clear();
        awaited.addAll(unprocessed);
        update();
    }

    /** The tracker closed: not ready until it opens again. */
    void closed() {
        opened = false;
        update();
    }

    /** The plugin was processed (loaded, refused, diagnosed, stopped or uninstalled). */
    void settled(long bundleId) {
        if (awaited.remove(bundleId)) {
            update();
        }
    }

    boolean ready() {
        return ready;
    }

    /** The plugins still awaited, or null while the tracker is not open; any thread, never blocks. */
    Set<Long> waitingFor() {
        return waiting;
    }

    private void update() {
        boolean now = opened && awaited.isEmpty();
        waiting = opened ? Set.copyOf(awaited) : null;
        if (now && !ready) {
            LOG.info("every model plugin present at start-up has been processed");
        }
        ready = now;
    }
}
