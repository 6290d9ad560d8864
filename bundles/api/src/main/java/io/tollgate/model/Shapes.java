package io.tollgate.model;

import java.util.Arrays;

/** Arithmetic and checks on tensor shapes; {@code -1} marks a dynamic dimension in a spec. */
public final class Shapes {
    private Shapes() {
    }

    /**
     * Number of elements a concrete shape holds.
     *
     * @throws IllegalArgumentException when a dimension is negative or the count overflows
     */
    public static long elementCount(long[] shape) {
        long n = 1;
        for (long d : shape) {
            if (d < 0) {
                throw new IllegalArgumentException("shape " + Arrays.toString(shape) + " has a negative dimension");
            }
            n = Math.multiplyExact(n, d);
        }
        return n;
    }

    /** True when {@code actual} fits {@code spec}: same rank, each spec dimension -1 or equal. */
    public static boolean matches(long[] spec, long[] actual) {
        if (spec.length != actual.length) {
            return false;
        }
        for (int i = 0; i < spec.length; i++) {
            if (spec[i] >= 0 && spec[i] != actual[i]) {
                return false;
            }
        }
        return true;
    }

    public static String toString(long[] shape) {
        return Arrays.toString(shape);
    }
}
