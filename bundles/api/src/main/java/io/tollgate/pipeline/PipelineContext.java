package io.tollgate.pipeline;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;
import java.util.NoSuchElementException;
import org.osgi.annotation.versioning.ProviderType;

/**
 * What serving gives a {@link Pipeline} when it opens: the loaded stages, the plugin's files and parameters, and a
 * folder of its own. Serving implements it; a plugin's unit tests can use {@link #of}.
 */
@ProviderType
public interface PipelineContext {
    /** Model name as clients address it. */
    String model();

    /** Model version (the plugin's). */
    String version();

    /** The stages by name, in the descriptor's order. */
    Map<String, PipelineStage> stages();

    /**
     * The stage named {@code name}.
     *
     * @throws NoSuchElementException naming the stages there are when there is none of that name
     */
    default PipelineStage stage(String name) {
        PipelineStage s = stages().get(name);
        if (s == null) {
            throw new NoSuchElementException("no pipeline stage '" + name + "'; the descriptor declares "
                    + stages().keySet());
        }
        return s;
    }

    /**
     * Reads a file of the plugin (a dictionary, a {@code tokenizer.json}), relative to {@code TOLLGATE-INF/}.
     *
     * @throws IOException when it is missing or unreadable (the message names the path)
     */
    byte[] resource(String path) throws IOException;

    /** The descriptor's {@code parameters} (strings), e.g. {@code {"det_threshold": "0.3"}}. */
    Map<String, String> parameters();

    /**
     * A folder the plugin may write (e.g. where a native tokenizer library is unpacked), inside the appliance's data
     * folder, made {@code rwx------}, kept across restarts, one per plugin symbolic name.
     */
    Path workFolder();

    /**
     * A context from parts, for tests and tools that run a pipeline outside the appliance.
     *
     * @param resources reads plugin files by path relative to {@code TOLLGATE-INF/}
     */
    static PipelineContext of(String model, String version, Map<String, PipelineStage> stages,
                              ResourceReader resources, Map<String, String> parameters, Path workFolder) {
        Map<String, PipelineStage> s = java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(stages));
        Map<String, String> p = Map.copyOf(parameters);
        return new PipelineContext() {
            @Override
            public String model() {
                return model;
            }

            @Override
            public String version() {
                return version;
            }

            @Override
            public Map<String, PipelineStage> stages() {
                return s;
            }

            @Override
            public byte[] resource(String path) throws IOException {
                return resources.read(path);
            }

            @Override
            public Map<String, String> parameters() {
                return p;
            }

            @Override
            public Path workFolder() {
                return workFolder;
            }
        };
    }

    /** Reads a plugin file by its path relative to {@code TOLLGATE-INF/}. */
    @FunctionalInterface
    interface ResourceReader {
        byte[] read(String path) throws IOException;
    }
}
