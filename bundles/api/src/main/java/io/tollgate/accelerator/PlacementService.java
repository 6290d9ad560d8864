package io.tollgate.accelerator;

import java.util.List;
import java.util.Optional;
import org.osgi.annotation.versioning.ProviderType;

/**
 * Places model instances on accelerators and keeps each accelerator within its memory budget and the box within
 * {@code max.resident.models}, evicting the least recently used (by last {@link #touch}) instance when full.
 * Thread-safe.
 */
@ProviderType
public interface PlacementService {
    /**
     * Chooses the accelerator, engine and precision for one model instance and reserves its estimated bytes there.
     * Walks {@code placement.order}, and for each kind {@code engine.order}, taking the first pair where the engine
     * is available on that kind, the precision fits (DLA: fp16/int8 only), and the instance fits the budget, after
     * evicting least recently used instances of that accelerator if needed. Placing a key that is already placed
     * returns the existing placement (and touches it).
     *
     * @param request  the instance to place
     * @param listener told about each instance evicted to make room (called before this method returns)
     * @return the placement; {@link Placement#reason()} says why it is not the first choice, if it is not
     * @throws PlacementException {@code NO_ENGINE} when no supported engine is available here, {@code TOO_LARGE}
     *                            when it exceeds every usable budget, {@code BUDGET_FULL} when nothing can be evicted
     */
    Placement place(PlacementRequest request, EvictionListener listener) throws PlacementException;

    /** Frees the reservation of {@code model:version} (unloaded or failed); nothing happens when it holds none. */
    void release(String model, String version);

    /** Marks {@code model:version} as used now (a request arrived), for least-recently-used eviction. */
    void touch(String model, String version);

    /** The placement of {@code model:version}, while it holds one. */
    Optional<Placement> placement(String model, String version);

    /** Every current placement, least recently used first. */
    List<Placement> placements();

    /**
     * Instances evicted since the service started (memory budget or {@code max.resident.models}).
     *
     * @since 1.1
     */
    default long evictions() {
        return 0;
    }

    /**
     * Placements of an instance that had been evicted (it loads again) since the service started; close to
     * {@link #evictions()} over a short time means models evict each other (thrashing).
     *
     * @since 1.1
     */
    default long reloads() {
        return 0;
    }
}
