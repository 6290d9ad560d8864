package io.tollgate.serving.internal;

import io.tollgate.serving.ModelState;
import io.tollgate.serving.PluginStatus;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What the extender knows about one plugin bundle: its latest snapshot, the model it declares or
 * provides, and its {@link PluginState}. {@link #moveTo} is the one place the state changes: it logs
 * every transition and cancels a load attempt the plugin moved away from.
 *
 * <p>Threads: written on the {@code tollgate-model-lifecycle} thread only; read from any thread
 * ({@code /admin/plugins}), hence the volatile fields.
 */
final class PluginRecord {
    private static final Logger LOG = LoggerFactory.getLogger(PluginRecord.class);

    private final long bundleId;
    private volatile PluginSource source;
    private volatile String model = "";
    private volatile String modelVersion = "";
    private volatile PluginState state = PluginState.INACTIVE;

    PluginRecord(PluginSource source) {
        this.bundleId = source.bundleId();
        observed(source);
    }

    long bundleId() {
        return bundleId;
    }

    PluginSource source() {
        return source;
    }

    PluginState state() {
        return state;
    }

    /** The latest snapshot of the bundle; names its model from the capability until its descriptor is read. */
    void observed(PluginSource latest) {
        source = latest;
        if (model.isEmpty() && latest.declaredModel() != null) {
            model = latest.declaredModel();
            modelVersion = latest.declaredModelVersion() == null ? "" : latest.declaredModelVersion();
        }
    }

    /** The model the plugin's descriptor names. */
    void described(String name, String version) {
        model = name;
        modelVersion = version;
    }

    /**
     * Makes {@code next} the state; {@code next} comes from a {@link PluginState} transition method, which
     * has already refused an illegal move. Leaving Loading other than by the attempt's own outcome cancels
     * that attempt. Every change is logged here, at DEBUG (the operator's INFO/WARN lines say why).
     */
    void moveTo(PluginState next, String cause) {
        PluginState previous = state;
        if (next == previous) {
            return;
        }
        if (previous instanceof PluginState.Loading loading && !loading.attempt().isDone()) {
            loading.attempt().cancel();
        }
        state = next;
        LOG.debug("{}: {} -> {} ({})", source.label(), previous.name(), next.name(), cause);
    }

    /** The model it holds (from its capability or descriptor), or "" when not known yet; any thread. */
    String model() {
        return model;
    }

    /** Stops a load in progress without a transition: serving is shutting down. */
    void cancelLoad() {
        if (state instanceof PluginState.Loading loading) {
            loading.attempt().cancel();
        }
    }

    /** The plugin as {@code /admin/plugins} shows it; an Inactive plugin whose old revision still serves is READY. */
    PluginStatus status(boolean retiringVersionsServe) {
        PluginSource s = source;
        PluginState current = state;
        ModelState shown = current.reported();
        if (shown == ModelState.UNLOADED && retiringVersionsServe) {
            shown = ModelState.READY;
        }
        return new PluginStatus(bundleId, s.symbolicName(), s.version(), s.location(), model, modelVersion, shown,
                current.error());
    }
}
