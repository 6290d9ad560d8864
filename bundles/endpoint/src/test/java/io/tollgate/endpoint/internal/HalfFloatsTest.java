package io.tollgate.endpoint.internal;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import org.junit.Test;

public class HalfFloatsTest {
    private static int fp16(float f) {
        return HalfFloats.toFp16(f) & 0xffff;
    }

    private static int bf16(float f) {
        return HalfFloats.toBf16(f) & 0xffff;
    }

    @Test
    public void fp16SpecialValues() {
        assertEquals(0x0000, fp16(0f));
        assertEquals(0x8000, fp16(-0f));
        assertEquals(0x3c00, fp16(1f));
        assertEquals(0xc000, fp16(-2f));
        assertEquals(0x7bff, fp16(65504f));          // largest finite
        assertEquals(0xfbff, fp16(-65504f));
        assertEquals(0x7bff, fp16(65519.99f));       // below the midpoint to infinity
        assertEquals(0x7c00, fp16(65520f));          // the midpoint rounds (to even) up to infinity
        assertEquals(0x7c00, fp16(1e9f));
        assertEquals(0x7c00, fp16(Float.POSITIVE_INFINITY));
        assertEquals(0xfc00, fp16(Float.NEGATIVE_INFINITY));
        assertEquals(0x2e66, fp16(0.1f));
        int nan = fp16(Float.NaN);
        assertEquals(0x7c00, nan & 0x7c00);
        assertTrue("NaN keeps a mantissa bit", (nan & 0x3ff) != 0);
        assertTrue(Float.isNaN(HalfFloats.fromFp16((short) nan)));
    }

    @Test
    public void fp16Subnormals() {
        assertEquals(0x0001, fp16(0x1p-24f));                // smallest subnormal
        assertEquals(0x8001, fp16(-0x1p-24f));
        assertEquals(0x0000, fp16(0x1p-25f));                // half of it: tie, rounds to even (zero)
        assertEquals(0x8000, fp16(-0x1p-25f));
        assertEquals(0x0001, fp16(0x1.8p-25f));              // 0.75 of it rounds up
        assertEquals(0x0000, fp16(0x1p-26f));
        assertEquals(0x0002, fp16(0x1.8p-24f));              // 1.5: tie between 1 and 2, even is 2
        assertEquals(0x0002, fp16(0x1.4p-23f));              // 2.5: tie between 2 and 3, even is 2
        assertEquals(0x03ff, fp16(1023 * 0x1p-24f));         // largest subnormal
        assertEquals(0x0400, fp16(1023.5f * 0x1p-24f));      // tie into the smallest normal (even)
        assertEquals(0x0400, fp16(0x1p-14f));                // smallest normal
        assertEquals(0x0, fp16(Float.MIN_VALUE));
        assertEquals(0x1p-24f, HalfFloats.fromFp16((short) 0x0001), 0f);
        assertEquals(1023 * 0x1p-24f, HalfFloats.fromFp16((short) 0x03ff), 0f);
        assertEquals(-0f, HalfFloats.fromFp16((short) 0x8000), 0f);
        assertEquals(0x80000000, Float.floatToRawIntBits(HalfFloats.fromFp16((short) 0x8000)));
    }

    @Test
    public void fp16RoundsToNearestEven() {
        assertEquals(0x3c00, fp16(1f + 0x1p-11f));               // tie: 1.0 has the even mantissa
        assertEquals(0x3c01, fp16(1f + 0x1p-11f + 0x1p-20f));    // just above the tie
        assertEquals(0x3c02, fp16(1f + 3 * 0x1p-11f));           // tie between 0x3c01 and 0x3c02: even
        assertEquals(0x3c01, fp16(1f + 3 * 0x1p-11f - 0x1p-20f));
    }

    @Test
    public void fp16EveryValueRoundTripsAndEveryMidpointGoesToEven() {
        for (int h = 0; h < 0x10000; h++) {
            float f = HalfFloats.fromFp16((short) h);
            if (Float.isNaN(f)) {
                assertTrue(Float.isNaN(HalfFloats.fromFp16(HalfFloats.toFp16(f))));
                continue;
            }
            assertEquals("half 0x" + Integer.toHexString(h), h, fp16(f));
        }
        for (int h = 0; h < 0x7bff; h++) { // positive finite neighbours h, h+1
            float lo = HalfFloats.fromFp16((short) h);
            float hi = HalfFloats.fromFp16((short) (h + 1));
            float mid = (lo + hi) / 2; // exact: a half has 11 significant bits, a float 24
            int even = (h & 1) == 0 ? h : h + 1;
            assertEquals("midpoint after 0x" + Integer.toHexString(h), even, fp16(mid));
            assertEquals(h, fp16(Math.nextDown(mid)));
            assertEquals(h + 1, fp16(Math.nextUp(mid)));
            assertEquals(even | 0x8000, fp16(-mid));
        }
    }

    @Test
    public void bf16Conversions() {
        assertEquals(0x0000, bf16(0f));
        assertEquals(0x8000, bf16(-0f));
        assertEquals(0x3f80, bf16(1f));
        assertEquals(0x3f80, bf16(1f + 0x1p-8f));                // tie: even
        assertEquals(0x3f81, bf16(1f + 0x1p-8f + 0x1p-20f));
        assertEquals(0x3f82, bf16(1f + 3 * 0x1p-8f));            // tie between 0x3f81 and 0x3f82: even
        assertEquals(0x7f80, bf16(Float.MAX_VALUE));             // rounds past the largest bf16 to infinity
        assertEquals(0x7f7f, bf16(Float.intBitsToFloat(0x7f7f7fff)));
        assertEquals(0xff80, bf16(Float.NEGATIVE_INFINITY));
        assertEquals(0x0001, bf16(Float.intBitsToFloat(0x00010000))); // subnormals keep their top bits
        assertEquals(0x0000, bf16(Float.MIN_VALUE));
        assertTrue(Float.isNaN(HalfFloats.fromBf16(HalfFloats.toBf16(Float.NaN))));
        assertTrue(Float.isNaN(HalfFloats.fromBf16(HalfFloats.toBf16(Float.intBitsToFloat(0x7f800001)))));
        assertEquals(3.140625f, HalfFloats.fromBf16(HalfFloats.toBf16(3.14159f)), 0f);
        for (int b = 0; b < 0x10000; b++) {
            float f = HalfFloats.fromBf16((short) b);
            if (!Float.isNaN(f)) {
                assertEquals(b, bf16(f));
            }
        }
    }
}
