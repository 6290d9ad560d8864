package io.tollgate.endpoint.internal;

import com.fasterxml.jackson.core.io.NumberInput;
import java.nio.ByteBuffer;
import java.util.Arrays;

/**
 * The fast path for the commonest large tensor in a JSON body: an FP32 or FP64 {@code data} array (flat or nested) of
 * plain JSON numbers, read straight from the body's UTF-8 bytes into the tensor's little-endian buffer.
 *
 * <p>Why: a 3×320×320 image is ~300k numbers (~6 MB of text). Through Jackson's tokens each number is copied into
 * the parser's text buffer, typed, and only then converted (profile of 2026-12-01: ~45% of the request's CPU in
 * {@code TensorJsonReader} on the PP-OCR detection bench). Here one pass delimits each literal, checks it against
 * JSON's number grammar and converts it with Jackson's own FastDoubleParser entry point
 * ({@link NumberInput#parseFloat(char[], int, int, boolean)}), so every value is bit for bit what
 * {@code JsonParser.getFloatValue()}/{@code getDoubleValue()} gives.
 *
 * <p>It reads only what it fully understands: numbers, commas, brackets and JSON whitespace, at most
 * {@link #MAX_DEPTH} arrays deep, exactly {@code expected} elements. On anything else (strings such as
 * {@code "NaN"}, bare {@code NaN}/{@code Infinity}, objects, {@code null}, malformed numbers or separators, a wrong
 * count, a literal longer than {@link #MAX_LITERAL} characters) it answers {@link #NOT_HANDLED} and the caller reads
 * the array with Jackson as before, which gives today's precise 400 messages. Stateless; runs on the decoding thread.
 */
final class JsonNumberArrays {
    /** The answer when the array holds something this fast path leaves to Jackson. */
    static final int NOT_HANDLED = -1;
    /** Deeper nesting is left to Jackson (whose nesting limit then gives the error). */
    static final int MAX_DEPTH = 32;
    /** Longer literals are left to Jackson (whose number-length limit then applies). */
    static final int MAX_LITERAL = 64;

    private JsonNumberArrays() {
    }

    /**
     * Reads the array that opens at {@code json[open]} ({@code '['}) into {@code out} (little-endian, room for
     * {@code expected} elements of 4 bytes, or 8 with {@code fp64}), then blanks it in {@code json}: what was between
     * the brackets becomes one JSON string (or whitespace, when it held tabs or line breaks, which a string may not),
     * so that a Jackson parser standing on the {@code '['} steps over it in one tight loop instead of tokenizing every
     * number again. The bytes keep their offsets, so later error messages still point into the body as sent.
     *
     * @param end      the index after the last JSON byte the array may use
     * @return the index of the array's closing {@code ']'}, or {@link #NOT_HANDLED} (then {@code out}'s content and
     *         position are unspecified and {@code json} is unchanged)
     */
    static int readAndBlank(byte[] json, int open, int end, ByteBuffer out, boolean fp64, long expected) {
        boolean[] control = new boolean[1];
        int close = read(json, open, end, out, fp64, expected, control);
        if (close == NOT_HANDLED) {
            return NOT_HANDLED;
        }
        if (control[0] || close - open < 3) {
            Arrays.fill(json, open + 1, close, (byte) ' ');
        } else {
            json[open + 1] = '"';    // digits, signs, dots, commas, brackets and spaces are plain string content
            json[close - 1] = '"';
        }
        return close;
    }

