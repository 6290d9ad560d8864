/**
 * The metering files of an appliance's data directory, for offline tools (module {@code tools/},
 * {@code bin/tollgate usage ...}, {@code device ...}, {@code sync status}): the usage journal read-only (verify,
 * summary, export, a walk over its records) and the device identity files. Plain Java, no OSGi framework
 * needed; safe while the appliance runs (the journal is opened read-only, without the appender's lock).
 * Types here name no Chronicle or BouncyCastle class, so importing this package brings in neither.
 */
@org.osgi.annotation.bundle.Export
@org.osgi.annotation.versioning.Version("1.0.0")
package io.tollgate.metering.files;
