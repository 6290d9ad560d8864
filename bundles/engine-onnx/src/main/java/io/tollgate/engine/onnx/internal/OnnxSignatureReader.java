package io.tollgate.engine.onnx.internal;

import ai.onnxruntime.NodeInfo;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException.OrtErrorCode;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession.SessionOptions.OptLevel;
import ai.onnxruntime.OrtSession.SessionOptions;
import ai.onnxruntime.OrtSession;
import io.tollgate.engine.spi.EngineException.Reason;
import io.tollgate.engine.spi.EngineException;
import io.tollgate.engine.spi.ModelSignature;
import io.tollgate.model.TensorSpec;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * Reads an ONNX model's signature (inputs, outputs, custom metadata) with ONNX Runtime; offline tools reach it
 * through the exported {@link io.tollgate.engine.onnx.OnnxModelInspector}. Also the one place that opens sessions
 * and turns ORT load errors into {@link EngineException}s, for {@link OnnxEngine}.
 */
public final class OnnxSignatureReader {
    /** ORT's session configuration key: the folder external data of a model loaded from bytes is read from. */
    static final String EXTERNAL_DATA_FOLDER = "session.model_external_initializers_file_folder_path";

    private OnnxSignatureReader() {
    }

    /** An empty folder of this JVM's own, made on first use (0700 in the temp folder) and removed at exit. */
    private static final class NoExternalData {
        static final Path FOLDER = make();

        private static Path make() {
            try {
                Path folder = Files.createTempDirectory("tollgate-no-external-data");
                folder.toFile().deleteOnExit();
                return folder;
            } catch (IOException e) {
                throw new UncheckedIOException("cannot make an empty temp folder for ONNX Runtime: " + e.getMessage(), e);
            }
        }
    }

    /**
     * Reads the signature of the model in {@code model}.
     *
     * @throws EngineException {@link Reason#CORRUPT_MODEL} when ONNX Runtime cannot parse it,
     *                         {@link Reason#UNSUPPORTED} when it needs something ORT or Tollgate lacks
     *                         (unknown operator, non-tensor or complex-typed inputs/outputs),
     *                         {@link Reason#UNAVAILABLE} when ONNX Runtime's native library cannot load here
     */
    public static ModelSignature read(byte[] model) throws EngineException {
        return read(model, "(" + model.length + " bytes)");
    }

    /** As {@link #read(byte[])}, naming the model {@code origin} (e.g. its file name) in messages. */
    public static ModelSignature read(byte[] model, String origin) throws EngineException {
        OrtEnvironment env = environment();
        try (SessionOptions options = new SessionOptions()) {
            // Only the signature is wanted: skip graph optimization and keep the session small.
            options.setOptimizationLevel(OptLevel.NO_OPT);
            options.setIntraOpNumThreads(1);
            options.setInterOpNumThreads(1);
            OrtSession session = open(env, model, options, origin);
            try {
                return signatureOf(session, origin);
            } finally {
                session.close();
            }
        } catch (OrtException e) {
            throw new EngineException(Reason.UNAVAILABLE, "ONNX Runtime failed while reading model " + origin + ": "
                    + e.getMessage(), e);
        }
    }

    /**
     * The shared ORT environment, loading ORT's native library on first use.
     *
     * @throws EngineException {@link Reason#UNAVAILABLE} when the native library cannot load on this platform
     */
    private static volatile boolean telemetryOff;

    static OrtEnvironment environment() throws EngineException {
        try {
            OrtEnvironment env = OrtEnvironment.getEnvironment();
            if (!telemetryOff) {
                // telemetry events off (an appliance never phones home). ORT 1.29 still writes a device id and
                // an event store under $XDG_CACHE_HOME or $HOME/.cache when the environment is made, so bin/tollgate
                // points those at the data folder and sets ORT_TELEMETRY_DISABLED (docs/operations.md)
                try {
                    env.setTelemetry(false);
                } catch (ai.onnxruntime.OrtException | RuntimeException e) {
                    org.slf4j.LoggerFactory.getLogger(OnnxSignatureReader.class).warn("cannot turn ONNX Runtime's"
                            + " telemetry off: {}", e.getMessage());
                }
                telemetryOff = true;
            }
            return env;
        } catch (RuntimeException | LinkageError e) {
            throw new EngineException(Reason.UNAVAILABLE, "ONNX Runtime's native library could not be loaded on "
                    + System.getProperty("os.name") + "/" + System.getProperty("os.arch") + ": " + e
                    + "; ORT 1.29 ships natives for linux-x64, linux-aarch64, osx-aarch64 and win-x64"
                    + " (glibc Linux only)", e);
        }
    }

