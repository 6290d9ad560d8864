package io.tollgate.serving.internal;

import io.tollgate.serving.ModelStatistics;
import io.tollgate.serving.ModelStatistics.BatchStatistics;
import io.tollgate.serving.ModelStatistics.Duration;
import io.tollgate.serving.ModelStatistics.InferStatistics;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;

/**
 * The counters behind {@link ModelStatistics} for one model version. Written on the hot path by the workers that
 * run batches (LongAdders: no shared cache line per request), read by whoever asks for a snapshot; a snapshot is not
 * atomic across counters (Triton's is not either).
 *
 * <p>As Triton counts them: {@code queue} and the three {@code compute_*} durations are per request (every request
 * of a batch adds the batch's compute time), counted for served requests; the batch statistics count engine runs
 * once each, by the batch's total rows.
 */
final class VersionStatistics {
    private final Counter success = new Counter();
    private final Counter fail = new Counter();
    private final Counter queue = new Counter();
    private final Counter computeInput = new Counter();
    private final Counter computeInfer = new Counter();
    private final Counter computeOutput = new Counter();
    private final LongAdder executions = new LongAdder();
    private final AtomicLong lastInference = new AtomicLong();
    private final Map<Integer, BatchCounters> batches = new ConcurrentHashMap<>();

    /** One engine run of {@code rows} rows, with its three phases in ns. */
    void execution(int rows, long inputNs, long inferNs, long outputNs) {
        executions.increment();
        BatchCounters b = batches.computeIfAbsent(rows, r -> new BatchCounters());
        b.input.add(inputNs);
        b.infer.add(inferNs);
        b.output.add(outputNs);
    }

    /** A request answered successfully: its total time, queue wait and its batch's compute phases, in ns. */
    void success(long totalNs, long queueNs, long inputNs, long inferNs, long outputNs) {
        success.add(totalNs);
        queue.add(queueNs);
        computeInput.add(inputNs);
        computeInfer.add(inferNs);
        computeOutput.add(outputNs);
        lastInference.accumulateAndGet(System.currentTimeMillis(), Math::max);
    }

    /** A request that was admitted to the queue and failed (timeout, engine failure, metering...). */
    void failure(long totalNs) {
        fail.add(totalNs);
    }

    ModelStatistics snapshot(String name, String version) {
        List<BatchStatistics> perBatch = new ArrayList<>();
        batches.forEach((rows, b) -> perBatch.add(new BatchStatistics(rows, b.input.duration(), b.infer.duration(),
                b.output.duration())));
        perBatch.sort((a, b) -> Integer.compare(a.batchSize(), b.batchSize()));
        InferStatistics infer = new InferStatistics(success.duration(), fail.duration(), queue.duration(),
                computeInput.duration(), computeInfer.duration(), computeOutput.duration());
        return new ModelStatistics(name, version, lastInference.get(), success.count.sum(), executions.sum(), infer,
                perBatch);
    }

    private static final class Counter {
        final LongAdder count = new LongAdder();
        final LongAdder ns = new LongAdder();

        void add(long nanos) {
            count.increment();
            ns.add(Math.max(0, nanos));
        }

        Duration duration() {
            return new Duration(count.sum(), ns.sum());
        }
    }

    private static final class BatchCounters {
        final Counter input = new Counter();
        final Counter infer = new Counter();
        final Counter output = new Counter();
    }
}
