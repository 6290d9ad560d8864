package io.tollgate.model;

import java.util.Arrays;
import java.util.Objects;

/**
 * What a model input or output looks like: name, element type and shape, where {@code -1} marks
 * a dynamic dimension (usually the batch).
 */
public record TensorSpec(String name, DataType type, long[] shape) {
    public TensorSpec {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(type, "type");
        shape = shape.clone();
    }

    @Override
    public long[] shape() {
        return shape.clone();
    }

    /** Whether a tensor of this concrete shape fits this spec. */
    public boolean accepts(long[] concrete) {
        return Shapes.matches(shape, concrete);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof TensorSpec s && name.equals(s.name) && type == s.type && Arrays.equals(shape, s.shape);
    }

    @Override
    public int hashCode() {
        return Objects.hash(name, type, Arrays.hashCode(shape));
    }

    @Override
    public String toString() {
        return name + ":" + type + Arrays.toString(shape);
    }
}
