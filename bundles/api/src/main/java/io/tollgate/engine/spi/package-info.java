/**
 * What an inference engine (ONNX Runtime, TensorRT, ...) implements to run models for Tollgate.
 * Engines register {@link io.tollgate.engine.spi.InferenceEngine} services and provide the
 * {@code tollgate.engine} capability named after {@link io.tollgate.engine.spi.InferenceEngine#name()}, and may
 * offer a {@link io.tollgate.engine.spi.ModelSignatureInspector} that offline tools call (since 1.1). An input the
 * engine cannot take as sent is {@code EngineException.Reason.INVALID_INPUT}, a client error (since 1.2). Engines say whether they can run here ({@code availability()}) and take the
 * placement's accelerator and precision through {@code ModelArtifact} (since 1.3).
 */
@org.osgi.annotation.bundle.Export
@org.osgi.annotation.versioning.Version("1.3.0")
package io.tollgate.engine.spi;
