package io.tollgate.endpoint.internal;

import com.fasterxml.jackson.core.JsonGenerator;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.tollgate.serving.ModelRegistry;
import io.tollgate.serving.ModelStatistics;
import io.tollgate.serving.ModelStatistics.Duration;
import io.tollgate.serving.ModelStatus;
import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Optional;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.Predicate;
import java.util.stream.Collectors;

/**
 * {@code GET /v2/models[/{m}[/versions/{v}]]/stats} in the shape of Triton's statistics extension
 * (docs/protocol/extension_statistics.md in triton-inference-server/server), and the per-model series of
 * {@code /metrics} that come from the same {@link ModelStatistics}. Answers from the {@link ModelRegistry} at once,
 * on the event loop.
 *
 * <p>A model version the registry knows but has no statistics for (a serving layer older than API 1.3) is shown with
 * its {@link ModelStatus#served()} as {@code inference_count} and {@code success.count}, every duration 0: the
 * version is listed either way, as Triton lists every loaded version.
 */
final class StatsRoutes {
    private final ModelRegistry registry;

    StatsRoutes(ModelRegistry registry) {
        this.registry = registry;
    }

    /**
     * @param name    model, or null for every model
     * @param version version, or null for every version of {@code name}
     * @param visible which models the caller may see (a key limited to models sees only those)
     * @throws RequestException 404 for a model or version the registry does not know
     */
    HttpReply stats(String name, String version, Predicate<String> visible) throws RequestException {
        List<ModelStatus> known = registry.models().stream()
                .filter(s -> name == null ? visible.test(s.name()) : s.name().equals(name))
                .filter(s -> version == null || s.version().equals(version))
                .toList();
        if (name != null && known.isEmpty()) {
            Optional<String> unloaded = registry.unavailable(name);
            if (unloaded.isPresent()) {
                throw RequestException.notFound(unloaded.get());
            }
            boolean modelKnown = registry.models().stream().anyMatch(s -> s.name().equals(name));
            if (version == null || !modelKnown) {
                throw RequestException.notFound("model '" + name + "' is not installed; POST /v2/repository/index "
                        + "lists the installed models");
            }
            throw RequestException.notFound("model '" + name + "' has no version '" + version + "'; GET /v2/models/"
                    + name + " lists its versions");
        }
        List<ModelStatistics> stats = statistics(registry, known, name, version);
        return HttpReply.json(HttpResponseStatus.OK, JsonBodies.bytes(g -> write(g, stats), 512 + 512 * stats.size()));
    }

    /**
     * The statistics of {@code known} model versions, in their order: the registry's where it has them, else made
     * from the status (see the class comment). Statistics of versions not in {@code known} are dropped, so label sets
     * stay bounded by what the registry lists.
     */
    static List<ModelStatistics> statistics(ModelRegistry registry, List<ModelStatus> known, String name,
                                            String version) {
        Map<String, ModelStatistics> byKey = new LinkedHashMap<>();
        List<ModelStatistics> given;
        try {
            given = registry.statistics(name, version);
        } catch (RuntimeException e) {
            given = List.of();   // a serving layer going away while we ask: what the statuses say
        }
        for (ModelStatistics s : given) {
            byKey.put(s.name() + '\0' + s.version(), s);
        }
        List<ModelStatistics> out = new ArrayList<>(known.size());
        Set<String> seen = new java.util.HashSet<>();
        for (ModelStatus m : known) {
            String key = m.name() + '\0' + m.version();
            if (!seen.add(key)) {
                continue;
            }
            ModelStatistics s = byKey.get(key);
            out.add(s != null ? s : fromStatus(m));
        }
        return out;
    }

    private static ModelStatistics fromStatus(ModelStatus m) {
        Duration zero = Duration.ZERO;
        return new ModelStatistics(m.name(), m.version(), 0, m.served(), 0,
                new ModelStatistics.InferStatistics(new Duration(m.served(), 0), zero, zero, zero, zero, zero),
                List.of());
    }

    static void write(JsonGenerator g, List<ModelStatistics> stats) throws IOException {
        g.writeStartObject();
        g.writeArrayFieldStart("model_stats");
        for (ModelStatistics s : stats) {
            g.writeStartObject();
            g.writeStringField("name", s.name());
            g.writeStringField("version", s.version());
            g.writeNumberField("last_inference", s.lastInference());
            g.writeNumberField("inference_count", s.inferenceCount());
            g.writeNumberField("execution_count", s.executionCount());
            ModelStatistics.InferStatistics i = s.inferenceStats();
            g.writeObjectFieldStart("inference_stats");
            duration(g, "success", i.success());
            duration(g, "fail", i.fail());
            duration(g, "queue", i.queue());
            duration(g, "compute_input", i.computeInput());
            duration(g, "compute_infer", i.computeInfer());
            duration(g, "compute_output", i.computeOutput());
            // Triton's response cache: there is none here, so never a hit or a miss (clients read the fields)
            duration(g, "cache_hit", Duration.ZERO);
            duration(g, "cache_miss", Duration.ZERO);
            g.writeEndObject();
            g.writeArrayFieldStart("batch_stats");
            for (ModelStatistics.BatchStatistics b : sortedBatches(s)) {
                g.writeStartObject();
                g.writeNumberField("batch_size", b.batchSize());
                duration(g, "compute_input", b.computeInput());
                duration(g, "compute_infer", b.computeInfer());
                duration(g, "compute_output", b.computeOutput());
                g.writeEndObject();
            }
            g.writeEndArray();
            g.writeEndObject();
        }
        g.writeEndArray();
        g.writeEndObject();
    }

