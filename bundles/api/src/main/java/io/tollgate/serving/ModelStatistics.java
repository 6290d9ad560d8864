package io.tollgate.serving;

import java.util.List;
import java.util.Objects;

/**
 * Statistics of one model version since it was loaded, in the shape of Triton's statistics extension
 * ({@code GET /v2/models/{m}[/versions/{v}]/stats},
 * https://github.com/triton-inference-server/server/blob/main/docs/protocol/extension_statistics.md). Durations are
 * cumulative nanoseconds.
 *
 * @param name               model name
 * @param version            model version
 * @param lastInference      when the last request finished, milliseconds since the epoch (0: none yet)
 * @param inferenceCount     requests served successfully (Triton counts batch elements; we count requests, and
 *                           {@code docs/api.md} says so)
 * @param executionCount     engine runs (one run serves a whole batch)
 * @param inferenceStats     per-request durations
 * @param batchStats         per batch size: engine runs and their durations
 * @since 1.3
 */
public record ModelStatistics(String name, String version, long lastInference, long inferenceCount,
                              long executionCount, InferStatistics inferenceStats, List<BatchStatistics> batchStats) {
    public ModelStatistics {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(version, "version");
        Objects.requireNonNull(inferenceStats, "inferenceStats");
        batchStats = List.copyOf(batchStats);
    }

    /** A count and the total time it took (Triton's {@code StatisticDuration}). */
    public record Duration(long count, long ns) {
        public static final Duration ZERO = new Duration(0, 0);
    }

    /**
     * Triton's {@code InferStatistics}.
     *
     * @param success       successful requests and their total time from arrival to answer
     * @param fail          failed requests (engine failure, timeout, metering) and their time
     * @param queue         time requests waited before their engine run started
     * @param computeInput  time preparing inputs (merging a batch, converting to engine tensors)
     * @param computeInfer  time in the engine run
     * @param computeOutput time splitting and converting outputs
     */
    public record InferStatistics(Duration success, Duration fail, Duration queue, Duration computeInput,
                                  Duration computeInfer, Duration computeOutput) {
    }

    /** Triton's {@code InferBatchStatistics}: engine runs of {@code batchSize}, with their durations. */
    public record BatchStatistics(int batchSize, Duration computeInput, Duration computeInfer,
                                  Duration computeOutput) {
    }
}
