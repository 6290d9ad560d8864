package io.tollgate.engine.tensorrt.internal;

import io.tollgate.engine.spi.EngineException;
import io.tollgate.model.ModelDescriptor;
import io.tollgate.model.TensorSpec;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The one TensorRT optimization profile of a model: for each input, the smallest, typical and largest shape the
 * engine must accept, from the model configuration (Triton's rule for its TensorRT backend): a dynamic first dimension
 * is the batch, from 1 to {@code max_batch_size}, tuned for {@code max_batch_size}; every other dynamic dimension must
 * be fixed by the descriptor's declared shape, since TensorRT cannot build for an unbounded size.
 */
final class OptimizationProfiles {
    private OptimizationProfiles() {
    }

    /**
     * Shapes of one input in the profile.
     *
     * @param name input name
     * @param min  smallest shape accepted
     * @param opt  shape TensorRT tunes its kernels for
     * @param max  largest shape accepted
     */
    record InputRange(String name, long[] min, long[] opt, long[] max) {
        /** True when the model's own shape had a dynamic dimension (TensorRT needs a profile). */
        boolean dynamic() {
            return !Arrays.equals(min, max);
        }

        @Override
        public String toString() {
            return name + " min " + Arrays.toString(min) + " opt " + Arrays.toString(opt) + " max " + Arrays.toString(max);
        }
    }

    /**
     * The profile for {@code networkInputs} (as the ONNX parser sees them, dynamic dimensions -1).
     *
     * @param descriptor    gives {@code max_batch_size} and, for the other dynamic dimensions, the declared shapes
     * @param networkInputs the network's inputs in order
     * @param origin        names the model in messages
     * @throws EngineException {@link EngineException.Reason#UNSUPPORTED} naming the input and dimension when a
     *                         dynamic dimension has no size in the model configuration
     */
    static List<InputRange> of(ModelDescriptor descriptor, List<TensorSpec> networkInputs, String origin)
            throws EngineException {
        List<InputRange> ranges = new ArrayList<>();
        for (TensorSpec input : networkInputs) {
            long[] model = input.shape();
            long[] declared = declared(descriptor, input.name());
            long[] min = new long[model.length];
            long[] opt = new long[model.length];
            long[] max = new long[model.length];
            for (int d = 0; d < model.length; d++) {
                long size = model[d] >= 0 ? model[d] : declared != null && declared.length == model.length
                        && declared[d] >= 0 ? declared[d] : -1;
                if (size >= 0) {
                    min[d] = opt[d] = max[d] = size;
                } else if (d == 0 && descriptor.maxBatchSize() > 0) {
                    min[d] = 1;
                    opt[d] = descriptor.maxBatchSize();
                    max[d] = descriptor.maxBatchSize();
                } else {
                    throw new EngineException(EngineException.Reason.UNSUPPORTED, "model " + origin + " input '"
                            + input.name() + "' has shape " + Arrays.toString(model) + ": dimension " + d + " is dynamic"
                            + (d == 0 ? " and max_batch_size is 0" : "") + ", and TensorRT needs a bound for it; declare"
                            + " the input's shape with that size in model.json" + (d == 0 ? " or set max_batch_size" : ""));
                }
            }
            ranges.add(new InputRange(input.name(), min, opt, max));
        }
        return ranges;
    }

    private static long[] declared(ModelDescriptor descriptor, String name) {
        return descriptor.inputs().stream().filter(s -> s.name().equals(name)).map(TensorSpec::shape).findFirst()
                .orElse(null);
    }
}
