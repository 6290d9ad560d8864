/**
 * Usage sync: the state of the uplink that ships usage records from the device's journal to the cloud
 * (protocol in docs/sync-protocol.md). The endpoint reads it for /metrics; no MQTT types appear here.
 */
@org.osgi.annotation.bundle.Export
@org.osgi.annotation.versioning.Version("1.3.0")
package io.tollgate.sync;
