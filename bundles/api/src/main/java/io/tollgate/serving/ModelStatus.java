package io.tollgate.serving;

import io.tollgate.model.ModelDescriptor;

/**
 * A model version as the serving layer holds it.
 *
 * @param descriptor  descriptor, with inputs and outputs as the loaded model declares them
 * @param state       lifecycle state
 * @param serving     whether this is the version unversioned requests go to
 * @param plugin      plugin bundle symbolic name
 * @param pluginVersion plugin bundle version
 * @param accelerator where it runs ("" when not loaded)
 * @param error       why it failed ("" unless {@link ModelState#FAILED})
 * @param inFlight    requests running right now
 * @param served      requests served since load
 */
public record ModelStatus(ModelDescriptor descriptor, ModelState state, boolean serving, String plugin,
                          String pluginVersion, String accelerator, String error, long inFlight, long served) {
    public String name() {
        return descriptor.name();
    }

    public String version() {
        return descriptor.version();
    }
}
