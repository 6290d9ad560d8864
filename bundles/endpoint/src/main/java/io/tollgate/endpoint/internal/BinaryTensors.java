package io.tollgate.endpoint.internal;

import io.tollgate.model.DataType;
import io.tollgate.model.Tensor;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;

/**
 * The binary tensor data extension's layout (as Triton defines it): fixed-size elements raw, little-endian,
 * row-major; {@code BYTES} elements each as a 4-byte little-endian length followed by the bytes.
 */
final class BinaryTensors {
    private BinaryTensors() {
    }

    /**
     * The tensor at {@code section[offset, offset + size)} (indices from the section's position). A fixed-size tensor
     * shares the section's memory (no copy).
     */
    static Tensor read(String name, DataType type, long[] shape, ByteBuffer section, int offset, int size)
            throws RequestException {
        long count = TensorJsonReader.elementCount(name, shape);
        ByteBuffer slice = section.slice().position(offset).limit(offset + size).slice().order(ByteOrder.LITTLE_ENDIAN);
        if (type != DataType.BYTES) {
            long expected;
            try {
                expected = Math.multiplyExact(count, (long) type.byteSize());
            } catch (ArithmeticException e) {
                expected = -1;   // more bytes than a long counts: certainly not what was sent
            }
            if (expected != size) {
                throw RequestException.badRequest("input '" + name + "': shape " + JsonBodies.shape(shape) + " of "
                        + type + " needs " + (expected < 0 ? "more than 2^63" : Long.toString(expected))
                        + " bytes of binary data but binary_data_size is " + size);
            }
            return Tensor.of(name, type, shape, slice);
        }
        List<byte[]> elements = new ArrayList<>((int) Math.min(count, size / 4 + 1));
        while (slice.hasRemaining()) {
            if (slice.remaining() < 4) {
                throw RequestException.badRequest("input '" + name + "': binary BYTES element " + elements.size()
                        + " is cut off inside its 4-byte length prefix");
            }
            int length = slice.getInt();
            if (length < 0 || length > slice.remaining()) {
                throw RequestException.badRequest("input '" + name + "': binary BYTES element " + elements.size()
                        + " claims " + Integer.toUnsignedString(length) + " bytes but " + slice.remaining()
                        + " are left");
            }
            byte[] e = new byte[length];
            slice.get(e);
            elements.add(e);
        }
        if (elements.size() != count) {
            throw RequestException.badRequest("input '" + name + "': shape " + JsonBodies.shape(shape) + " needs "
                    + count + " elements but the binary data has " + elements.size());
        }
        return Tensor.ofBytes(name, shape, elements);
    }

    /** The bytes {@code t} takes in the binary layout. */
    static long size(Tensor t) {
        if (t.type() != DataType.BYTES) {
            return t.data().remaining();
        }
        long total = 0;
        for (byte[] e : t.strings()) {
            total += 4 + e.length;
        }
        return total;
    }

    /** Writes {@code t}'s elements in the binary layout at {@code out}'s position ({@link #size} bytes). */
    static void write(Tensor t, ByteBuffer out) {
        if (t.type() != DataType.BYTES) {
            out.put(t.data().duplicate());
            return;
        }
        ByteOrder order = out.order();
        out.order(ByteOrder.LITTLE_ENDIAN);
        for (byte[] e : t.strings()) {
            out.putInt(e.length).put(e);
        }
        out.order(order);
    }
}
