package io.tollgate.engine.tensorrt.internal;

import io.tollgate.model.ModelDescriptor;
import io.tollgate.model.PrebuiltEngine;
import java.util.Optional;

/** Picks the serialized engine a plugin ships for this box, if any (descriptor field {@code engines}). */
final class PrebuiltEngines {
    private PrebuiltEngines() {
    }

    /**
     * The engine shipped for firmware profile {@code profile}, built in {@code precision} by the TensorRT release
     * {@code tensorrtVersion} runs (a plan from another release does not deserialize); empty when none matches, and
     * the engine is built on the box.
     */
    static Optional<PrebuiltEngine> select(ModelDescriptor descriptor, String profile, String precision,
                                           String tensorrtVersion) {
        if (profile == null || profile.isBlank()) {
            return Optional.empty();
        }
        return descriptor.engines().stream()
                .filter(e -> e.profile().equals(profile))
                .filter(e -> e.precision().equals(precision))
                .filter(e -> e.builtBy(tensorrtVersion))
                .findFirst();
    }
}
