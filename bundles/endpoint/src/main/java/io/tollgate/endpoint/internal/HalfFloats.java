package io.tollgate.endpoint.internal;

/**
 * Conversions between {@code float} and the two 16-bit floating-point formats of the protocol:
 * IEEE 754 binary16 ({@code FP16}) and bfloat16 ({@code BF16}). Narrowing rounds to nearest,
 * ties to even, as numpy and the hardware do.
 *
 * <p>JSON numbers are decoded as {@code double}, narrowed to {@code float}, then to 16 bits. Rounding
 * twice is exact here: a format with p bits can be rounded through an intermediate one with at least
 * 2p + 2 bits without double-rounding errors (float has 24 ≥ 2·11 + 2, double has 53 ≥ 2·24 + 2).
 */
final class HalfFloats {
    private HalfFloats() {
    }

    /** The binary16 bits nearest to {@code value} (ties to even); overflow gives ±infinity. */
    static short toFp16(float value) {
        int bits = Float.floatToRawIntBits(value);
        int sign = (bits >>> 16) & 0x8000;
        int exponent = (bits >>> 23) & 0xff;
        int mantissa = bits & 0x7f_ffff;
        if (exponent == 0xff) {
            if (mantissa == 0) {
                return (short) (sign | 0x7c00);
            }
            // NaN: keep it quiet and keep the top payload bits
            return (short) (sign | 0x7e00 | (mantissa >>> 13));
        }
        int halfExponent = exponent - 127 + 15;
        if (halfExponent >= 0x1f) {
            return (short) (sign | 0x7c00);
        }
        if (halfExponent <= 0) {
            // binary16 subnormal: value = m * 2^-24 with m = significand >> shift
            int shift = 14 - halfExponent;
            if (shift > 24) {
                return (short) sign; // below half of the smallest subnormal: rounds to (signed) zero
            }
            int significand = mantissa | 0x80_0000;
            int m = significand >>> shift;
            int rest = significand & ((1 << shift) - 1);
            int halfway = 1 << (shift - 1);
            if (rest > halfway || (rest == halfway && (m & 1) != 0)) {
                m++; // may carry into the smallest normal (0x0400), which is the right encoding
            }
            return (short) (sign | m);
        }
        int half = sign | (halfExponent << 10) | (mantissa >>> 13);
        int rest = mantissa & 0x1fff;
        if (rest > 0x1000 || (rest == 0x1000 && (half & 1) != 0)) {
            half++; // a carry out of the mantissa bumps the exponent; past 65504 it reaches infinity (0x7c00)
        }
        return (short) half;
    }

    /** The float a binary16 value stands for (exact). */
    static float fromFp16(short half) {
        int h = half & 0xffff;
        int sign = (h & 0x8000) << 16;
        int exponent = (h >>> 10) & 0x1f;
        int mantissa = h & 0x3ff;
        if (exponent == 0) {
            float magnitude = mantissa * 0x1p-24f;
            return sign != 0 ? -magnitude : magnitude;
        }
        if (exponent == 0x1f) {
            return Float.intBitsToFloat(sign | 0x7f80_0000 | (mantissa << 13));
        }
        return Float.intBitsToFloat(sign | ((exponent - 15 + 127) << 23) | (mantissa << 13));
    }

    /** The bfloat16 bits nearest to {@code value} (ties to even); overflow gives ±infinity. */
    static short toBf16(float value) {
        int bits = Float.floatToRawIntBits(value);
        if ((bits & 0x7fff_ffff) > 0x7f80_0000) {
            return (short) ((bits >>> 16) | 0x0040); // NaN: keep it a quiet NaN after truncation
        }
        int lsb = (bits >>> 16) & 1;
        return (short) ((bits + 0x7fff + lsb) >>> 16);
    }

    /** The float a bfloat16 value stands for (exact). */
    static float fromBf16(short bf16) {
        return Float.intBitsToFloat((bf16 & 0xffff) << 16);
    }
}
