package io.tollgate.pipeline;

import io.tollgate.model.Tensor;
import java.util.List;
import org.osgi.annotation.versioning.ConsumerType;

/**
 * A capability plugin's processing: decode the raw input, run the stage models, shape the answer. Implemented by the
 * plugin (a public class with a public no-argument constructor, named by the descriptor's {@code pipeline.class}).
 *
 * <p>Life cycle, driven by serving: the constructor, then {@link #open} once with the loaded stages, then
 * {@link #quantity} and {@link #run} for each request, concurrently from several serving threads (an implementation
 * keeps per-request state on the stack, and per-stream state in a thread-safe map), then {@link #close} once after
 * the last run returned. The same instance serves one model version; an upgrade opens a new instance.
 */
@ConsumerType
public interface Pipeline extends AutoCloseable {

    /**
     * Prepares the pipeline: reads the plugin's own files (dictionary, tokenizer), checks the stages' signatures.
     *
     * @throws PipelineException with {@link PipelineException.Reason#FAILED} when the plugin cannot serve (a stage is
     *                           missing or has another signature, a file is unreadable): the plugin is then
     *                           {@code FAILED} with this message
     */
    void open(PipelineContext context) throws PipelineException;

    /**
     * The billed quantity of a request in the descriptor's meter, before it runs (the license quota is claimed with
     * it): e.g. the number of images, of tokens, or the seconds of audio rounded up. Called once per request, before
     * {@link #run}; cheap (a header, a tokenization), never runs a stage.
     *
     * @return at least 0
     * @throws PipelineException with {@link PipelineException.Reason#INVALID_INPUT} when the input cannot be served
     *                           (not an image, an empty text, a WAV of another sample rate): answered 400 with the
     *                           message, nothing metered
     */
    long quantity(PipelineRequest request) throws PipelineException;

    /**
     * Serves a request.
     *
     * @return the outputs, each named as the descriptor's {@code outputs} name them; when the request asked for some
     *         outputs only ({@link PipelineRequest#requestedOutputs()}), at least those (serving drops the rest)
     * @throws PipelineException {@link PipelineException.Reason#INVALID_INPUT} for the client's mistake (400),
     *                           {@link PipelineException.Reason#FAILED} when a stage or the processing failed (500,
     *                           counted as a failure of the model)
     */
    List<Tensor> run(PipelineRequest request) throws PipelineException;

    /** Frees what {@link #open} took (per-stream state, native tokenizers). The stages are closed by serving. */
    @Override
    void close();
}
