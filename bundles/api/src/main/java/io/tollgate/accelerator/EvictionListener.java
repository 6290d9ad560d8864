package io.tollgate.accelerator;

import org.osgi.annotation.versioning.ConsumerType;

/**
 * Told when placement evicts a model instance to make room for another (least recently used first). The serving
 * layer passes one with each {@link PlacementService#place} call and unloads the instance when told; the model then
 * reports Triton's {@code UNAVAILABLE} with the reason, and loads again on demand.
 */
@ConsumerType
@FunctionalInterface
public interface EvictionListener {
    /**
     * {@code placement} no longer holds its reservation: unload its instance. Called on the thread that called
     * {@link PlacementService#place}, after placement released its own lock; must not block for long (hand the
     * unload to another thread).
     *
     * @param placement the evicted instance
     * @param reason    why, e.g. {@code evicted (memory budget)} or {@code evicted (max.resident.models)}
     */
    void evicted(Placement placement, String reason);
}
