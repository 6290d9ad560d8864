package io.tollgate.serving.internal;

/**
 * The checked values of {@link ServingConfig}; refuses nonsense at activation so the component
 * never runs half-configured.
 *
 * @param workerThreads    threads running inferences (resolved: never 0)
 * @param maxQueuePerModel requests a model version holds (queued or running) before OVERLOADED
 * @param drainTimeoutMs   how long a draining version waits for requests in flight
 * @param upgradeGraceMs   how long a stopped plugin's models keep serving, awaiting a new revision
 * @param engineWaitMs     how long a plugin waits for its engine
 * @param resolveSettleMs  how long a plugin must stay INSTALLED before the extender asks why
 *
 * <p>Public (the package stays private to the bundle) for the test-jar's {@code io.tollgate.serving.testing}.
 */
public record ServingSettings(int workerThreads, int maxQueuePerModel, long drainTimeoutMs, long upgradeGraceMs,
                              long engineWaitMs, long resolveSettleMs) {
    public static final long RESOLVE_SETTLE_MS = 1_000;

    public ServingSettings {
        check(workerThreads >= 1 && workerThreads <= 1024, "worker.threads", workerThreads,
                "0 (one per processor) or 1..1024");
        check(maxQueuePerModel >= 1, "max.queue.per.model", maxQueuePerModel, "at least 1");
        check(drainTimeoutMs >= 0, "drain.timeout.ms", drainTimeoutMs, "0 or more milliseconds");
        check(upgradeGraceMs >= 0, "upgrade.grace.ms", upgradeGraceMs, "0 or more milliseconds");
        check(engineWaitMs >= 0, "engine.wait.ms", engineWaitMs, "0 or more milliseconds");
        check(resolveSettleMs >= 0, "resolve settle time", resolveSettleMs, "0 or more milliseconds");
    }

    static ServingSettings from(ServingConfig config) {
        int workers = config.worker_threads() == 0 ? Runtime.getRuntime().availableProcessors()
                : config.worker_threads();
        if (config.worker_threads() < 0) {
            workers = config.worker_threads();  // refused below with the configured value
        }
        return new ServingSettings(workers, config.max_queue_per_model(), config.drain_timeout_ms(),
                config.upgrade_grace_ms(), config.engine_wait_ms(), RESOLVE_SETTLE_MS);
    }

    private static void check(boolean ok, String key, long value, String expected) {
        if (!ok) {
            throw new IllegalArgumentException("configuration io.tollgate.serving: " + key + " is " + value
                    + "; expected " + expected);
        }
    }
}
