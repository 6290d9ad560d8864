package io.tollgate.engine.spi;

import org.osgi.annotation.versioning.ConsumerType;

/**
 * Reads a model file's signature without loading it for serving: what {@code tollgate plugin pack} uses to
 * write a plugin's descriptor. An engine offers one for the model formats it runs; it needs no OSGi framework
 * (offline tools call it on a plain class path) and keeps nothing open after {@link #inspect} returns.
 *
 * @since 1.1
 */
@ConsumerType
public interface ModelSignatureInspector {
    /** Engine name, as {@link InferenceEngine#name()}: the plugin descriptor's {@code engine} field. */
    String engine();

    /**
     * Reads the signature of the model in {@code model}.
     *
     * @param model  the model file's bytes
     * @param origin names the model in messages, e.g. its file name
     * @throws EngineException {@link EngineException.Reason#CORRUPT_MODEL} when the engine cannot parse it,
     *                         {@link EngineException.Reason#UNSUPPORTED} when it needs something the engine lacks,
     *                         {@link EngineException.Reason#UNAVAILABLE} when the engine cannot run on this machine
     */
    ModelSignature inspect(byte[] model, String origin) throws EngineException;
}
