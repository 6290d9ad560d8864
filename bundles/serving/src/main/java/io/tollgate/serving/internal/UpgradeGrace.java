package io.tollgate.serving.internal;

import io.tollgate.serving.ModelState;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ScheduledFuture;
import java.util.function.LongFunction;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps a stopped plugin's READY versions serving ("retiring") through an upgrade's gap
 * (docs/decisions.md, 2026-11-23 "Hot upgrade keeps the old model serving through Bundle.update"):
 * for up to {@code upgradeGraceMs} after the stop; for as long as a new revision is still loading;
 * until the plugin is uninstalled or a later revision loads when the new revision failed. A new
 * revision that becomes READY replaces them ({@link ModelRepository#ready} drains them). With no new
 * revision on the way when the grace passes, they drain.
 *
 * <p>Threads: the {@code tollgate-model-lifecycle} thread only (calls and timers); not thread-safe.
 */
final class UpgradeGrace {
    private static final Logger LOG = LoggerFactory.getLogger(UpgradeGrace.class);

    private final ModelRepository repository;
    private final LifecycleExecutor threads;
    private final long graceMs;
    private final LongFunction<PluginRecord> plugins;
    private final Map<Long, ScheduledFuture<?>> timers = new HashMap<>();
    /** Per stopped plugin, its versions that were loading or failed: listed through the grace, then forgotten. */
    private final Map<Long, List<ModelVersion>> leftOver = new HashMap<>();
    /** Runs after retiring versions drained: the version policy may now select versions it did not (issue 11). */
    private final Runnable drained;

    UpgradeGrace(ModelRepository repository, LifecycleExecutor threads, long graceMs,
                 LongFunction<PluginRecord> plugins) {
        this(repository, threads, graceMs, plugins, () -> { });
    }

    UpgradeGrace(ModelRepository repository, LifecycleExecutor threads, long graceMs,
                 LongFunction<PluginRecord> plugins, Runnable drained) {
        this.repository = repository;
        this.threads = threads;
        this.graceMs = graceMs;
        this.plugins = plugins;
        this.drained = drained;
    }

    /** The plugin stopped: its READY versions retire and serve through the grace (or drain now without one). */
    void stopped(PluginRecord r) {
        stopped(r, List.of());
    }

    /**
     * As {@link #stopped(PluginRecord)}; {@code listed} (its versions still loading, or failed) stay listed through the
     * grace, so that a restart in between never leaves the model absent (issue 11), and are forgotten when it passes
     * with the plugin still stopped (at once without a grace). The plugin's next load replaces them before that.
     */
    void stopped(PluginRecord r, List<ModelVersion> listed) {
        long bundleId = r.bundleId();
        List<ModelVersion> retired = repository.retire(bundleId);
        cancel(bundleId);
        if (graceMs <= 0) {
            listed.forEach(repository::remove);
            if (!retired.isEmpty()) {
                drain(bundleId, "its plugin stopped");
            }
            return;
        }
        if (retired.isEmpty() && listed.isEmpty()) {
            return;
        }
        if (!listed.isEmpty()) {
            leftOver.put(bundleId, List.copyOf(listed));
        }
        if (!retired.isEmpty()) {
            LOG.info("{} stopped; {} keeps serving for up to {} ms in case a new revision replaces it",
                    r.source().label(), labels(retired), graceMs);
        }
        timers.put(bundleId, threads.schedule(() -> expired(bundleId), graceMs));
    }

    /** The plugin's new revision failed: its retiring versions serve on, with no time limit. */
    void keepServing(PluginRecord r) {
        List<ModelVersion> retiring = repository.retiring(r.bundleId());
        if (!retiring.isEmpty()) {
            cancel(r.bundleId());
            LOG.warn("{}: its new revision failed, so {} keeps serving until the plugin is uninstalled or a later"
                    + " revision loads", r.source().label(), labels(retiring));
        }
    }

    /**
     * The plugin is no longer entitled (its license went, issue 10): its retiring versions drain and unload now
     * (requests in flight finish), whatever the grace.
     */
    void withdrawn(PluginRecord r, String why) {
        cancel(r.bundleId());
        drain(r.bundleId(), why);
    }

    /** Nothing left to wait for (a revision is READY, or the plugin went): stops the plugin's grace timer. */
    void cancel(long bundleId) {
        LifecycleExecutor.cancel(timers.remove(bundleId));
        leftOver.remove(bundleId);
    }

    void cancelAll() {
        timers.values().forEach(LifecycleExecutor::cancel);
        timers.clear();
        leftOver.clear();
    }

    private void expired(long bundleId) {
        timers.remove(bundleId);
        List<ModelVersion> listed = leftOver.remove(bundleId);
        PluginRecord r = plugins.apply(bundleId);
        if (listed != null && (r == null || !r.state().started())) {
            // still stopped: what it left listed (a load it cancelled, a failure) goes; a new load replaced it else
            java.util.Set<ModelVersion> held = new java.util.HashSet<>(repository.all());
            boolean removed = false;
            for (ModelVersion v : listed) {
                if (held.contains(v) && (v.state() == ModelState.LOADING || v.state() == ModelState.FAILED)) {
                    LOG.info("{} from {}: forgotten, its plugin stayed stopped for the upgrade grace ({} ms)",
                            v.label(), v.plugin().label(), graceMs);
                    repository.remove(v);
                    removed = true;
                }
            }
            if (removed) {
                drained.run();      // a version it was loading no longer counts for the version policy
            }
        }
        if (r != null) {
            if (r.state() instanceof PluginState.Loading) {
                LOG.info("{}: the upgrade grace passed while its new revision loads; the old model serves until"
                        + " that load ends", r.source().label());
                return;
            }
            if (r.state().reported() == ModelState.FAILED) {
                keepServing(r);
                return;
            }
        }
        drain(bundleId, "no new revision of its plugin became ready within " + graceMs + " ms");
    }

    private void drain(long bundleId, String why) {
        List<ModelVersion> retiring = repository.retiring(bundleId);
        for (ModelVersion v : retiring) {
            LOG.info("{} from {}: draining and unloading, {}", v.label(), v.plugin().label(), why);
            repository.drain(v);
        }
        if (!retiring.isEmpty()) {
            drained.run();
        }
    }

    private static String labels(List<ModelVersion> versions) {
        return versions.stream().map(ModelVersion::label).collect(Collectors.joining(", "));
    }
}
