package io.tollgate.serving;

import java.util.List;
import java.util.Optional;
import org.osgi.annotation.versioning.ProviderType;

/** What models and plugins the serving layer holds, and their states. */
@ProviderType
public interface ModelRegistry {
    /** Every model version known, including failed and draining ones. */
    List<ModelStatus> models();

    /**
     * The version of {@code name} a request would go to: {@code version} when given, else the
     * serving version.
     */
    Optional<ModelStatus> model(String name, String version);

    /** Plugins seen, with the reason for each refusal. */
    List<PluginStatus> plugins();

    /**
     * True once every plugin present at start-up has been processed (loaded or refused), so the
     * appliance can report itself ready.
     */
    boolean ready();
}
