package io.tollgate.serving.internal;

import java.io.IOException;
import java.util.Optional;

/**
 * One revision of a model plugin, as the extender sees it: identity, what its {@code tollgate.model}
 * capability declares, and read access to its entries. In OSGi this is a bundle
 * ({@link PluginBundle}); unit tests use a map of entries. Values are a snapshot taken when the
 * revision was observed; {@link #read} reads the bundle as it is now.
 */
public interface PluginSource {
    /** Where the descriptor lives unless the plugin's {@code Tollgate-Model} header says otherwise. */
    String DEFAULT_DESCRIPTOR = "TOLLGATE-INF/model.json";

    long bundleId();

    String symbolicName();

    String version();

    String location();

    /** Identifies this revision of the bundle; it changes when the bundle is updated. */
    String revisionKey();

    /** Model name the {@code tollgate.model} capability declares, or {@code null} when it declares none. */
    String declaredModel();

    /** Model version the {@code tollgate.model} capability declares, or {@code null} when it declares none. */
    String declaredModelVersion();

    /** Path of the descriptor inside the plugin. */
    String descriptorPath();

    /**
     * The bytes of an entry of the plugin.
     *
     * @return the bytes, or {@code null} when the plugin has no such entry
     * @throws IOException when the entry exists but cannot be read, or the plugin is gone
     */
    byte[] read(String path) throws IOException;

    /**
     * Whether the plugin has the entry {@code path}, without reading it (a large stage model is read once, when it
     * loads).
     *
     * @throws IOException when the plugin is gone
     */
    default boolean exists(String path) throws IOException {
        return read(path) != null;
    }

    /**
     * Loads a class of the plugin's own code (a capability plugin's {@code pipeline.class}, issue 13) through the
     * plugin bundle's class loader, so it sees the plugin's private packages and its imports.
     *
     * @throws ClassNotFoundException when the plugin has no such class (or carries no code)
     */
    default Class<?> loadClass(String className) throws ClassNotFoundException {
        throw new ClassNotFoundException(className + " (" + label() + " carries no code here)");
    }

    /**
     * Like {@link #read(String)}, for an entry that may be large (the model file): refuses one that inflates to more
     * than {@code maxBytes} without holding more than that in memory.
     *
     * @throws TooLargeException when the entry inflates to more than {@code maxBytes}
     */
    default byte[] read(String path, long maxBytes) throws IOException {
        byte[] bytes = read(path);
        if (bytes != null && bytes.length > maxBytes) {
            throw new TooLargeException(maxBytes);
        }
        return bytes;
    }

    /** An entry inflates to more than the limit it was read with (a zip bomb, or a model too large for the box). */
    final class TooLargeException extends IOException {
        private static final long serialVersionUID = 1L;
        private final long limit;

        public TooLargeException(long limit) {
            super("it inflates to more than " + limit + " bytes");
            this.limit = limit;
        }

        public long limit() {
            return limit;
        }
    }

    /**
     * Why this plugin cannot be resolved, after one attempt to resolve it; empty when it is now
     * resolved. Called once per revision that stays {@code INSTALLED}.
     */
    Optional<String> resolveProblem();

    /**
     * Why the plugin guard refuses this revision (it carries code: docs/plugins.md), in the words of
     * {@code io.tollgate.guard.PluginVerdict#reason()}; empty when it is data only. The framework never
     * resolves a refused plugin, so it stays INSTALLED; this says why.
     */
    Optional<String> refusal();

    /**
     * True when {@link #refusal()} is (also) the licensing decision (issue 10: unsigned, no license, revoked...): the
     * plugin is not entitled, so its models must not serve on through an upgrade's grace.
     */
    default boolean refusedByLicense() {
        return false;
    }

    /** How messages name this plugin: {@code plugin io.acme.ocr 1.2.0}. */
    default String label() {
        return "plugin " + symbolicName() + " " + version();
    }

    default PluginInfo info() {
        return new PluginInfo(bundleId(), symbolicName(), version(), location(), revisionKey());
    }
}
