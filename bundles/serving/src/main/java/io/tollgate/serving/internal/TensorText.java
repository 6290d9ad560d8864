package io.tollgate.serving.internal;

import io.tollgate.model.TensorSpec;
import java.util.List;
import java.util.stream.Collectors;

/** How messages write shapes and tensor specs: compact, e.g. {@code [-1,1,28,28]} and {@code image:FP32[-1,1,28,28]}. */
final class TensorText {
    private TensorText() {
    }

    static String shape(long[] shape) {
        StringBuilder b = new StringBuilder(shape.length * 4 + 2).append('[');
        for (int i = 0; i < shape.length; i++) {
            if (i > 0) {
                b.append(',');
            }
            b.append(shape[i]);
        }
        return b.append(']').toString();
    }

    static String spec(TensorSpec spec) {
        return spec.name() + ":" + spec.type() + shape(spec.shape());
    }

    static String specs(List<TensorSpec> specs) {
        return specs.stream().map(TensorText::spec).collect(Collectors.joining(", ", "[", "]"));
    }

    static String names(List<TensorSpec> specs) {
        return specs.stream().map(TensorSpec::name).collect(Collectors.joining(", ", "[", "]"));
    }
}
