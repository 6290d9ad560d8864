package io.tollgate.serving.internal;

import io.tollgate.licensing.Entitlement;
import io.tollgate.licensing.Entitlements;
import io.tollgate.serving.InferenceException;
import io.tollgate.serving.ModelState;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Unloads model versions whose license stops entitling them and loads them again when one does: a sweep over the
 * repository on the {@code tollgate-model-lifecycle} thread, run when the licensing state changes (the
 * {@link Entitlements} listener), when a version becomes READY, and at the next instant a granted license expires (so a
 * license's expiry mid-traffic unloads its model within milliseconds, not at the next request). Requests themselves
 * are refused by {@link LicenseGate} from the expiry on, whether or not the sweep ran yet.
 *
 * <p>A version that lost its license drains: in-flight requests finish, new ones get 403 with the reason, then its
 * model closes ({@link ModelLoader#licenseLost}). While such a version exists the sweep also runs every
 * {@value #RECHECK_MS} ms, so that a license that becomes valid by time alone (its not-before passes) loads it again.
 */
final class LicenseWatch {
    private static final Logger LOG = LoggerFactory.getLogger(LicenseWatch.class);
    static final long RECHECK_MS = 10_000;

    private final LicenseGate gate;
    private final ModelRepository repository;
    private final ModelLoader loader;
    private final ScheduledExecutorService lifecycle;
    /** The next timed sweep; touched on the lifecycle thread only. */
    private ScheduledFuture<?> next;
    private long nextAt = Long.MAX_VALUE;

    LicenseWatch(LicenseGate gate, ModelRepository repository, ModelLoader loader, ScheduledExecutorService lifecycle) {
        this.gate = gate;
        this.repository = repository;
        this.loader = loader;
        this.lifecycle = lifecycle;
    }

    /** The listener given to {@link Entitlements#addListener}: cached entitlements are stale, sweep now. */
    void licensingChanged() {
        gate.changed();
        loader.licensingChanged();
        sweepSoon();
    }

    void sweepSoon() {
        try {
            lifecycle.execute(this::sweep);
        } catch (RejectedExecutionException e) {
            // serving is stopping
        }
    }

    /** On the lifecycle thread. Never throws. */
    private void sweep() {
        try {
            long now = System.currentTimeMillis();
            long wakeAt = Long.MAX_VALUE;
            Entitlements e = gate.entitlements();
            if (e == null) {
                return;
            }
            for (ModelVersion v : repository.all()) {
                if (v.state() == ModelState.READY) {
                    Entitlement ent = gate.entitlement(v, now);
                    if (!ent.entitled()) {
                        loader.licenseLost(v, ent.reason());
                    } else {
                        LicenseGate.Cached c = v.licenseCache();
                        if (c != null && c.until() != Long.MAX_VALUE) {
                            wakeAt = Math.min(wakeAt, c.until());
                        }
                    }
                } else if (v.state() == ModelState.FAILED && v.unlicensed()) {
                    if (e.check(v.name(), v.licensedVersion(), now).entitled()) {
                        loader.relicensed(v.plugin().bundleId());
                    } else {
                        wakeAt = Math.min(wakeAt, now + RECHECK_MS);
                    }
                }
            }
            schedule(wakeAt);
        } catch (InferenceException | RuntimeException ex) {
            LOG.warn("checking the models' licenses failed; checking again in {} ms", RECHECK_MS, ex);
            schedule(System.currentTimeMillis() + RECHECK_MS);
        }
    }

    private void schedule(long at) {
        if (at == nextAt && next != null && !next.isDone()) {
            return;
        }
        if (next != null) {
            next.cancel(false);
            next = null;
        }
        nextAt = at;
        if (at == Long.MAX_VALUE) {
            return;
        }
        long delay = Math.max(1, at - System.currentTimeMillis() + 1);
        try {
            next = lifecycle.schedule(this::sweep, delay, TimeUnit.MILLISECONDS);
        } catch (RejectedExecutionException e) {
            // serving is stopping
        }
    }
}