    /** Creates a session, mapping ORT's load errors to {@link Reason#CORRUPT_MODEL} or {@link Reason#UNSUPPORTED}. */
    static OrtSession open(OrtEnvironment env, byte[] model, SessionOptions options, String origin)
            throws EngineException {
        Optional<List<String>> external = OnnxExternalData.references(model);
        if (external.isPresent() && !external.get().isEmpty()) {
            throw new EngineException(Reason.UNSUPPORTED, "model " + origin + " " + OnnxExternalData.refusal(external.get()));
        }
        OrtSession session = create(env, model, options, origin);
        if (external.isEmpty()) {
            // ORT opened what the scan could not read: its tensors are unchecked, so it is refused all the same.
            try {
                session.close();
            } catch (OrtException e) {
                // refused either way
            }
            throw new EngineException(Reason.CORRUPT_MODEL, "model " + origin + " could not be checked for tensor"
                    + " data outside the model file (its protobuf is malformed or nested too deep); re-export it");
        }
        return session;
    }

    /** Opens a session without the scan: {@link #open} and the backstop's test only. */
    static OrtSession create(OrtEnvironment env, byte[] model, SessionOptions options, String origin)
            throws EngineException {
        try {
            // Backstop for the scan above: ORT resolves external data of a model given as bytes against this
            // folder (else the working directory), and it is empty (ORT 1.29 refuses absolute and escaping paths).
            options.addConfigEntry(EXTERNAL_DATA_FOLDER, NoExternalData.FOLDER.toString());
            return env.createSession(model, options);
        } catch (OrtException e) {
            String message = e.getMessage();
            if (unsupported(e)) {
                throw new EngineException(Reason.UNSUPPORTED, "model " + origin + " needs something ONNX Runtime "
                        + env.getVersion() + " does not have: " + message, e);
            }
            throw new EngineException(Reason.CORRUPT_MODEL, "model " + origin
                    + " could not be loaded by ONNX Runtime: " + message, e);
        }
    }

    /** Maps a session's inputs, outputs and custom metadata. */
    static ModelSignature signatureOf(OrtSession session, String origin) throws EngineException {
        try {
            return new ModelSignature(specs(session.getInputInfo(), "input", origin),
                    specs(session.getOutputInfo(), "output", origin), session.getMetadata().getCustomMetadata());
        } catch (OrtException e) {
            throw new EngineException(Reason.CORRUPT_MODEL, "model " + origin
                    + " loaded but ONNX Runtime could not describe its inputs/outputs: " + e.getMessage(), e);
        }
    }

    private static List<TensorSpec> specs(Map<String, NodeInfo> nodes, String role, String origin)
            throws EngineException {
        List<TensorSpec> out = new ArrayList<>(nodes.size());
        for (NodeInfo node : nodes.values()) { // ORT returns these in model order
            out.add(OrtTensorConverter.spec(node.getName(), node.getInfo(), role, origin));
        }
        return out;
    }

    /** Whether a load failure means "valid model, missing feature" rather than "broken file". */
    private static boolean unsupported(OrtException e) {
        if (e.getCode() == OrtErrorCode.ORT_NOT_IMPLEMENTED) {
            return true;
        }
        String m = String.valueOf(e.getMessage()).toLowerCase(Locale.ROOT);
        return m.contains("is not a registered function/op") || m.contains("no op registered")
                || m.contains("unsupported model ir version") || m.contains("opset") && m.contains("not supported")
                || m.contains("could not find an implementation");
    }
}
