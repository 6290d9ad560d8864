package io.tollgate.engine.tensorrt.internal;

import io.tollgate.engine.spi.EngineException;
import io.tollgate.engine.spi.EngineException.Reason;
import io.tollgate.model.DataType;
import io.tollgate.model.ModelDescriptor;
import io.tollgate.model.TensorSpec;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.tensorrt.global.nvinfer;
import org.bytedeco.tensorrt.global.nvonnxparser;
import org.bytedeco.tensorrt.nvinfer.Dims64;
import org.bytedeco.tensorrt.nvinfer.IBuilder;
import org.bytedeco.tensorrt.nvinfer.IBuilderConfig;
import org.bytedeco.tensorrt.nvinfer.IHostMemory;
import org.bytedeco.tensorrt.nvinfer.INetworkDefinition;
import org.bytedeco.tensorrt.nvinfer.IOptimizationProfile;
import org.bytedeco.tensorrt.nvinfer.ITensor;
import org.bytedeco.tensorrt.nvonnxparser.IParser;

/**
 * Builds a serialized TensorRT engine (a plan) from ONNX bytes with TensorRT's ONNX parser. Runs on the serving
 * loader thread that loads the model; takes seconds on a desktop GPU and minutes on a Jetson.
 *
 * <p>Precision: TensorRT 11 builds strongly typed networks only (the FP16/INT8 builder flags are gone), so the
 * precision is the model's own: an {@code fp16} or {@code int8} plugin ships an ONNX model already converted or
 * quantized (Q/DQ nodes), and the precision names the cache entry and the prebuilt engine it matches.
 * NOT RUN on real hardware yet (docs/hardware.md, "Verifying on real hardware").
 */
final class TensorRtBuilder {
    private TensorRtBuilder() {
    }

    /**
     * @param dlaCore        DLA core to build for, or -1 for the GPU
     * @param workspaceBytes TensorRT's workspace memory pool limit
     * @param status         receives build progress lines under {@code origin}
     * @throws EngineException {@link Reason#CORRUPT_MODEL} when the ONNX parser rejects the bytes,
     *                         {@link Reason#UNSUPPORTED} when TensorRT cannot build it (an operator, a dynamic
     *                         dimension without bound)
     */
    static byte[] build(ModelDescriptor descriptor, byte[] onnx, int dlaCore, long workspaceBytes, String origin,
                        Map<String, String> status) throws EngineException {
        TrtLogger logger = new TrtLogger();
        try (IBuilder builder = nvinfer.createInferBuilder(logger);
             INetworkDefinition network = builder.createNetworkV2(
                     1 << nvinfer.NetworkDefinitionCreationFlag.kSTRONGLY_TYPED.value);
             IParser parser = nvonnxparser.createParser(network, logger);
             BytePointer bytes = new BytePointer(onnx)) {
            if (!parser.parse(bytes, onnx.length)) {
                List<String> errors = new ArrayList<>();
                for (int i = 0; i < parser.getNbErrors(); i++) {
                    errors.add(parser.getError(i).desc());
                }
                throw new EngineException(Reason.UNSUPPORTED, "model " + origin + ": TensorRT's ONNX parser refused"
                        + " the model: " + errors);
            }
            List<TensorSpec> inputs = new ArrayList<>();
            for (int i = 0; i < network.getNbInputs(); i++) {
                ITensor t = network.getInput(i);
                inputs.add(new TensorSpec(t.getName(), DataType.FP32, shape(t.getDimensions())));
            }
            List<OptimizationProfiles.InputRange> ranges = OptimizationProfiles.of(descriptor, inputs, origin);
            try (IBuilderConfig config = builder.createBuilderConfig()) {
                config.setMemoryPoolLimit(nvinfer.MemoryPoolType.kWORKSPACE, workspaceBytes);
                if (ranges.stream().anyMatch(OptimizationProfiles.InputRange::dynamic)) {
                    IOptimizationProfile profile = builder.createOptimizationProfile();
                    for (OptimizationProfiles.InputRange r : ranges) {
                        profile.setDimensions(r.name(), nvinfer.OptProfileSelector.kMIN, dims(r.min()));
                        profile.setDimensions(r.name(), nvinfer.OptProfileSelector.kOPT, dims(r.opt()));
                        profile.setDimensions(r.name(), nvinfer.OptProfileSelector.kMAX, dims(r.max()));
                    }
                    config.addOptimizationProfile(profile);
                }
                if (dlaCore >= 0) {
                    config.setDefaultDeviceType(nvinfer.DeviceType.kDLA);
                    config.setDLACore(dlaCore);
                    config.setFlag(nvinfer.BuilderFlag.kGPU_FALLBACK);
                }
                try (BuildProgress progress = new BuildProgress(origin, dlaCore >= 0 ? "dla:" + dlaCore : "gpu",
                        status, 15_000);
                     IHostMemory plan = builder.buildSerializedNetwork(network, config)) {
                    if (plan == null || plan.isNull() || plan.size() == 0) {
                        throw new EngineException(Reason.UNSUPPORTED, "model " + origin + ": TensorRT could not build"
                                + " an engine (its errors are in the log above); profile " + ranges);
                    }
                    byte[] out = new byte[Math.toIntExact(plan.size())];
                    new BytePointer(plan.data()).capacity(plan.size()).get(out);
                    return out;
                }
            }
        }
    }

    static long[] shape(Dims64 dims) {
        long[] shape = new long[dims.nbDims()];
        for (int i = 0; i < shape.length; i++) {
            shape[i] = dims.d(i);
        }
        return shape;
    }

    static Dims64 dims(long[] shape) {
        Dims64 dims = new Dims64();
        dims.nbDims(shape.length);
        for (int i = 0; i < shape.length; i++) {
            dims.d(i, shape[i]);
        }
        return dims;
    }
}
