package io.tollgate.engine.tensorrt.internal;

import io.tollgate.engine.spi.EngineException;
import io.tollgate.engine.spi.EngineException.Reason;
import io.tollgate.engine.spi.LoadedModel;
import io.tollgate.model.DataType;
import io.tollgate.model.Tensor;
import io.tollgate.model.TensorSpec;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;
import org.bytedeco.cuda.cudart.CUstream_st;
import org.bytedeco.cuda.global.cudart;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.Pointer;
import org.bytedeco.tensorrt.global.nvinfer;
import org.bytedeco.tensorrt.nvinfer.ICudaEngine;
import org.bytedeco.tensorrt.nvinfer.IExecutionContext;
import org.bytedeco.tensorrt.nvinfer.IRuntime;

/**
 * A deserialized TensorRT engine with one execution context and device buffers sized once, at load, for the largest
 * shapes of its optimization profile ({@code max_batch_size} rows): a run copies in, enqueues, synchronizes and
 * copies out, without allocating device memory. Runs are serialized on the one context (serving's instance count
 * gives concurrency: each instance is its own load). NOT RUN on real hardware yet (docs/hardware.md).
 */
final class TensorRtLoadedModel implements LoadedModel {
    private final String origin;
    private final String accelerator;
    private final TrtLogger logger;
    private final IRuntime runtime;
    private final ICudaEngine engine;
    private final IExecutionContext context;
    private final CUstream_st stream;
    private final List<TensorSpec> inputs;
    private final List<TensorSpec> outputs;
    private final Map<String, Pointer> buffers = new LinkedHashMap<>();
    private final Map<String, Long> capacity = new LinkedHashMap<>();
    private final Consumer<TensorRtLoadedModel> onClose;
    private boolean closed;

