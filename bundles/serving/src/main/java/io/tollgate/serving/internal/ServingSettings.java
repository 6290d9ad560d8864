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
 * @param maxModelBytes    the most bytes a plugin's model file may inflate to ({@code max.model.bytes})
 * @param loadTimeoutMs    how long one load of a plugin may take, reading to READY ({@code load.timeout.ms})
 *
 * <p>Public (the package stays private to the bundle) for the test-jar's {@code io.tollgate.serving.testing}.
 */
public record ServingSettings(int workerThreads, int maxQueuePerModel, long drainTimeoutMs, long upgradeGraceMs,
                              long engineWaitMs, long resolveSettleMs, long maxModelBytes, long loadTimeoutMs) {
    public static final long RESOLVE_SETTLE_MS = 1_000;
    /** The largest model file a Java array holds: the model is read into one. */
    public static final long MAX_MODEL_BYTES_LIMIT = Integer.MAX_VALUE - 8;

    public ServingSettings {
        check(workerThreads >= 1 && workerThreads <= 1024, "worker.threads", workerThreads,
                "0 (one per processor) or 1..1024");
        check(maxQueuePerModel >= 1, "max.queue.per.model", maxQueuePerModel, "at least 1");
        check(drainTimeoutMs >= 0, "drain.timeout.ms", drainTimeoutMs, "0 or more milliseconds");
        check(upgradeGraceMs >= 0, "upgrade.grace.ms", upgradeGraceMs, "0 or more milliseconds");
        check(engineWaitMs >= 0, "engine.wait.ms", engineWaitMs, "0 or more milliseconds");
        check(resolveSettleMs >= 0, "resolve settle time", resolveSettleMs, "0 or more milliseconds");
        check(maxModelBytes >= 1 && maxModelBytes <= MAX_MODEL_BYTES_LIMIT, "max.model.bytes", maxModelBytes,
                "1.." + MAX_MODEL_BYTES_LIMIT + " bytes (the model is read into memory)");
        check(loadTimeoutMs >= 1, "load.timeout.ms", loadTimeoutMs, "1 or more milliseconds");
    }

    /** With the default model size and load time limits ({@link ServingConfig}). */
    public ServingSettings(int workerThreads, int maxQueuePerModel, long drainTimeoutMs, long upgradeGraceMs,
                           long engineWaitMs, long resolveSettleMs) {
        this(workerThreads, maxQueuePerModel, drainTimeoutMs, upgradeGraceMs, engineWaitMs, resolveSettleMs,
                ServingConfig.DEFAULT_MAX_MODEL_BYTES, ServingConfig.DEFAULT_LOAD_TIMEOUT_MS);
    }

    static ServingSettings from(ServingConfig config) {
        int workers = config.worker_threads() == 0 ? Runtime.getRuntime().availableProcessors()
                : config.worker_threads();
        if (config.worker_threads() < 0) {
            workers = config.worker_threads();  // refused below with the configured value
        }
        return new ServingSettings(workers, config.max_queue_per_model(), config.drain_timeout_ms(),
                config.upgrade_grace_ms(), config.engine_wait_ms(), RESOLVE_SETTLE_MS, config.max_model_bytes(),
                config.load_timeout_ms());
    }

    private static void check(boolean ok, String key, long value, String expected) {
        if (!ok) {
            throw new IllegalArgumentException("configuration io.tollgate.serving: " + key + " is " + value
                    + "; expected " + expected);
        }
    }
}
