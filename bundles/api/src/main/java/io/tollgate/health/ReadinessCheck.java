package io.tollgate.health;

import java.util.Optional;
import org.osgi.annotation.versioning.ConsumerType;

/**
 * A part of the appliance that can be unable to do its job, registered as an OSGi service. The endpoint
 * answers {@code /v2/health/ready} with 503 while any <em>required</em> check is not ready, lists every
 * check's reason in the body, and exports {@code tollgate_ready{check="name"}} (1 or 0) on {@code /metrics}.
 */
@ConsumerType
public interface ReadinessCheck {
    /** Short stable name of the part, lower case: {@code metering}, {@code uplink}, {@code plugins}. */
    String name();

    /** True when the appliance cannot serve without this part (ready=false makes the box not ready). */
    boolean required();

    /**
     * Empty when the part is ready; otherwise one line for an operator saying why not and what to do.
     * Called on network threads: must be cheap and must never block.
     */
    Optional<String> notReadyReason();
}
