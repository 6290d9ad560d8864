/**
 * Usage metering: what serving calls to record billable use before an answer leaves the box, what
 * the sync bundle reads to ship records to the cloud, and the device's identity. The record format
 * (canonical bytes, hash chain, seals) is documented in docs/usage-records.md.
 */
@org.osgi.annotation.bundle.Export
@org.osgi.annotation.versioning.Version("1.2.0")
package io.tollgate.metering;
