package io.tollgate.serving.internal;

import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;

/**
 * Configuration of {@link ServingService}, PID {@code io.tollgate.serving} (optional). Property keys
 * follow the DS name mapping: {@code worker_threads()} is the key {@code worker.threads}.
 */
@ObjectClassDefinition(name = "Tollgate serving",
        description = "Runs inferences on the models of the installed plugins; loads, upgrades and unloads them")
public @interface ServingConfig {
    /** 1 GiB: models on the appliance are tens of megabytes; a zip bomb stops here. */
    long DEFAULT_MAX_MODEL_BYTES = 1L << 30;
    /** 5 minutes: the largest model here loads in seconds. */
    long DEFAULT_LOAD_TIMEOUT_MS = 300_000;

    @AttributeDefinition(name = "Worker threads",
            description = "Threads that run inferences; 0 = one per available processor")
    int worker_threads() default 0;

    @AttributeDefinition(name = "Queue per model",
            description = "Requests a model version holds (queued or running) before it refuses more with OVERLOADED")
    int max_queue_per_model() default 256;

    @AttributeDefinition(name = "Drain timeout (ms)",
            description = "How long an unloading model waits for its requests in flight before it is closed anyway")
    long drain_timeout_ms() default 30_000;

    @AttributeDefinition(name = "Upgrade grace (ms)",
            description = "How long a stopped plugin's model keeps serving while a new revision of the plugin loads")
    long upgrade_grace_ms() default 10_000;

    @AttributeDefinition(name = "Engine wait (ms)",
            description = "How long a plugin waits for the inference engine it names before it is refused")
    long engine_wait_ms() default 30_000;

    @AttributeDefinition(name = "Largest model (bytes)",
            description = "The most bytes a plugin's model file may inflate to; a larger one (a zip bomb) is refused")
    long max_model_bytes() default DEFAULT_MAX_MODEL_BYTES;

    @AttributeDefinition(name = "Load time limit (ms)",
            description = "How long one load of a plugin may take, from reading it to READY; a slower one is FAILED")
    long load_timeout_ms() default DEFAULT_LOAD_TIMEOUT_MS;

    @AttributeDefinition(name = "Model configuration overrides",
            description = "Folder of the box owner's model configuration overrides, {model}.json in the JSON shape of"
                    + " GET /v2/models/{m}/config (only the fields they set); applied without a restart. Empty = none"
                    + " (the distribution sets ${tollgate.conf}/models)")
    String models_config_dir() default "";

    @AttributeDefinition(name = "Repository state",
            description = "Folder where the models unloaded through POST /v2/repository/models/{m}/unload are kept,"
                    + " so that they stay unloaded after a restart. Empty = not kept (the distribution sets"
                    + " ${tollgate.data}/repository)")
    String repository_state_dir() default "";
}
