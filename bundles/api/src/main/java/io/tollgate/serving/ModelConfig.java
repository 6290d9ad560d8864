package io.tollgate.serving;

import io.tollgate.model.TensorSpec;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * The effective configuration of one model version, in the terms of Triton's {@code model_config.proto}
 * (https://github.com/triton-inference-server/common/blob/main/protobuf/model_config.proto): what
 * {@code GET /v2/models/{m}[/versions/{v}]/config} returns, with the same field names in snake case.
 *
 * <p>Where the values come from, lowest first: built-in defaults, the plugin descriptor
 * ({@code TOLLGATE-INF/model.json}: {@code max_batch_size}, {@code dynamic_batching}, {@code instance_group}), then
 * the box owner's {@code conf/models/{model}.json} (a partial document of this same shape: only the fields it sets).
 * Differences from Triton are listed in {@code docs/api.md}.
 *
 * @param name                model name
 * @param platform            model format as Triton names it, e.g. {@code onnxruntime_onnx}
 * @param backend             Triton backend name, e.g. {@code onnxruntime}
 * @param maxBatchSize        largest batch (first dimension) one engine run may take; {@code 0} = the model has no
 *                            batch dimension and requests are never merged
 * @param input               inputs as the model declares them, the batch dimension excluded when
 *                            {@code maxBatchSize > 0} (Triton's {@code dims})
 * @param output              outputs, same convention
 * @param versionPolicy       which installed versions are served
 * @param defaultModelVersion version unversioned requests go to ({@code ""}: the newest the policy serves)
 * @param dynamicBatching     the dynamic batcher's settings, or {@code null} when requests run one by one
 * @param instanceGroup       how many concurrent engine runs (instances) of each version; never empty
 * @param parameters          free-form engine parameters (string values, as the descriptor's)
 * @param modelWarmup         runs made on each loaded version before it is READY (Triton's {@code model_warmup});
 *                            empty: none (@since 1.4)
 * @since 1.3
 */
public record ModelConfig(String name, String platform, String backend, int maxBatchSize, List<TensorSpec> input,
                          List<TensorSpec> output, VersionPolicy versionPolicy, String defaultModelVersion,
                          DynamicBatching dynamicBatching, List<InstanceGroup> instanceGroup,
                          Map<String, String> parameters, List<ModelWarmup> modelWarmup) {
    /** A configuration without warm-up (as before 1.4). */
    public ModelConfig(String name, String platform, String backend, int maxBatchSize, List<TensorSpec> input,
                       List<TensorSpec> output, VersionPolicy versionPolicy, String defaultModelVersion,
                       DynamicBatching dynamicBatching, List<InstanceGroup> instanceGroup,
                       Map<String, String> parameters) {
        this(name, platform, backend, maxBatchSize, input, output, versionPolicy, defaultModelVersion,
                dynamicBatching, instanceGroup, parameters, List.of());
    }

    public ModelConfig {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(platform, "platform");
        Objects.requireNonNull(backend, "backend");
        if (maxBatchSize < 0) {
            throw new IllegalArgumentException("max_batch_size must be 0 or more, not " + maxBatchSize);
        }
        input = List.copyOf(input);
        output = List.copyOf(output);
        Objects.requireNonNull(versionPolicy, "versionPolicy");
        defaultModelVersion = defaultModelVersion == null ? "" : defaultModelVersion;
        instanceGroup = List.copyOf(instanceGroup);
        if (instanceGroup.isEmpty()) {
            throw new IllegalArgumentException("instance_group must name at least one group");
        }
        parameters = Map.copyOf(parameters);
        modelWarmup = modelWarmup == null ? List.of() : List.copyOf(modelWarmup);
    }

    /** The dynamic batcher's settings, when requests are merged. */
    public Optional<DynamicBatching> batching() {
        return Optional.ofNullable(dynamicBatching);
    }

    /** Concurrent engine runs per version: the sum of the instance groups' counts. */
    public int instanceCount() {
        return instanceGroup.stream().mapToInt(InstanceGroup::count).sum();
    }

    /**
     * Triton's {@code ModelVersionPolicy}: {@code latest { num_versions }}, {@code all {}} or
     * {@code specific { versions }}. Versions are Tollgate's (semantic, e.g. {@code 1.2.0}), newest by version order.
     *
     * @param kind     which of the three
     * @param latestNumVersions for {@link Kind#LATEST}: how many of the newest versions are served (1 or more)
     * @param versions for {@link Kind#SPECIFIC}: the versions served
     */
    public record VersionPolicy(Kind kind, int latestNumVersions, List<String> versions) {
        /** Triton's default: the newest version only. */
        public static final VersionPolicy LATEST_ONE = new VersionPolicy(Kind.LATEST, 1, List.of());

        public enum Kind { LATEST, ALL, SPECIFIC }

        public VersionPolicy {
            Objects.requireNonNull(kind, "kind");
            versions = List.copyOf(versions);
            if (kind == Kind.LATEST && latestNumVersions < 1) {
                throw new IllegalArgumentException("version_policy.latest.num_versions must be 1 or more, not "
                        + latestNumVersions);
            }
            if (kind == Kind.SPECIFIC && versions.isEmpty()) {
                throw new IllegalArgumentException("version_policy.specific.versions must name at least one version");
            }
        }
    }

    /**
     * Triton's {@code ModelDynamicBatching}.
     *
     * @param preferredBatchSize         batch sizes the batcher tries to form, ascending (empty: as large as
     *                                   {@code maxBatchSize})
     * @param maxQueueDelayMicroseconds  longest a request waits for others to join its batch, in µs
     * @param priorityLevels             number of priority levels (0 = priorities not used); level 1 is the highest
     * @param defaultPriorityLevel       level of a request that names none (0 when {@code priorityLevels} is 0)
     * @param defaultQueuePolicy         queue policy of every level without its own
     * @param priorityQueuePolicy        per-level queue policies (key: level, 1-based)
     */
    public record DynamicBatching(List<Integer> preferredBatchSize, long maxQueueDelayMicroseconds,
                                  int priorityLevels, int defaultPriorityLevel, QueuePolicy defaultQueuePolicy,
                                  Map<Integer, QueuePolicy> priorityQueuePolicy) {
        public DynamicBatching {
            preferredBatchSize = List.copyOf(preferredBatchSize);
            if (maxQueueDelayMicroseconds < 0) {
                throw new IllegalArgumentException("max_queue_delay_microseconds must be 0 or more");
            }
            if (priorityLevels < 0 || defaultPriorityLevel < 0 || defaultPriorityLevel > priorityLevels) {
                throw new IllegalArgumentException("default_priority_level must be between 1 and priority_levels ("
                        + priorityLevels + "), not " + defaultPriorityLevel);
            }
            Objects.requireNonNull(defaultQueuePolicy, "defaultQueuePolicy");
            priorityQueuePolicy = Map.copyOf(priorityQueuePolicy);
        }

        /** The queue policy of priority {@code level}. */
        public QueuePolicy policy(int level) {
            return priorityQueuePolicy.getOrDefault(level, defaultQueuePolicy);
        }
    }

    /**
     * Triton's {@code ModelQueuePolicy}.
     *
     * @param timeoutAction             what happens to a request whose timeout passes while it is queued
     * @param defaultTimeoutMicroseconds queue timeout of a request that sets none, in µs (0 = none)
     * @param allowTimeoutOverride      whether a request's {@code timeout} parameter may set its own
     * @param maxQueueSize              most requests queued at this level (0 = bounded only by the serving layer's
     *                                  per-model limit); one more is refused at once
     */
    public record QueuePolicy(TimeoutAction timeoutAction, long defaultTimeoutMicroseconds,
                              boolean allowTimeoutOverride, int maxQueueSize) {
        /** Triton's default: reject on timeout, no timeout, overrides allowed, no size limit of its own. */
        public static final QueuePolicy DEFAULT = new QueuePolicy(TimeoutAction.REJECT, 0, true, 0);

        public enum TimeoutAction { REJECT, DELAY }

        public QueuePolicy {
            Objects.requireNonNull(timeoutAction, "timeoutAction");
            if (defaultTimeoutMicroseconds < 0 || maxQueueSize < 0) {
                throw new IllegalArgumentException("default_timeout_microseconds and max_queue_size must be 0 or more");
            }
        }
    }

    /**
     * Triton's {@code ModelInstanceGroup}.
     *
     * @param name  group name ({@code ""}: {@code <model>_<index>})
     * @param count instances (concurrent engine runs) in the group, 1 or more
     * @param kind  where they run
     */
    public record InstanceGroup(String name, int count, Kind kind) {
        public enum Kind { KIND_AUTO, KIND_CPU, KIND_GPU }

        public InstanceGroup {
            name = name == null ? "" : name;
            Objects.requireNonNull(kind, "kind");
            if (count < 1) {
                throw new IllegalArgumentException("instance_group.count must be 1 or more, not " + count);
            }
        }
    }

    /**
     * Triton's {@code ModelWarmup}: {@code count} engine runs of a synthetic request of {@code batchSize} made on each
     * loaded version before it is READY, so that the first requests after READY do not pay the engine's (and the
     * JIT's) first-run costs. Every model input is filled: with zeros, or with random values when {@code randomData}
     * (Triton's {@code zero_data} / {@code random_data}); shapes are the model's, each variable dimension 1 and the
     * batch dimension {@code batchSize}. Warm-up runs are not metered and not counted in the statistics; a warm-up that
     * fails fails the load (as in Triton).
     *
     * @param name       sample name (Triton's {@code name}), for the log
     * @param batchSize  batch of each run, 1 or more (1 for a model without a batch dimension)
     * @param randomData random values instead of zeros
     * @param count      runs, 1 or more
     * @since 1.4
     */
    public record ModelWarmup(String name, int batchSize, boolean randomData, int count) {
        public ModelWarmup {
            name = name == null ? "" : name;
            if (batchSize < 1 || count < 1) {
                throw new IllegalArgumentException("model_warmup batch_size and count must be 1 or more, not "
                        + batchSize + " and " + count);
            }
        }
    }
}
