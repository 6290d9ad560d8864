package io.tollgate.serving.internal;

import io.tollgate.serving.InferenceException;
import io.tollgate.serving.ModelConfig;
import io.tollgate.serving.ModelStatistics;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.concurrent.ScheduledExecutorService;
import java.util.function.Function;

/**
 * The {@link BatchScheduler} and {@link VersionStatistics} of each model version that has taken a request, created on
 * its first request from the version's effective {@link ModelConfig} and dropped when the version's model is closed.
 * When the version's configuration changes (a new {@code conf/models/{m}.json}), the next request gets a scheduler built
 * from the new one; the old one still runs what it has queued. Statistics stay with the version.
 *
 * <p>Threads: any (a concurrent map); the schedulers say what they run where.
 */
final class SchedulerDirectory {
    /** The scheduler of the current configuration, and those of earlier ones (still running what they queued). */
    private record Entry(ModelConfig config, BatchScheduler scheduler, List<BatchScheduler> previous) {
        void close(InferenceException why) {
            scheduler.close(why);
            for (BatchScheduler p : previous) {
                p.close(why);
            }
        }
    }

    private volatile Function<ModelVersion, ModelConfig> configs;
    private final Executor workers;
    private final ScheduledExecutorService timer;
    private final Map<ModelVersion, Entry> schedulers = new ConcurrentHashMap<>();
    private final Map<ModelVersion, VersionStatistics> statistics = new ConcurrentHashMap<>();

    /**
     * @param configs the effective configuration of a version (read at each request: cheap)
     * @param workers where batches run
     * @param timer   one thread for batch delays and queue timeouts
     */
    SchedulerDirectory(Function<ModelVersion, ModelConfig> configs, Executor workers, ScheduledExecutorService timer) {
        this.configs = configs;
        this.workers = workers;
        this.timer = timer;
    }

    /** Where versions' configurations come from from now on (tests give their own). */
    void configs(Function<ModelVersion, ModelConfig> source) {
        configs = source;
    }

    /** The scheduler requests for {@code version} go to now. */
    BatchScheduler of(ModelVersion version) {
        ModelConfig config = configs.apply(version);
        Entry entry = schedulers.get(version);
        if (entry != null && (entry.config == config || entry.config.equals(config))) {
            return entry.scheduler;
        }
        Entry created = schedulers.compute(version, (v, old) -> {
            if (old != null && old.config.equals(config)) {
                return old;
            }
            List<BatchScheduler> previous = new ArrayList<>();
            if (old != null) {
                previous.addAll(old.previous);
                previous.add(old.scheduler);
            }
            return new Entry(config, new BatchScheduler(v.label(), config, v::loaded, workers, timer, statisticsOf(v)),
                    List.copyOf(previous));
        });
        if (entry == null) {
            version.closed().thenRun(() -> closed(version));
        }
        return created.scheduler;
    }

    /** Counters of {@code version} (zero until its first request). */
    VersionStatistics statisticsOf(ModelVersion version) {
        return statistics.computeIfAbsent(version, v -> new VersionStatistics());
    }

    /** Statistics of {@code versions} that hold their model's name, by name then version. */
    List<ModelStatistics> snapshot(List<ModelVersion> versions) {
        List<ModelVersion> sorted = new ArrayList<>(versions);
        sorted.removeIf(v -> !v.ownsName() || v.isClosed() && !statistics.containsKey(v));
        sorted.sort(Comparator.comparing(ModelVersion::name).thenComparing(ModelVersion::parsedVersion));
        List<ModelStatistics> out = new ArrayList<>(sorted.size());
        for (ModelVersion v : sorted) {
            VersionStatistics s = statistics.get(v);
            out.add((s == null ? new VersionStatistics() : s).snapshot(v.name(), v.version()));
        }
        return out;
    }

    /** Fails what every scheduler still has queued with {@code why} (serving stops). */
    void closeAll(InferenceException why) {
        for (Entry e : List.copyOf(schedulers.values())) {
            e.close(why);
        }
        schedulers.clear();
    }

    private void closed(ModelVersion version) {
        Entry e = schedulers.remove(version);
        statistics.remove(version);
        if (e != null) {
            e.close(null);
        }
    }
}
