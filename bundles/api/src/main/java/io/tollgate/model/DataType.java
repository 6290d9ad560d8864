package io.tollgate.model;

import java.util.Locale;

/**
 * Tensor element types, named as the Open Inference Protocol (KServe v2) names them.
 * Fixed-size types are stored little-endian, {@link #byteSize()} bytes per element;
 * {@link #BYTES} elements are variable-length byte strings.
 */
public enum DataType {
    BOOL(1), UINT8(1), UINT16(2), UINT32(4), UINT64(8),
    INT8(1), INT16(2), INT32(4), INT64(8),
    FP16(2), FP32(4), FP64(8), BF16(2),
    BYTES(-1);

    private final int byteSize;

    DataType(int byteSize) {
        this.byteSize = byteSize;
    }

    /** Bytes per element, or -1 for {@link #BYTES}. */
    public int byteSize() {
        return byteSize;
    }

    public boolean isFixedSize() {
        return byteSize > 0;
    }

    /**
     * Parses a protocol datatype name ("FP32", case-insensitive).
     *
     * @throws IllegalArgumentException naming the accepted values when {@code name} is not one
     */
    public static DataType parse(String name) {
        if (name == null) {
            throw new IllegalArgumentException("datatype is missing; expected one of " + java.util.Arrays.toString(values()));
        }
        try {
            return valueOf(name.trim().toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("unknown datatype '" + name + "'; expected one of "
                    + java.util.Arrays.toString(values()), e);
        }
    }
}
