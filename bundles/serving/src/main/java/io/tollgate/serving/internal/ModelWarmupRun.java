package io.tollgate.serving.internal;

import io.tollgate.engine.spi.EngineException;
import io.tollgate.engine.spi.LoadedModel;
import io.tollgate.model.DataType;
import io.tollgate.model.ModelDescriptor;
import io.tollgate.model.Shapes;
import io.tollgate.model.Tensor;
import io.tollgate.model.TensorSpec;
import io.tollgate.serving.ModelConfig;
import io.tollgate.serving.ModelConfig.ModelWarmup;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs a freshly loaded model version's warm-up samples ({@link ModelConfig#modelWarmup()}, Triton's
 * {@code model_warmup}) straight on its {@link LoadedModel}, before the version is READY: ONNX Runtime's first runs
 * allocate its arenas and the JIT compiles the run path, so without this the first requests after READY are the slow
 * ones (issue 11: ~0.2 of steady throughput in the first 10 s). The runs bypass the scheduler, the journal and the
 * statistics: they are not metered and not counted.
 *
 * <p>Each sample runs {@code count} times per instance ({@code instance_group} count; the instances share one engine
 * session, so the runs are sequential). Inputs: the model's, each variable dimension 1 and the batch dimension
 * {@code batch_size}; zeros, or random values ({@code random_data}). Runs on the caller's thread (the loader thread).
 */
final class ModelWarmupRun {
    private static final Logger LOG = LoggerFactory.getLogger(ModelWarmupRun.class);

    private ModelWarmupRun() {
    }

    /**
     * Runs every sample of {@code config} on {@code model}.
     *
     * @param effective the descriptor as the loaded model declares it (inputs with their shapes)
     * @param label     the version, for the log ("model 'm' 1.0.0")
     * @throws EngineException when a configured sample's run fails (the load fails, as in Triton); a failure of the
     *                         built-in default sample is logged at WARN instead, since it was not asked for (a model with
     *                         variable spatial dimensions may refuse 1)
     */
    static void run(LoadedModel model, ModelDescriptor effective, ModelConfig config, String label)
            throws EngineException {
        if (config == null || config.modelWarmup().isEmpty()) {
            return;
        }
        int instances = Math.max(1, config.instanceCount());
        for (ModelWarmup sample : config.modelWarmup()) {
            long started = System.nanoTime();
            int runs = sample.count() * instances;
            try {
                List<Tensor> inputs = inputs(effective, sample);
                for (int i = 0; i < runs; i++) {
                    model.run(inputs, Set.of());
                }
            } catch (EngineException | IllegalArgumentException | ArithmeticException e) {
                String why = label + ": warm-up '" + sample.name() + "' (batch " + sample.batchSize() + ") failed: "
                        + e.getMessage();
                if (ModelConfigs.DEFAULT_WARMUP_NAME.equals(sample.name())) {
                    LOG.warn("{}; the model serves without warm-up (set model_warmup in conf/models/{}.json, or [] to"
                            + " skip it)", why, effective.name());
                    continue;
                }
                throw new EngineException(EngineException.Reason.RUN_FAILED, why
                        + " (fix or remove model_warmup in the plugin descriptor or conf/models/" + effective.name()
                        + ".json)", e);
            }
            LOG.info("{}: warm-up '{}' ran {} times (batch {}, {} data) in {} ms, before READY; not metered", label,
                    sample.name(), runs, sample.batchSize(), sample.randomData() ? "random" : "zero",
                    TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started));
        }
    }

    /** One tensor per model input for {@code sample}. */
    static List<Tensor> inputs(ModelDescriptor effective, ModelWarmup sample) {
        SplittableRandom random = new SplittableRandom(42);
        List<Tensor> out = new ArrayList<>();
        for (TensorSpec spec : effective.inputs()) {
            long[] shape = spec.shape().clone();
            for (int d = 0; d < shape.length; d++) {
                if (d == 0 && effective.maxBatchSize() > 0) {
                    shape[d] = sample.batchSize();
                } else if (shape[d] < 0) {
                    shape[d] = 1;
                }
            }
            int elements = Math.toIntExact(Shapes.elementCount(shape));
            if (spec.type() == DataType.BYTES) {
                List<byte[]> values = new ArrayList<>(Collections.nCopies(elements, new byte[0]));
                if (sample.randomData()) {
                    for (int i = 0; i < elements; i++) {
                        values.set(i, Integer.toString(random.nextInt(1000)).getBytes(StandardCharsets.US_ASCII));
                    }
                }
                out.add(Tensor.ofBytes(spec.name(), shape, values));
                continue;
            }
            ByteBuffer data = ByteBuffer.allocate(Math.multiplyExact(elements, spec.type().byteSize()))
                    .order(ByteOrder.LITTLE_ENDIAN);
            if (sample.randomData()) {
                fillRandom(data, spec.type(), elements, random);
            }
            data.clear();
            out.add(Tensor.of(spec.name(), spec.type(), shape, data));
        }
        return out;
    }

    /** Random values a model can take: [0, 1) for floating point (no NaN), 0/1 for BOOL, random bits otherwise. */
    private static void fillRandom(ByteBuffer data, DataType type, int elements, SplittableRandom random) {
        for (int i = 0; i < elements; i++) {
            switch (type) {
                case FP32 -> data.putFloat(random.nextFloat());
                case FP64 -> data.putDouble(random.nextDouble());
                case FP16 -> data.putShort((short) 0x3800);            // 0.5
                case BF16 -> data.putShort((short) 0x3F00);            // 0.5
                case BOOL -> data.put((byte) random.nextInt(2));
                default -> {
                    for (int b = 0; b < type.byteSize(); b++) {
                        data.put((byte) random.nextInt(256));
                    }
                }
            }
        }
    }
}
