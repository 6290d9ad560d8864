/**
 * The ONNX engine's one public entry point for code outside the framework: {@link
 * io.tollgate.engine.onnx.OnnxModelInspector}, a {@link io.tollgate.engine.spi.ModelSignatureInspector} for
 * offline tools. Everything else of this bundle is private ({@code internal}).
 */
@org.osgi.annotation.bundle.Export
@org.osgi.annotation.versioning.Version("1.1.0")
package io.tollgate.engine.onnx;
