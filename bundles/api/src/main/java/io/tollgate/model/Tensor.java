package io.tollgate.model;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Objects;

/**
 * A named, typed, shaped tensor. Fixed-size types hold their elements in a little-endian
 * {@link ByteBuffer} (row-major); {@link DataType#BYTES} holds one byte string per element.
 * Instances are immutable: accessors hand out read-only views and copies.
 */
public final class Tensor {
    private final String name;
    private final DataType type;
    private final long[] shape;
    private final ByteBuffer data;        // fixed-size types, little-endian, position 0
    private final List<byte[]> strings;   // BYTES only

    private Tensor(String name, DataType type, long[] shape, ByteBuffer data, List<byte[]> strings) {
        this.name = Objects.requireNonNull(name, "name");
        this.type = Objects.requireNonNull(type, "type");
        this.shape = shape.clone();
        this.data = data;
        this.strings = strings;
    }

    /**
     * A fixed-size tensor over {@code littleEndianData} (from its position to its limit).
     *
     * @throws IllegalArgumentException when the byte count does not match the shape and type
     */
    public static Tensor of(String name, DataType type, long[] shape, ByteBuffer littleEndianData) {
        if (type == DataType.BYTES) {
            throw new IllegalArgumentException("tensor '" + name + "': use ofBytes for BYTES");
        }
        long expected = Math.multiplyExact(Shapes.elementCount(shape), type.byteSize());
        ByteBuffer slice = littleEndianData.slice().order(ByteOrder.LITTLE_ENDIAN);
        if (slice.remaining() != expected) {
            throw new IllegalArgumentException("tensor '" + name + "' of type " + type + " and shape "
                    + Arrays.toString(shape) + " needs " + expected + " bytes but has " + slice.remaining());
        }
        return new Tensor(name, type, shape, slice.asReadOnlyBuffer().order(ByteOrder.LITTLE_ENDIAN), null);
    }

    /** A {@link DataType#BYTES} tensor; one byte string per element. */
    public static Tensor ofBytes(String name, long[] shape, List<byte[]> elements) {
        long expected = Shapes.elementCount(shape);
        if (elements.size() != expected) {
            throw new IllegalArgumentException("tensor '" + name + "' of shape " + Arrays.toString(shape)
                    + " needs " + expected + " elements but has " + elements.size());
        }
        List<byte[]> copy = new ArrayList<>(elements.size());
        for (byte[] e : elements) {
            copy.add(e.clone());
        }
        return new Tensor(name, DataType.BYTES, shape, null, Collections.unmodifiableList(copy));
    }

    public static Tensor ofFloats(String name, long[] shape, float[] values) {
        ByteBuffer b = allocate(values.length, 4);
        b.asFloatBuffer().put(values);
        return of(name, DataType.FP32, shape, b);
    }

    public static Tensor ofDoubles(String name, long[] shape, double[] values) {
        ByteBuffer b = allocate(values.length, 8);
        b.asDoubleBuffer().put(values);
        return of(name, DataType.FP64, shape, b);
    }

    public static Tensor ofInts(String name, long[] shape, int[] values) {
        ByteBuffer b = allocate(values.length, 4);
        b.asIntBuffer().put(values);
        return of(name, DataType.INT32, shape, b);
    }

    public static Tensor ofLongs(String name, long[] shape, long[] values) {
        ByteBuffer b = allocate(values.length, 8);
        b.asLongBuffer().put(values);
        return of(name, DataType.INT64, shape, b);
    }

    private static ByteBuffer allocate(int count, int size) {
        return ByteBuffer.allocate(Math.multiplyExact(count, size)).order(ByteOrder.LITTLE_ENDIAN);
    }

    public String name() {
        return name;
    }

    public DataType type() {
        return type;
    }

    public long[] shape() {
        return shape.clone();
    }

    /** Size of the first dimension (the batch), or 1 for a scalar. */
    public long batchSize() {
        return shape.length == 0 ? 1 : shape[0];
    }

    public long elementCount() {
        return Shapes.elementCount(shape);
    }

    /** Read-only little-endian view of the elements; fixed-size types only. */
    public ByteBuffer data() {
        if (data == null) {
            throw new IllegalStateException("tensor '" + name + "' is BYTES; use strings()");
        }
        return data.duplicate().order(ByteOrder.LITTLE_ENDIAN);
    }

    /** The byte-string elements; {@link DataType#BYTES} only. Callers must not modify the arrays. */
    public List<byte[]> strings() {
        if (strings == null) {
            throw new IllegalStateException("tensor '" + name + "' is " + type + ", not BYTES");
        }
        return strings;
    }

    public float[] toFloats() {
        requireType(DataType.FP32);
        float[] out = new float[(int) elementCount()];
        data().asFloatBuffer().get(out);
        return out;
    }

    /** The same data under another name. */
    public Tensor rename(String newName) {
        return new Tensor(newName, type, shape, data, strings);
    }

    private void requireType(DataType expected) {
        if (type != expected) {
            throw new IllegalStateException("tensor '" + name + "' is " + type + ", not " + expected);
        }
    }

    @Override
    public String toString() {
        return "Tensor[" + name + ", " + type + ", " + Arrays.toString(shape) + "]";
    }
}
