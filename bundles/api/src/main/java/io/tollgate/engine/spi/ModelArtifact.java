package io.tollgate.engine.spi;

import io.tollgate.model.ModelDescriptor;
import java.util.Objects;

/**
 * A model to load: its descriptor, the bytes of its model file and where they came from
 * (for messages, e.g. {@code plugin io.acme.ocr 1.2.0, TOLLGATE-INF/model.onnx}), and where it goes.
 *
 * @param descriptor  the plugin's descriptor
 * @param modelBytes  the model file (e.g. ONNX protobuf bytes)
 * @param origin      names the model in messages
 * @param accelerator accelerator id the placement chose ({@code cpu}, {@code cuda:0}, {@code dla:0}); "" = the
 *                    engine's own choice (since 1.3)
 * @param precision   precision to build in ({@code fp32}, {@code fp16}, {@code int8}); defaults to the descriptor's
 *                    (since 1.3)
 * @param resources   reads other files of the plugin (prebuilt engines), by path relative to {@code TOLLGATE-INF/};
 *                    never null (since 1.3)
 */
public record ModelArtifact(ModelDescriptor descriptor, byte[] modelBytes, String origin, String accelerator,
                            String precision, PluginResources resources) {
    public ModelArtifact {
        Objects.requireNonNull(descriptor, "descriptor");
        Objects.requireNonNull(modelBytes, "modelBytes");
        Objects.requireNonNull(origin, "origin");
        accelerator = accelerator == null ? "" : accelerator;
        precision = precision == null || precision.isBlank() ? descriptor.precision() : precision;
        resources = resources == null ? PluginResources.NONE : resources;
    }

    /** An artifact with no placement: the engine picks the accelerator, the descriptor the precision. */
    public ModelArtifact(ModelDescriptor descriptor, byte[] modelBytes, String origin) {
        this(descriptor, modelBytes, origin, "", "", PluginResources.NONE);
    }

    /**
     * Other files of a plugin, read on demand (a prebuilt engine is only read on the box whose profile it matches).
     *
     * @since 1.3
     */
    @FunctionalInterface
    public interface PluginResources {
        /** A plugin without further files. */
        PluginResources NONE = path -> {
            throw new java.io.FileNotFoundException(path + " (no plugin files available)");
        };

        /**
         * The bytes of {@code path}, relative to {@code TOLLGATE-INF/}.
         *
         * @throws java.io.IOException when it is missing or unreadable
         */
        byte[] read(String path) throws java.io.IOException;
    }
}
