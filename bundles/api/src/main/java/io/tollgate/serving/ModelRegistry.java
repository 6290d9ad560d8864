package io.tollgate.serving;

import java.util.List;
import java.util.Optional;
import org.osgi.annotation.versioning.ProviderType;

/** What models and plugins the serving layer holds, and their states. */
@ProviderType
public interface ModelRegistry {
    /** Every model version known, including failed and draining ones. */
    List<ModelStatus> models();

    /**
     * The version of {@code name} a request would go to: {@code version} when given, else the
     * serving version.
     */
    Optional<ModelStatus> model(String name, String version);

    /** Plugins seen, with the reason for each refusal. */
    List<PluginStatus> plugins();

    /**
     * True once every plugin present at start-up has been processed (loaded or refused), so the
     * appliance can report itself ready.
     */
    boolean ready();

    /**
     * The effective configuration of a model version ({@link ModelConfig}): {@code version} when given, else the
     * version unversioned requests go to. Empty when no such model version is known.
     *
     * @since 1.3
     */
    default Optional<ModelConfig> config(String name, String version) {
        return Optional.empty();
    }

    /**
     * The box owner's model configuration files that are refused, by model name: why (the file, the field and the
     * reason). The configuration in force before stays while a file is refused.
     *
     * @since 1.3
     */
    default java.util.Map<String, String> configErrors() {
        return java.util.Map.of();
    }

    /**
     * Statistics of the model versions known ({@link ModelStatistics}): all when {@code name} is null, else that
     * model's versions, or only {@code version} when given.
     *
     * @since 1.3
     */
    default List<ModelStatistics> statistics(String name, String version) {
        return List.of();
    }

    /**
     * The remote routes configured (hybrid overflow, {@code route} in {@code conf/models/{m}.json}) with their
     * counters and circuit breaker states.
     *
     * @since 1.4
     */
    default List<RouteStatus> routes() {
        return List.of();
    }

    /**
     * Why model {@code name} is installed but has no available versions, for a model {@link #model} does not find:
     * an operator unloaded it ({@code POST /v2/repository/models/{m}/unload}); the message says so and how to load
     * it again; or placement evicted it to make room for other models (the message says the next infer request loads
     * it again; since 1.5). Empty for a model that is not installed at all, or whose versions {@link #model} finds.
     *
     * @since 1.4
     */
    default Optional<String> unavailable(String name) {
        return Optional.empty();
    }

    /**
     * For a model that exists here only as a remote route (hybrid overflow) and whose remote metadata this box does
     * not have: why, as the failure the endpoint answers for {@code GET /v2/models/{m}} instead of empty metadata
     * ({@link InferenceException.Reason#REMOTE_FAILED} 502 naming the route and what was wrong with the remote's
     * answer; {@link InferenceException.Reason#REMOTE_UNAVAILABLE} 503 while the first fetch is on its way). Empty for every other model, and once valid metadata is cached.
     *
     * @since 1.6
     */
    default Optional<InferenceException> metadataFailure(String name) {
        return Optional.empty();
    }
}
