/**
 * Readiness of the appliance's parts. Each part that can make the box unable to do its job registers a
 * {@link io.tollgate.health.ReadinessCheck} service; the endpoint's {@code /v2/health/ready} and {@code /metrics}
 * read them all.
 */
@org.osgi.annotation.bundle.Export
@org.osgi.annotation.versioning.Version("1.0.0")
package io.tollgate.health;
