/**
 * Licenses, plugin signatures and entitlements (issue 10; docs/licensing.md). Plain Java: the JDK's Ed25519 and
 * JAR verification, no OSGi classes, so the launcher, the serving bundle and the offline tools share it.
 */
@org.osgi.annotation.bundle.Export
@org.osgi.annotation.versioning.Version("1.1.0")
package io.tollgate.licensing;
