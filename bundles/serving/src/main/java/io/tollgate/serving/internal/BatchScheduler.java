package io.tollgate.serving.internal;

import io.tollgate.engine.spi.EngineException;
import io.tollgate.engine.spi.LoadedModel;
import io.tollgate.model.Tensor;
import io.tollgate.serving.InferenceException;
import io.tollgate.serving.InferenceException.Reason;
import io.tollgate.serving.ModelConfig;
import io.tollgate.serving.ModelConfig.DynamicBatching;
import io.tollgate.serving.ModelConfig.QueuePolicy;
import java.math.BigInteger;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The scheduler of one model version (issue 11, "Scheduling"): queues its requests by priority level, merges them into
 * batches when the version's {@link ModelConfig} has {@code dynamic_batching} (and {@code max_batch_size > 0}), and
 * keeps at most {@code instance_group} count engine runs of the version going at once.
 *
 * <p>Threads: it owns none. {@link #submit} runs on the caller's thread (a Netty event loop: no blocking, a short
 * lock); a batch runs on a serving worker ({@code tollgate-infer-N}), handed one only when an instance is free and the
 * batch is ready, so a worker never waits on this queue and one model's queue never holds the pool; the
 * {@code timer} (one thread shared by all versions) only wakes the queue when a batch's delay ends and rejects
 * requests whose queue timeout passed. Each queued request is answered exactly once through its {@link Outcome}.
 *
 * <p>Forming a batch (Triton's dynamic batcher, as docs/scheduling.md describes): the head is the oldest request of the
 * highest non-empty priority level; requests that can merge with it (same inputs and requested outputs, same
 * dimensions after the first) join in priority then arrival order while the rows fit {@code max_batch_size}. The batch
 * leaves at once, with the largest preferred batch size its rows reach, when they reach one (as Triton: "if a batch of
 * one of these sizes can be formed it will be executed immediately"), or with all its rows when they reach
 * {@code max_batch_size} or the next request does not fit; otherwise when its oldest request has waited
 * {@code max_queue_delay_microseconds}, with all its rows. Requests that cannot merge wait for a batch of their own.
 */
final class BatchScheduler {
    private static final Logger LOG = LoggerFactory.getLogger(BatchScheduler.class);

    /** A queued request's answer. Exactly one method is called, once, on a worker or the timer thread. */
    interface Outcome {
        /**
         * The engine ran the request: its rows of each output. Meters and answers the request.
         *
         * @param computeNanos the request's share of the engine run (the run's time × its rows ÷ the batch's rows)
         * @return true when the request was answered successfully (counted as a success), false when it failed after
         * all (e.g. its usage record could not be written)
         */
        boolean served(List<Tensor> outputs, long computeNanos);

        /** The request was not run, or its run failed. */
        void failed(InferenceException e);
    }

    private final String label;
    private final DynamicBatching batching;   // null: one request per engine run
    private final int maxBatch;
    private final int largestPreferred;
    private final long delayNanos;
    private final Supplier<LoadedModel> model;
    private final Executor workers;
    private final ScheduledExecutorService timer;
    private final VersionStatistics statistics;

    private final Object lock = new Object();
    private final ArrayDeque<Queued>[] levels;   // index 0 is priority level 1, the highest
    private int free;
    private boolean closed;
    private ScheduledFuture<?> wake;
    private long wakeAt;

    /**
     * @param label      the version's label for messages ({@code model 'x' 1.0.0})
     * @param config     the version's effective configuration
     * @param model      the loaded model, or null once it is unloaded
     * @param workers    where batches run
     * @param timer      one thread for delays and queue timeouts (tasks only take the lock and hand off)
     * @param statistics where runs and requests are counted
     */
    @SuppressWarnings("unchecked")
    BatchScheduler(String label, ModelConfig config, Supplier<LoadedModel> model, Executor workers,
                   ScheduledExecutorService timer, VersionStatistics statistics) {
        this.label = label;
        this.batching = config.maxBatchSize() > 0 ? config.dynamicBatching() : null;
        this.maxBatch = config.maxBatchSize();
        int largest = batching == null ? maxBatch : batching.preferredBatchSize().stream()
                .filter(x -> x > 0 && x <= maxBatch).max(Integer::compare).orElse(maxBatch);
        this.largestPreferred = largest;
        this.delayNanos = batching == null ? 0 : TimeUnit.MICROSECONDS.toNanos(batching.maxQueueDelayMicroseconds());
        this.model = model;
        this.workers = workers;
        this.timer = timer;
        this.statistics = statistics;
        int count = batching == null ? 1 : Math.max(1, batching.priorityLevels());
        this.levels = new ArrayDeque[count];
        for (int i = 0; i < count; i++) {
            levels[i] = new ArrayDeque<>();
        }
        this.free = config.instanceCount();
    }

    /** True when requests are merged into batches. */
    boolean batching() {
        return batching != null;
    }

    /**
     * Queues a request (already validated and licensed) and starts what can start. On the caller's thread.
     *
     * @param id         the request id, for messages
     * @param inputs     its inputs in model order
     * @param outputs    its requested outputs (empty: all)
     * @param rows       its batch rows (1 when the model does not batch)
     * @param parameters its protocol parameters ({@code priority}, {@code timeout} in µs)
     * @throws InferenceException BAD_REQUEST for an invalid priority or timeout, OVERLOADED when its priority level's
     *                            queue is full, MODEL_NOT_READY when the version stopped serving; the outcome is then
     *                            never called
     */
    void submit(String id, List<Tensor> inputs, Set<String> outputs, long rows, Map<String, Object> parameters,
                Outcome outcome) throws InferenceException {
        submit(id, inputs, outputs, rows, parameters, outcome, null);
    }

    /**
     * Queues a request to a capability plugin's pipeline (issue 13): as {@link #submit(String, List, Set, long, Map,
     * Outcome)}, and it runs alone through {@link PipelineModel#serve} with {@code pipelineRequest} (a pipeline
     * batches its own stages; its version never has {@code dynamic_batching}).
     *
     * @param pipelineRequest the request as the pipeline sees it, or null for a plain model
     */
    void submit(String id, List<Tensor> inputs, Set<String> outputs, long rows, Map<String, Object> parameters,
                Outcome outcome, io.tollgate.pipeline.PipelineRequest pipelineRequest) throws InferenceException {
        int level = level(parameters);
        QueuePolicy policy = batching == null ? null
                : batching.priorityLevels() == 0 ? batching.defaultQueuePolicy() : batching.policy(level + 1);
        long timeoutMicros = timeoutMicros(parameters, policy);
        long now = System.nanoTime();
        Queued q = new Queued(id, inputs, outputs, rows, level, now, outcome);
        q.pipeline = pipelineRequest;
        synchronized (lock) {
            if (closed) {
                throw new InferenceException(Reason.MODEL_NOT_READY, label + " stopped serving; retry");
            }
            ArrayDeque<Queued> queue = levels[level];
            if (policy != null && policy.maxQueueSize() > 0 && queue.size() >= policy.maxQueueSize()) {
                throw new InferenceException(Reason.OVERLOADED, label + ": the queue of priority level " + (level + 1)
                        + " is full (max_queue_size " + policy.maxQueueSize() + "); retry later");
            }
            queue.addLast(q);
            if (timeoutMicros > 0 && policy.timeoutAction() == QueuePolicy.TimeoutAction.REJECT) {
                try {
                    q.timeout = timer.schedule(() -> expire(q, timeoutMicros), timeoutMicros, TimeUnit.MICROSECONDS);
                } catch (RejectedExecutionException e) {
                    queue.removeLastOccurrence(q);
                    throw new InferenceException(Reason.SHUTTING_DOWN, "serving is shutting down; retry when the"
                            + " appliance is back");
                }
            }
        }
        pump();
    }

    /**
     * Fails every queued request and refuses new ones: the version's model closed, or serving stops.
     *
     * @param why the failure queued requests get; null: MODEL_NOT_READY (the version stopped serving)
     */
    void close(InferenceException why) {
        List<Queued> dropped = new ArrayList<>();
        synchronized (lock) {
            closed = true;
            for (ArrayDeque<Queued> queue : levels) {
                dropped.addAll(queue);
                queue.clear();
            }
            if (wake != null) {
                wake.cancel(false);
                wake = null;
            }
        }
        for (Queued q : dropped) {
            fail(q, why != null ? why : new InferenceException(Reason.MODEL_NOT_READY, label + " stopped serving"
                    + " before request " + q.id + " ran; retry"));
        }
    }

    /** Requests waiting in the queue (not yet running). */
    int queued() {
        synchronized (lock) {
            int n = 0;
            for (ArrayDeque<Queued> queue : levels) {
                n += queue.size();
            }
            return n;
        }
    }

    // ---- parameters (as Triton reads them) ------------------------------------------------------

    /** The request's queue index (0 = priority level 1). */
    private int level(Map<String, Object> parameters) throws InferenceException {
        int levelsConfigured = batching == null ? 0 : batching.priorityLevels();
        Object value = parameters.get("priority");
        String rule = levelsConfigured == 0
                ? "parameters.priority must be a whole number, 0 or more (" + label + " has no priority levels, so it"
                + " is ignored)"
                : "parameters.priority must be a whole number from 0 to " + levelsConfigured + " (1 is the highest, 0"
                + " or absent means the default level " + defaultLevel() + ")";
        long priority = value == null ? 0 : wholeNumber(value, "parameters.priority", rule);
        if (levelsConfigured == 0) {
            return 0;
        }
        if (priority > levelsConfigured) {
            throw new InferenceException(Reason.BAD_REQUEST, "parameters.priority is " + priority + "; " + rule);
        }
        return (int) (priority == 0 ? defaultLevel() : priority) - 1;
    }

    private int defaultLevel() {
        // Triton requires default_priority_level within 1..priority_levels; a config that leaves it 0 gets the lowest
        return batching.defaultPriorityLevel() > 0 ? batching.defaultPriorityLevel() : batching.priorityLevels();
    }

    /** The request's queue timeout in µs (0: none): its own when the policy allows it, never above the default. */
    private static long timeoutMicros(Map<String, Object> parameters, QueuePolicy policy) throws InferenceException {
        Object value = parameters.get("timeout");
        long requested = value == null ? 0 : wholeNumber(value, "parameters.timeout",
                "parameters.timeout must be a whole number of microseconds, 0 or more (0 or absent: the queue"
                        + " policy's default_timeout_microseconds)");
        if (policy == null) {
            return 0;
        }
        long fallback = policy.defaultTimeoutMicroseconds();
        if (requested == 0 || !policy.allowTimeoutOverride()) {
            return fallback;
        }
        return fallback == 0 ? requested : Math.min(requested, fallback);
    }

    private static long wholeNumber(Object value, String name, String rule) throws InferenceException {
        long n;
        if (value instanceof Integer || value instanceof Long || value instanceof Short || value instanceof Byte) {
            n = ((Number) value).longValue();
        } else if (value instanceof BigInteger b && b.bitLength() < 64) {
            n = b.longValue();
        } else {
            throw new InferenceException(Reason.BAD_REQUEST, name + " is " + describe(value) + "; " + rule);
        }
        if (n < 0) {
            throw new InferenceException(Reason.BAD_REQUEST, name + " is " + n + "; " + rule);
        }
        return n;
    }

    private static String describe(Object value) {
        return value instanceof String s ? "the string \"" + (s.length() > 40 ? s.substring(0, 40) + "..." : s) + "\""
                : String.valueOf(value);
    }

    // ---- forming and running batches ------------------------------------------------------------

    /** Starts every batch that is ready while instances are free; arranges a wake-up for one that must wait. */
    private void pump() {
        List<List<Queued>> ready = null;
        synchronized (lock) {
            while (!closed && free > 0) {
                List<Queued> batch = form(System.nanoTime());
                if (batch == null) {
                    break;
                }
                free--;
                if (ready == null) {
                    ready = new ArrayList<>(2);
                }
                ready.add(batch);
            }
        }
        if (ready == null) {
            return;
        }
        for (List<Queued> batch : ready) {
            try {
                workers.execute(() -> run(batch));
            } catch (RejectedExecutionException e) {
                synchronized (lock) {
                    free++;
                }
                for (Queued q : batch) {
                    fail(q, new InferenceException(Reason.SHUTTING_DOWN, "serving is shutting down; retry when the"
                            + " appliance is back"));
                }
            }
        }
    }

    /** Under the lock: takes the next batch off the queues, or null when there is none yet. */
    private List<Queued> form(long now) {
        Queued head = null;
        for (ArrayDeque<Queued> queue : levels) {
            if (!queue.isEmpty()) {
                head = queue.peekFirst();
                break;
            }
        }
        if (head == null) {
            return null;
        }
        if (batching == null) {
            take(head);
            return List.of(head);
        }
        List<Queued> candidates = new ArrayList<>();
        long rows = 0;
        long oldest = head.enqueued;
        boolean full = false;
        scan:
        for (ArrayDeque<Queued> queue : levels) {
            for (Queued q : queue) {
                if (q != head && !q.mergeable(head)) {
                    continue;
                }
                if (rows + q.rows > maxBatch && !candidates.isEmpty()) {
                    full = true;
                    break scan;
                }
                candidates.add(q);
                rows += q.rows;
                oldest = Math.min(oldest, q.enqueued);
                if (rows >= largestPreferred) {
                    full = true;
                    break scan;
                }
            }
        }
        long best = 0;
        for (int p : batching.preferredBatchSize()) {
            if (p <= rows && p > best) {
                best = p;
            }
        }
        // model_config.proto: "If a batch of one of these sizes can be formed it will be executed immediately."
        if (!full && best == 0) {
            long due = oldest + delayNanos;
            if (now - due < 0) {
                wakeAt(due, now);
                return null;
            }
        }
        long target = best > 0 ? best : rows;
        List<Queued> batch = new ArrayList<>(candidates.size());
        long taken = 0;
        for (Queued q : candidates) {
            if (!batch.isEmpty() && taken + q.rows > target) {
                break;
            }
            batch.add(q);
            taken += q.rows;
        }
        for (Queued q : batch) {
            take(q);
        }
        return batch;
    }

    private void take(Queued q) {
        levels[q.level].remove(q);
        if (q.timeout != null) {
            q.timeout.cancel(false);
        }
    }

    private void wakeAt(long due, long now) {
        if (wake != null && wakeAt - due <= 0) {
            return;
        }
        if (wake != null) {
            wake.cancel(false);
        }
        wakeAt = due;
        try {
            wake = timer.schedule(this::woken, due - now, TimeUnit.NANOSECONDS);
        } catch (RejectedExecutionException e) {
            wake = null;   // shutting down: close() answers what is queued
        }
    }

    private void woken() {
        synchronized (lock) {
            wake = null;
        }
        pump();
    }

    /** On the timer thread: a REJECT request whose queue timeout passed leaves the queue with TIMEOUT. */
    private void expire(Queued q, long timeoutMicros) {
        synchronized (lock) {
            if (!levels[q.level].remove(q)) {
                return;   // already taken into a batch (or the scheduler closed)
            }
        }
        long waited = (System.nanoTime() - q.enqueued) / 1000;
        fail(q, new InferenceException(Reason.TIMEOUT, label + ": request " + q.id + " waited " + waited
                + " µs in the queue, longer than its timeout of " + timeoutMicros + " µs; retry later, or allow more"
                + " with parameters.timeout"));
        pump();   // the head may have changed
    }

    /** On a worker: one engine run for the batch, then each request's answer. */
    private void run(List<Queued> batch) {
        try {
            long started = System.nanoTime();
            List<List<Tensor>> answers;
            long inputNs;
            long inferNs;
            long outputNs;
            long totalRows = 0;
            long[] rows = new long[batch.size()];
            for (int i = 0; i < rows.length; i++) {
                rows[i] = batch.get(i).rows;
                totalRows += rows[i];
            }
            try {
                LoadedModel loaded = model.get();
                if (loaded == null) {
                    throw new InferenceException(Reason.MODEL_NOT_READY, label + " was unloaded before the request"
                            + " ran (it drained for longer than its drain timeout); retry");
                }
                Queued head = batch.get(0);
                List<Tensor> inputs;
                if (batch.size() == 1) {
                    inputs = head.inputs;
                } else {
                    List<List<Tensor>> parts = new ArrayList<>(batch.size());
                    for (Queued q : batch) {
                        parts.add(q.inputs);
                    }
                    inputs = TensorBatching.concat(parts);
                }
                long merged = System.nanoTime();
                List<Tensor> outputs;
                if (head.pipeline != null && batch.size() == 1 && loaded instanceof PipelineModel pipeline) {
                    outputs = pipeline.serve(head.pipeline);
                } else {
                    outputs = loaded.run(inputs, head.outputs);
                }
                long ran = System.nanoTime();
                answers = batch.size() == 1 ? List.of(outputs) : TensorBatching.split(outputs, rows);
                long split = System.nanoTime();
                inputNs = merged - started;
                inferNs = ran - merged;
                outputNs = split - ran;
            } catch (InferenceException e) {
                failAll(batch, e);
                return;
            } catch (EngineException e) {
                if (e.reason() == EngineException.Reason.INVALID_INPUT) {
                    // what the client sent, not a fault of the engine: 400, nothing metered
                    failAll(batch, new InferenceException(Reason.BAD_REQUEST, e.getMessage(), e));
                } else {
                    failAll(batch, new InferenceException(Reason.ENGINE_FAILURE, label + " failed to run ("
                            + e.reason() + "): " + e.getMessage(), e));
                }
                return;
            } catch (Throwable e) {
                // Any throwable (an Error included: OutOfMemoryError, StackOverflowError, a plugin's assert): every
                // request of the batch is answered, counted as a failure and released; the worker lives on.
                LOG.error("{}: the engine threw while running a batch of {} requests ({} rows)", label, batch.size(),
                        totalRows, e);
                failAll(batch, thrown(label, e));
                return;
            }
            statistics.execution((int) totalRows, inputNs, inferNs, outputNs);
            if (LOG.isDebugEnabled()) {
                // one line per engine run at DEBUG only: with the per-request lines, shows which requests shared it
                LOG.debug("{}: engine run of {} requests ({} rows), first {}, {} µs", label, batch.size(), totalRows,
                        batch.get(0).id, inferNs / 1000);
            }
            for (int i = 0; i < batch.size(); i++) {
                Queued q = batch.get(i);
                boolean ok;
                try {
                    ok = q.outcome.served(answers.get(i), inferNs * rows[i] / Math.max(1, totalRows));
                } catch (Throwable e) {
                    LOG.error("{}: answering request {} failed", label, q.id, e);
                    ok = false;
                }
                long end = System.nanoTime();
                if (ok) {
                    statistics.success(end - q.enqueued, started - q.enqueued, inputNs, inferNs, outputNs);
                } else {
                    statistics.failure(end - q.enqueued);
                }
            }
        } finally {
            synchronized (lock) {
                free++;
            }
            pump();
        }
    }

    private void failAll(List<Queued> batch, InferenceException e) {
        for (Queued q : batch) {
            fail(q, e);
        }
    }

    private void fail(Queued q, InferenceException e) {
        statistics.failure(System.nanoTime() - q.enqueued);   // counted before the caller hears of it
        try {
            q.outcome.failed(e);
        } catch (Throwable r) {
            LOG.error("{}: failing request {} threw", label, q.id, r);
        }
    }

    /**
     * The answer to a request whose run threw {@code e} (already logged with its stack trace): an
     * {@link OutOfMemoryError} is 503 OVERLOADED "out of memory while serving <model>: retry later" (the box may
     * serve it once memory is free again), anything else 500 ENGINE_FAILURE naming the throwable. No cause is
     * attached: the endpoint's line for the answer would print the same stack trace a second time.
     */
    static InferenceException thrown(String label, Throwable e) {
        if (e instanceof OutOfMemoryError) {
            return new InferenceException(Reason.OVERLOADED, "out of memory while serving " + label + ": retry later");
        }
        return new InferenceException(Reason.ENGINE_FAILURE, label + " failed to run: " + e);
    }

    /** One request in the queue. Identity equality: the queues remove it by reference. */
    private static final class Queued {
        final String id;
        final List<Tensor> inputs;
        final Set<String> outputs;
        final long rows;
        final int level;
        final long enqueued;
        final Outcome outcome;
        ScheduledFuture<?> timeout;   // guarded by the scheduler's lock
        /** The request as a pipeline sees it, or null for a plain model; set before it is queued. */
        io.tollgate.pipeline.PipelineRequest pipeline;

        Queued(String id, List<Tensor> inputs, Set<String> outputs, long rows, int level, long enqueued,
               Outcome outcome) {
            this.id = id;
            this.inputs = inputs;
            this.outputs = outputs;
            this.rows = rows;
            this.level = level;
            this.enqueued = enqueued;
            this.outcome = outcome;
        }

        /** Whether this request may share an engine run with {@code other} (never: a pipeline request). */
        boolean mergeable(Queued other) {
            return pipeline == null && other.pipeline == null && TensorBatching.mergeable(inputs, other.inputs)
                    && java.util.Objects.equals(outputs, other.outputs);
        }
    }
}
