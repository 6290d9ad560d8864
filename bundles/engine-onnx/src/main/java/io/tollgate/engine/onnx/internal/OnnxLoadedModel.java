package io.tollgate.engine.onnx.internal;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OnnxValue;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import io.tollgate.engine.spi.EngineException.Reason;
import io.tollgate.engine.spi.EngineException;
import io.tollgate.engine.spi.LoadedModel;
import io.tollgate.engine.spi.ModelSignature;
import io.tollgate.model.Tensor;
import io.tollgate.model.TensorSpec;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.locks.ReadWriteLock;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A model held in an ONNX Runtime session.
 *
 * <p>Threads: {@link #run} is called concurrently by serving threads; {@code OrtSession.run} is
 * thread-safe and every call builds and frees its own tensors. Runs hold the read side of a lock and
 * {@link #close} the write side, so the native session is never freed under a running call (which
 * would crash the JVM rather than throw) even if a caller breaks the "close after the last run" rule.
 */
final class OnnxLoadedModel implements LoadedModel {
    private static final Logger LOG = LoggerFactory.getLogger(OnnxLoadedModel.class);

    private final OrtEnvironment env;
    private final OrtSession session;
    private final String origin;
    private final String accelerator;
    private final List<TensorSpec> inputs;
    private final List<TensorSpec> outputs;
    private final Map<String, TensorSpec> inputsByName = new LinkedHashMap<>();
    private final Consumer<OnnxLoadedModel> onClose;
    private final ReadWriteLock lifecycle = new ReentrantReadWriteLock();
    private boolean closed; // guarded by lifecycle

    OnnxLoadedModel(OrtEnvironment env, OrtSession session, ModelSignature signature, String origin,
                    String accelerator, Consumer<OnnxLoadedModel> onClose) {
        this.env = env;
        this.session = session;
        this.origin = origin;
        this.accelerator = accelerator;
        this.inputs = signature.inputs();
        this.outputs = signature.outputs();
        this.onClose = onClose;
        for (TensorSpec spec : inputs) {
            inputsByName.put(spec.name(), spec);
        }
    }

    @Override
    public List<TensorSpec> inputs() {
        return inputs;
    }

    @Override
    public List<TensorSpec> outputs() {
        return outputs;
    }

    @Override
    public String accelerator() {
        return accelerator;
    }

    String origin() {
        return origin;
    }

    @Override
    public List<Tensor> run(List<Tensor> in, Set<String> requestedOutputs) throws EngineException {
        lifecycle.readLock().lock();
        try {
            if (closed) {
                throw new EngineException(Reason.UNAVAILABLE, "model " + origin
                        + " is closed (unloaded); it cannot run any more. Load it again to serve it");
            }
            Set<String> wanted = selectOutputs(requestedOutputs);
            checkInputs(in);
            try (Feed feed = new Feed()) {
                for (Tensor t : in) {
                    feed.put(t.name(), OrtTensorConverter.toOnnx(env, t, origin));
                }
                try (OrtSession.Result result = session.run(feed.tensors, wanted)) {
                    List<Tensor> out = new ArrayList<>(wanted.size());
                    for (String name : wanted) {
                        OnnxValue value = result.get(name).orElseThrow(() -> new IllegalStateException(
                                "ONNX Runtime returned no '" + name + "' although it was requested"));
                        out.add(OrtTensorConverter.fromOnnx(name, value, origin));
                    }
                    return out;
                }
            } catch (OrtException | RuntimeException e) {
                throw new EngineException(Reason.RUN_FAILED, "model " + origin + " failed in ONNX Runtime: "
                        + e.getMessage(), e);
            }
        } finally {
            lifecycle.readLock().unlock();
        }
    }

    /** Requested output names in model order; all outputs when none are requested. */
    private Set<String> selectOutputs(Set<String> requested) throws EngineException {
        Set<String> wanted = new LinkedHashSet<>();
        for (TensorSpec spec : outputs) {
            if (requested == null || requested.isEmpty() || requested.contains(spec.name())) {
                wanted.add(spec.name());
            }
        }
        if (requested != null && wanted.size() < requested.size()) {
            for (String name : requested) {
                if (!wanted.contains(name)) {
                    throw new EngineException(Reason.RUN_FAILED, "output '" + name + "' was requested but model "
                            + origin + " has no such output; its outputs are " + names(outputs));
                }
            }
        }
        return wanted;
    }

    private void checkInputs(List<Tensor> in) throws EngineException {
        Set<String> seen = new LinkedHashSet<>();
        for (Tensor t : in) {
            TensorSpec spec = inputsByName.get(t.name());
            if (spec == null) {
                throw new EngineException(Reason.RUN_FAILED, "input '" + t.name() + "' is not an input of model "
                        + origin + "; its inputs are " + names(inputs));
            }
            if (!seen.add(t.name())) {
                throw new EngineException(Reason.RUN_FAILED, "input '" + t.name() + "' is given twice");
            }
            if (t.type() != spec.type()) {
                throw new EngineException(Reason.RUN_FAILED, "input '" + t.name() + "' is " + t.type()
                        + " but model " + origin + " expects " + spec.type());
            }
            if (!spec.accepts(t.shape())) {
                throw new EngineException(Reason.RUN_FAILED, "input '" + t.name() + "' has shape "
                        + java.util.Arrays.toString(t.shape()) + " but model " + origin + " expects "
                        + java.util.Arrays.toString(spec.shape()) + " (-1 = any size)");
            }
        }
        if (seen.size() < inputs.size()) {
            List<String> missing = new ArrayList<>(inputsByName.keySet());
            missing.removeAll(seen);
            throw new EngineException(Reason.RUN_FAILED, "model " + origin + " needs input(s) " + missing
                    + " but the request has none");
        }
    }

    private static List<String> names(List<TensorSpec> specs) {
        return specs.stream().map(TensorSpec::name).toList();
    }

    /** Frees the session once; later calls do nothing. Waits for runs in progress. */
    @Override
    public void close() {
        lifecycle.writeLock().lock();
        try {
            if (closed) {
                return;
            }
            closed = true;
            try {
                session.close();
            } catch (OrtException | RuntimeException e) {
                LOG.warn("ONNX Runtime failed to free the session of model {}: {}", origin, e.toString());
            }
        } finally {
            lifecycle.writeLock().unlock();
        }
        onClose.accept(this);
        LOG.debug("closed model {}", origin);
    }

    /** The input tensors of one run; closing it frees every one of them. */
    private static final class Feed implements AutoCloseable {
        final Map<String, OnnxTensor> tensors = new LinkedHashMap<>();

        void put(String name, OnnxTensor tensor) {
            tensors.put(name, tensor);
        }

        @Override
        public void close() {
            for (OnnxTensor t : tensors.values()) {
                t.close();
            }
        }
    }
}
