/**
 * The data model shared by every Tollgate bundle: tensors, their data types and shapes, and the
 * descriptor a model plugin ships. Plain Java only: no engine, transport or storage types.
 */
@org.osgi.annotation.bundle.Export
@org.osgi.annotation.versioning.Version("1.4.0")
package io.tollgate.model;
