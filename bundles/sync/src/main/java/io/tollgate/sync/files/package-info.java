/**
 * The sync state of an appliance's data directory, read-only, for offline tools ({@code bin/tollgate sync
 * status}, module {@code tools/}): what the cloud has acknowledged. Plain Java, no OSGi framework needed.
 */
@org.osgi.annotation.bundle.Export
@org.osgi.annotation.versioning.Version("1.1.0")
package io.tollgate.sync.files;
