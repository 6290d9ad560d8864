package io.tollgate.serving;

import java.util.List;
import org.osgi.annotation.versioning.ProviderType;

/**
 * Explicit model control over installed plugins (Triton's model repository extension:
 * {@code POST /v2/repository/index}, {@code .../models/{m}/load}, {@code .../unload}). Unloading keeps the plugin jar
 * installed but stops serving the model (new requests are refused, requests in flight finish first); loading brings
 * it back with its version policy. The choice survives a restart ({@code docs/api.md} says where it is kept).
 *
 * @since 1.3
 */
@ProviderType
public interface RepositoryControl {
    /** One model version as Triton's repository index lists it. */
    record IndexEntry(String name, String version, String state, String reason) {
    }

    /**
     * The repository index: every model version known, with Triton's {@code state} ({@code READY},
     * {@code LOADING}, {@code UNLOADING}, {@code UNAVAILABLE}) and a {@code reason} when not ready.
     *
     * @param readyOnly only versions that serve
     */
    List<IndexEntry> index(boolean readyOnly);

    /**
     * Loads (or reloads) model {@code name}: its installed versions the version policy selects start serving.
     * Returns once they are ready or failed.
     *
     * @throws InferenceException {@code MODEL_NOT_FOUND} when no installed plugin holds the model;
     *                            {@code MODEL_NOT_READY} saying why when it did not become ready
     */
    void load(String name) throws InferenceException;

    /**
     * Unloads model {@code name}: refuses new requests at once, lets requests in flight finish, then frees its engine
     * memory. Returns once no new request is accepted (it does not wait for the drain).
     *
     * @throws InferenceException {@code MODEL_NOT_FOUND} when no installed plugin holds the model
     */
    void unload(String name) throws InferenceException;
}