    /** The reading half; sets {@code control[0]} when the array holds a tab or a line break. */
    private static int read(byte[] json, int open, int end, ByteBuffer out, boolean fp64, long expected,
                            boolean[] control) {
        if (open >= end || json[open] != '[') {
            return NOT_HANDLED;
        }
        char[] literal = new char[MAX_LITERAL];
        long count = 0;
        int depth = 1;
        boolean wantValue = true;   // after '[' or ','
        boolean mayClose = true;    // after '[' (an empty array) or a value
        int i = open + 1;
        while (i < end) {
            int c = json[i];
            switch (c) {
                case ' ' -> i++;
                case '\t', '\n', '\r' -> {
                    control[0] = true;
                    i++;
                }
                case '[' -> {
                    if (!wantValue || ++depth > MAX_DEPTH) {
                        return NOT_HANDLED;
                    }
                    mayClose = true;
                    i++;
                }
                case ']' -> {
                    if (!mayClose) {
                        return NOT_HANDLED;   // "[1,]"
                    }
                    if (--depth == 0) {
                        return count == expected ? i : NOT_HANDLED;
                    }
                    wantValue = false;
                    mayClose = true;
                    i++;
                }
                case ',' -> {
                    if (wantValue) {
                        return NOT_HANDLED;   // "[,1]", "[1,,2]"
                    }
                    wantValue = true;
                    mayClose = false;
                    i++;
                }
                default -> {
                    if (!wantValue || count == expected) {
                        return NOT_HANDLED;
                    }
                    int next = number(json, i, end, literal, out, fp64);
                    if (next < 0) {
                        return NOT_HANDLED;
                    }
                    count++;
                    wantValue = false;
                    mayClose = true;
                    i = next;
                }
            }
        }
        return NOT_HANDLED;   // the body ends inside the array
    }

    /**
     * Reads the JSON number starting at {@code json[start]} and puts it; returns the index after it, or -1 when it is
     * not a JSON number this path converts.
     */
    private static int number(byte[] json, int start, int end, char[] literal, ByteBuffer out, boolean fp64) {
        int i = start;
        if (i < end && json[i] == '-') {
            i++;
        }
        int intStart = i;
        if (i < end && json[i] == '0') {
            i++;
        } else {
            while (i < end && isDigit(json[i])) {
                i++;
            }
        }
        int intDigits = i - intStart;
        if (intDigits == 0) {
            return -1;   // not a number ('N', '"', 't', '{', '+', '.5', ...)
        }
        boolean integer = true;
        if (i < end && json[i] == '.') {
            integer = false;
            int fracStart = ++i;
            while (i < end && isDigit(json[i])) {
                i++;
            }
            if (i == fracStart) {
                return -1;   // "1."
            }
        }
        if (i < end && (json[i] == 'e' || json[i] == 'E')) {
            integer = false;
            i++;
            if (i < end && (json[i] == '+' || json[i] == '-')) {
                i++;
            }
            int expStart = i;
            while (i < end && isDigit(json[i])) {
                i++;
            }
            if (i == expStart) {
                return -1;   // "1e"
            }
        }
        if (i < end && !isDelimiter(json[i])) {
            return -1;   // "01", "1x", "1.5.2": Jackson says what is wrong
        }
        int length = i - start;
        if (length > MAX_LITERAL) {
            return -1;
        }
        if (integer && intDigits <= 18) {
            // Jackson reads an integer token as a long and widens it ("-0" is +0.0 there too)
            long v = 0;
            for (int k = intStart; k < i; k++) {
                v = v * 10 + (json[k] - '0');
            }
            if (json[start] == '-') {
                v = -v;
            }
            if (fp64) {
                out.putDouble(v);
            } else {
                out.putFloat(v);
            }
            return i;
        }
        if (integer) {
            return -1;   // a big integer: Jackson's BigInteger path decides
        }
        for (int k = 0; k < length; k++) {
            literal[k] = (char) json[start + k];
        }
        if (fp64) {
            out.putDouble(NumberInput.parseDouble(literal, 0, length, true));
        } else {
            out.putFloat(NumberInput.parseFloat(literal, 0, length, true));
        }
        return i;
    }

    private static boolean isDigit(byte b) {
        return b >= '0' && b <= '9';
    }

    private static boolean isDelimiter(byte b) {
        return b == ',' || b == ']' || b == ' ' || b == '\n' || b == '\r' || b == '\t';
    }
}