    private static List<ModelStatistics.BatchStatistics> sortedBatches(ModelStatistics s) {
        return s.batchStats().stream()
                .sorted(java.util.Comparator.comparingInt(ModelStatistics.BatchStatistics::batchSize))
                .collect(Collectors.toList());
    }

    private static void duration(JsonGenerator g, String field, Duration d) throws IOException {
        Duration v = d == null ? Duration.ZERO : d;
        g.writeObjectFieldStart(field);
        g.writeNumberField("count", v.count());
        g.writeNumberField("ns", v.ns());
        g.writeEndObject();
    }

    /**
     * The per-model-version series of {@code /metrics} from the statistics: queue and compute time (seconds, as
     * counters), engine runs, and engine runs by batch size. Only versions the registry lists get series.
     */
    static void renderMetrics(StringBuilder out, ModelRegistry registry, List<ModelStatus> models) {
        List<ModelStatistics> stats = statistics(registry, models, null, null);
        seconds(out, stats, "tollgate_model_queue_duration_seconds_total",
                "Time requests waited in the model version's queue before their engine run, in seconds (Triton: "
                        + "nv_inference_queue_duration_us).", s -> s.inferenceStats().queue());
        seconds(out, stats, "tollgate_model_compute_input_duration_seconds_total",
                "Time preparing inputs (merging a batch, making engine tensors), in seconds (Triton: "
                        + "nv_inference_compute_input_duration_us).", s -> s.inferenceStats().computeInput());
        seconds(out, stats, "tollgate_model_compute_infer_duration_seconds_total",
                "Time in the engine run, in seconds (Triton: nv_inference_compute_infer_duration_us).",
                s -> s.inferenceStats().computeInfer());
        seconds(out, stats, "tollgate_model_compute_output_duration_seconds_total",
                "Time splitting and converting outputs, in seconds (Triton: nv_inference_compute_output_duration_us).",
                s -> s.inferenceStats().computeOutput());
        counter(out, stats, "tollgate_model_inferences_total", "Requests the model version served successfully "
                + "(Triton: nv_inference_count; here one per request).", ModelStatistics::inferenceCount);
        counter(out, stats, "tollgate_model_failures_total", "Requests of the model version that failed in serving "
                + "(engine failure, queue timeout, metering).",
                s -> s.inferenceStats().fail() == null ? 0 : s.inferenceStats().fail().count());
        counter(out, stats, "tollgate_model_executions_total", "Engine runs of the model version; one run serves a "
                + "whole batch (Triton: nv_inference_exec_count).", ModelStatistics::executionCount);
        EndpointMetrics.header(out, "tollgate_model_batch_executions_total", "counter",
                "Engine runs of the model version by batch size (the batch size distribution; sizes are bounded by "
                        + "max_batch_size).");
        for (ModelStatistics s : stats) {
            Map<Integer, Long> bySize = new TreeMap<>();
            for (ModelStatistics.BatchStatistics b : s.batchStats()) {
                long runs = b.computeInfer() == null ? 0 : b.computeInfer().count();
                bySize.merge(b.batchSize(), runs, Long::sum);
            }
            bySize.forEach((size, runs) -> out.append("tollgate_model_batch_executions_total{").append(labels(s))
                    .append(",batch_size=\"").append(size).append("\"} ").append(runs).append('\n'));
        }
    }

    private static void counter(StringBuilder out, List<ModelStatistics> stats, String name, String help,
                                java.util.function.ToLongFunction<ModelStatistics> field) {
        EndpointMetrics.header(out, name, "counter", help);
        for (ModelStatistics s : stats) {
            out.append(name).append('{').append(labels(s)).append("} ").append(field.applyAsLong(s)).append('\n');
        }
    }

    private static void seconds(StringBuilder out, List<ModelStatistics> stats, String name, String help,
                                java.util.function.Function<ModelStatistics, Duration> field) {
        EndpointMetrics.header(out, name, "counter", help);
        for (ModelStatistics s : stats) {
            Duration d = field.apply(s);
            out.append(name).append('{').append(labels(s)).append("} ").append(d == null ? 0 : d.ns() / 1e9)
                    .append('\n');
        }
    }

    private static String labels(ModelStatistics s) {
        return "model=\"" + EndpointMetrics.escape(s.name()) + "\",version=\"" + EndpointMetrics.escape(s.version())
                + "\"";
    }
}
