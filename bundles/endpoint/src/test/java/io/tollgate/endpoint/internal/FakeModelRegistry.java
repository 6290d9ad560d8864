package io.tollgate.endpoint.internal;

import io.tollgate.model.DataType;
import io.tollgate.model.ModelDescriptor;
import io.tollgate.model.TensorSpec;
import io.tollgate.serving.ModelRegistry;
import io.tollgate.serving.ModelState;
import io.tollgate.serving.ModelStatus;
import io.tollgate.serving.PluginStatus;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;

/** A registry the test fills by hand. The serving version of a name is its READY status marked serving. */
final class FakeModelRegistry implements ModelRegistry {
    final List<ModelStatus> models = new CopyOnWriteArrayList<>();
    final List<PluginStatus> plugins = new CopyOnWriteArrayList<>();
    volatile boolean ready = true;
    /** Configurations by "name/version" ("name/" for the one unversioned requests get). */
    final Map<String, io.tollgate.serving.ModelConfig> configs = new java.util.concurrent.ConcurrentHashMap<>();
    final Map<String, String> configErrors = new java.util.concurrent.ConcurrentHashMap<>();
    /** Installed models an operator unloaded, by name: what {@link #unavailable} says. */
    final Map<String, String> unloaded = new java.util.concurrent.ConcurrentHashMap<>();

    /** What {@link #routes} returns. */
    final List<io.tollgate.serving.RouteStatus> routes = new CopyOnWriteArrayList<>();
    /** Route-only models without valid remote metadata, by name: what {@link #metadataFailure} says. */
    final Map<String, io.tollgate.serving.InferenceException> metadataFailures =
            new java.util.concurrent.ConcurrentHashMap<>();

    /** What {@link #statistics} returns, filtered by name and version. */
    final List<io.tollgate.serving.ModelStatistics> statistics = new CopyOnWriteArrayList<>();

    static ModelDescriptor descriptor(String name, String version, int maxBatch, List<TensorSpec> inputs,
                                      List<TensorSpec> outputs, List<String> labels) {
        return new ModelDescriptor(name, version, "onnx", "onnx", "model.onnx", inputs, outputs, maxBatch, labels,
                "inference", "", Map.of());
    }

    static ModelStatus status(ModelDescriptor d, ModelState state, boolean serving) {
        return new ModelStatus(d, state, serving, "io.tollgate.plugin." + d.name(), d.version(),
                state == ModelState.READY ? "cpu" : "", state == ModelState.FAILED ? "model.onnx is corrupt" : "", 0, 0);
    }

    /** A standard set: echo 1 (serving) and 2 (loading), a classifier, a not-ready model. */
    static FakeModelRegistry standard() {
        FakeModelRegistry r = new FakeModelRegistry();
        TensorSpec any = new TensorSpec("x", DataType.FP32, new long[] {-1, 4});
        r.models.add(status(descriptor("echo", "1", 0, List.of(any), List.of(any), List.of()), ModelState.READY, true));
        r.models.add(status(descriptor("echo", "2", 0, List.of(any), List.of(any), List.of()), ModelState.LOADING,
                false));
        TensorSpec probs = new TensorSpec("probs", DataType.FP32, new long[] {-1, 4});
        TensorSpec names = new TensorSpec("names", DataType.BYTES, new long[] {-1});
        r.models.add(status(descriptor("classifier", "1.0.0", 8, List.of(probs, names), List.of(probs, names),
                List.of("cat", "dog", "bird", "fish")), ModelState.READY, true));
        r.models.add(status(descriptor("broken", "3", 0, List.of(any), List.of(any), List.of()), ModelState.FAILED,
                false));
        r.plugins.add(new PluginStatus(12, "io.tollgate.plugin.echo", "1.0.0", "file:/deploy/echo.jar", "echo", "1",
                ModelState.READY, ""));
        r.plugins.add(new PluginStatus(13, "io.tollgate.plugin.broken", "3.0.0", "file:/deploy/broken.jar", "broken",
                "3", ModelState.FAILED, "model.onnx is corrupt"));
        return r;
    }

    @Override
    public List<ModelStatus> models() {
        return List.copyOf(models);
    }

    @Override
    public Optional<ModelStatus> model(String name, String version) {
        for (ModelStatus s : models) {
            if (s.name().equals(name) && (version == null ? s.serving() : s.version().equals(version))) {
                return Optional.of(s);
            }
        }
        return Optional.empty();
    }

    @Override
    public Optional<io.tollgate.serving.ModelConfig> config(String name, String version) {
        return Optional.ofNullable(configs.get(name + "/" + (version == null ? "" : version)));
    }

    @Override
    public Optional<io.tollgate.serving.InferenceException> metadataFailure(String name) {
        return Optional.ofNullable(metadataFailures.get(name));
    }

    @Override
    public Optional<String> unavailable(String name) {
        return Optional.ofNullable(unloaded.get(name));
    }

    @Override
    public Map<String, String> configErrors() {
        return Map.copyOf(configErrors);
    }

    @Override
    public List<io.tollgate.serving.RouteStatus> routes() {
        return List.copyOf(routes);
    }

    @Override
    public List<PluginStatus> plugins() {
        return List.copyOf(plugins);
    }

    @Override
    public boolean ready() {
        return ready;
    }

    @Override
    public List<io.tollgate.serving.ModelStatistics> statistics(String name, String version) {
        return statistics.stream()
                .filter(s -> name == null || s.name().equals(name))
                .filter(s -> version == null || s.version().equals(version))
                .toList();
    }
}