    /**
     * @param descriptor gives {@code max_batch_size} and declared shapes: the largest shapes buffers are sized for
     * @throws EngineException {@link Reason#CORRUPT_MODEL} when the plan does not deserialize here,
     *                         {@link Reason#RUN_FAILED} when device memory cannot be had
     */
    TensorRtLoadedModel(byte[] plan, io.tollgate.model.ModelDescriptor descriptor, String origin,
                        String accelerator, Consumer<TensorRtLoadedModel> onClose) throws EngineException {
        this.origin = origin;
        this.accelerator = accelerator;
        this.onClose = onClose;
        // TensorRT keeps calling the logger for the runtime's whole life: hold it, or the GC frees the callback
        this.logger = new TrtLogger();
        this.runtime = nvinfer.createInferRuntime(logger);
        try (BytePointer bytes = new BytePointer(plan)) {
            this.engine = runtime.deserializeCudaEngine(bytes, plan.length);
        }
        if (engine == null || engine.isNull()) {
            runtime.close();
            throw new EngineException(Reason.CORRUPT_MODEL, "model " + origin + ": TensorRT could not deserialize the"
                    + " engine (built by another TensorRT release or for another GPU?)");
        }
        this.context = engine.createExecutionContext();
        this.stream = new CUstream_st();
        check(cudart.cudaStreamCreate(stream), "cudaStreamCreate");
        List<TensorSpec> in = new ArrayList<>();
        List<TensorSpec> out = new ArrayList<>();
        // bindings sized from the descriptor: every input at its largest shape of the optimization profile, so the
        // outputs' largest shapes follow
        List<TensorSpec> engineInputs = new ArrayList<>();
        for (int i = 0; i < engine.getNbIOTensors(); i++) {
            String name = engine.getIOTensorName(i);
            if (engine.getTensorIOMode(name) == nvinfer.TensorIOMode.kINPUT) {
                engineInputs.add(new TensorSpec(name, type(engine.getTensorDataType(name)),
                        TensorRtBuilder.shape(engine.getTensorShape(name))));
            }
        }
        for (OptimizationProfiles.InputRange r : OptimizationProfiles.of(descriptor, engineInputs, origin)) {
            context.setInputShape(r.name(), TensorRtBuilder.dims(r.max()));
        }
        for (int i = 0; i < engine.getNbIOTensors(); i++) {
            String name = engine.getIOTensorName(i);
            DataType type = type(engine.getTensorDataType(name));
            long[] modelShape = TensorRtBuilder.shape(engine.getTensorShape(name));
            long[] maxShape = TensorRtBuilder.shape(context.getTensorShape(name));
            long bytes = Math.max(1, count(maxShape)) * type.byteSize();
            Pointer device = new Pointer();
            check(cudart.cudaMalloc(device, bytes), "cudaMalloc " + bytes + " bytes for '" + name + "'");
            buffers.put(name, device);
            capacity.put(name, bytes);
            context.setTensorAddress(name, device);
            (engine.getTensorIOMode(name) == nvinfer.TensorIOMode.kINPUT ? in : out)
                    .add(new TensorSpec(name, type, modelShape));
        }
        this.inputs = List.copyOf(in);
        this.outputs = List.copyOf(out);
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
    public synchronized List<Tensor> run(List<Tensor> in, Set<String> requestedOutputs) throws EngineException {
        if (closed) {
            throw new EngineException(Reason.RUN_FAILED, "model " + origin + " is closed");
        }
        for (Tensor t : in) {
            long bytes = t.data().remaining();
            if (bytes > capacity.getOrDefault(t.name(), 0L)) {
                throw new EngineException(Reason.INVALID_INPUT, "input '" + t.name() + "' of model " + origin
                        + " holds " + bytes + " bytes, more than its largest shape in the optimization profile ("
                        + capacity.get(t.name()) + " bytes); send at most max_batch_size rows");
            }
            context.setInputShape(t.name(), TensorRtBuilder.dims(t.shape()));
            byte[] data = new byte[Math.toIntExact(bytes)];
            t.data().get(data); // a view that may be read-only (no array): copy it out for javacpp
            try (BytePointer host = new BytePointer(data)) {
                check(cudart.cudaMemcpy(buffers.get(t.name()), host, bytes, cudart.cudaMemcpyHostToDevice),
                        "copy of input '" + t.name() + "'");
            }
        }
        if (!context.enqueueV3(stream)) {
            throw new EngineException(Reason.RUN_FAILED, "model " + origin + ": TensorRT refused to run (see log)");
        }
        check(cudart.cudaStreamSynchronize(stream), "cudaStreamSynchronize");
        List<Tensor> result = new ArrayList<>();
        for (TensorSpec spec : outputs) {
            if (!requestedOutputs.isEmpty() && !requestedOutputs.contains(spec.name())) {
                continue;
            }
            long[] shape = TensorRtBuilder.shape(context.getTensorShape(spec.name()));
            long bytes = count(shape) * spec.type().byteSize();
            byte[] out = new byte[Math.toIntExact(bytes)];
            try (BytePointer host = new BytePointer(bytes)) {
                check(cudart.cudaMemcpy(host, buffers.get(spec.name()), bytes, cudart.cudaMemcpyDeviceToHost),
                        "copy of output '" + spec.name() + "'");
                host.get(out);
            }
            result.add(Tensor.of(spec.name(), spec.type(), shape,
                    ByteBuffer.wrap(out).order(ByteOrder.LITTLE_ENDIAN)));
        }
        return result;
    }

    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        buffers.values().forEach(cudart::cudaFree);
        cudart.cudaStreamDestroy(stream);
        context.close();
        engine.close();
        runtime.close();
        onClose.accept(this);
    }

    private static long count(long[] shape) {
        long n = 1;
        for (long d : shape) {
            n *= Math.max(d, 0);
        }
        return n;
    }

    private void check(int rc, String what) throws EngineException {
        if (rc != cudart.cudaSuccess) {
            throw new EngineException(Reason.RUN_FAILED, "model " + origin + ": " + what + " failed: "
                    + TensorRtNatives.error(rc));
        }
    }

    static DataType type(nvinfer.DataType t) {
        return switch (t) {
            case kFLOAT -> DataType.FP32;
            case kHALF -> DataType.FP16;
            case kBF16 -> DataType.BF16;
            case kINT8 -> DataType.INT8;
            case kINT32 -> DataType.INT32;
            case kINT64 -> DataType.INT64;
            case kBOOL -> DataType.BOOL;
            case kUINT8 -> DataType.UINT8;
            default -> throw new IllegalArgumentException("TensorRT data type " + t + " has no KServe v2 equivalent");
        };
    }
}
