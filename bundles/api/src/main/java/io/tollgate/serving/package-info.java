/**
 * The serving layer as other bundles (endpoint, metering, admin) see it: run an inference, list
 * models and plugins, and their states.
 */
@org.osgi.annotation.bundle.Export
@org.osgi.annotation.versioning.Version("1.8.0")
package io.tollgate.serving;
