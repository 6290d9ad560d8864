package io.tollgate.serving.internal;

import io.tollgate.model.ModelDescriptor;
import io.tollgate.serving.ModelConfig;
import io.tollgate.serving.ModelConfig.InstanceGroup;
import io.tollgate.serving.ModelConfig.VersionPolicy;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;

/**
 * The scheduling configuration of a version as its descriptor alone gives it: {@code max_batch_size}, no dynamic
 * batching, and as many instances as there are serving workers (so a version runs exactly as before schedulers
 * existed: one engine run per request, as many at once as workers). Stands in for a version without an effective
 * configuration ({@link ModelVersion#config()} null: its descriptor does not make one).
 */
final class DescriptorConfig {
    private DescriptorConfig() {
    }

    /** A configuration per version, built once per descriptor (the request path reads it for every request). */
    static Function<ModelVersion, ModelConfig> cached(int instances) {
        Map<ModelVersion, ModelConfig> built = new ConcurrentHashMap<>();
        return version -> {
            ModelDescriptor d = version.descriptor();
            ModelConfig c = built.get(version);
            if (c == null || !c.input().equals(d.inputs()) || c.maxBatchSize() != d.maxBatchSize()) {
                c = of(d, instances);
                built.put(version, c);
                version.closed().thenRun(() -> built.remove(version));
            }
            return c;
        };
    }

    static ModelConfig of(ModelDescriptor d, int instances) {
        return new ModelConfig(d.name(), d.platform(), d.engine(), d.maxBatchSize(), d.inputs(), d.outputs(),
                VersionPolicy.LATEST_ONE, "", null, List.of(new InstanceGroup("", instances,
                InstanceGroup.Kind.KIND_CPU)), d.parameters());
    }
}
