package io.tollgate.serving.internal;

import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ScheduledFuture;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Finds out why a plugin bundle stays INSTALLED: once it has stayed so for the settle time, asks the
 * framework's resolver ({@link PluginSource#resolveProblem}) — once per revision, so refreshes cause
 * no retry storm — and hands the answer to its {@link Owner}.
 *
 * <p>Threads: bookkeeping and timers on the {@code tollgate-model-lifecycle} thread (not
 * thread-safe); the resolve attempt, which may take the resolver a while, on a
 * {@code tollgate-model-loader} thread; the answer goes back to the lifecycle thread.
 */
final class ResolveDiagnosis {
    private static final Logger LOG = LoggerFactory.getLogger(ResolveDiagnosis.class);

    /** Where answers go; called on the lifecycle thread. */
    interface Owner {
        /** True while {@code source} is still the plugin's latest snapshot and the plugin is not started. */
        boolean awaitsDiagnosis(PluginSource source);

        /** The resolver's answer for {@code source}: why it cannot be resolved, or empty when it now is. */
        void diagnosed(PluginSource source, Optional<String> problem);
    }

    private final LifecycleExecutor threads;
    private final long settleMs;
    private final Owner owner;
    private final Map<Long, ScheduledFuture<?>> timers = new HashMap<>();
    private final Map<Long, String> diagnosedRevisions = new HashMap<>();

    ResolveDiagnosis(LifecycleExecutor threads, long settleMs, Owner owner) {
        this.threads = threads;
        this.settleMs = settleMs;
        this.owner = owner;
    }

    /** The revision is INSTALLED: diagnose it after the settle time, unless it already was. */
    void installed(PluginSource source) {
        long bundleId = source.bundleId();
        if (source.revisionKey().equals(diagnosedRevisions.get(bundleId))) {
            return;     // one resolve attempt per revision: no retry storm
        }
        cancel(bundleId);
        timers.put(bundleId, threads.schedule(() -> diagnose(source), settleMs));
    }

    /** The plugin started: no diagnosis is due. */
    void cancel(long bundleId) {
        LifecycleExecutor.cancel(timers.remove(bundleId));
    }

    /** The plugin was uninstalled. */
    void forget(long bundleId) {
        cancel(bundleId);
        diagnosedRevisions.remove(bundleId);
    }

    void cancelAll() {
        timers.values().forEach(LifecycleExecutor::cancel);
        timers.clear();
    }

    private void diagnose(PluginSource source) {
        timers.remove(source.bundleId());
        if (!owner.awaitsDiagnosis(source)) {
            return;
        }
        diagnosedRevisions.put(source.bundleId(), source.revisionKey());
        boolean queued = threads.onLoader(() -> {
            Optional<String> problem;
            try {
                problem = source.resolveProblem();
            } catch (RuntimeException e) {
                problem = Optional.of("resolving it failed: " + e);
            }
            Optional<String> found = problem;
            threads.onLifecycle(() -> {
                if (owner.awaitsDiagnosis(source)) {
                    owner.diagnosed(source, found);
                }
            });
        });
        if (!queued) {
            LOG.debug("{}: not diagnosed, serving is shutting down", source.label());
        }
    }
}
