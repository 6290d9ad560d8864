/**
 * Pre- and post-processing code that a capability plugin carries (issue 13): a camera sends a JPEG and gets the text
 * printed on a part; a station sends sentences and gets embeddings; a microphone sends WAV bytes and gets speech
 * segments. The plugin's descriptor names a {@link io.tollgate.pipeline.Pipeline} class and its stage models
 * ({@code io.tollgate.model.PipelineSpec}); serving loads each stage with the descriptor's engine, instantiates the
 * class from the plugin bundle, hands it a {@link io.tollgate.pipeline.PipelineContext} and calls it for each request.
 * The request is metered once, with the quantity {@link io.tollgate.pipeline.Pipeline#quantity} gives (images,
 * tokens, seconds of audio) in the descriptor's meter. Only vendor-signed plugins whose license allows code
 * ({@code allow_code}) can carry a pipeline; see docs/plugins.md, "Capability plugins".
 */
@org.osgi.annotation.bundle.Export
@org.osgi.annotation.versioning.Version("1.0.0")
package io.tollgate.pipeline;
