package io.tollgate.endpoint.internal;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.json.UTF8StreamJsonParser;
import io.tollgate.model.DataType;
import io.tollgate.model.Tensor;
import java.io.IOException;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;

/**
 * Reads the {@code data} of one input tensor from JSON, straight into the tensor's little-endian bytes.
 * Accepts a flat array, row-major nested arrays (flattened depth-first) or a bare scalar, and checks every
 * element against the datatype: integers range-checked ({@code UINT64} up to 2^64-1), {@code FP16}/{@code BF16}
 * rounded to nearest even, {@code BOOL} as true/false, {@code BYTES} as strings (UTF-8, or base64 when the
 * input's {@code content_type} parameter says so). Runs on the event loop: one pass, no boxing.
 */
final class TensorJsonReader {
    private static final BigInteger UINT64_MAX = BigInteger.ONE.shiftLeft(64).subtract(BigInteger.ONE);

    private final String name;
    private final DataType type;
    private final long[] shape;
    private final boolean base64;
    private final long baseOffset;
    private final long expected;
    private ByteBuffer buffer;
    private List<byte[]> strings;
    private long count;

    /**
     * @param baseOffset  byte offset of the parser's input within the request body, for error messages
     * @param sizeHint    upper bound on the number of elements the data can hold (from its length in bytes),
     *                    so a huge shape with little data does not allocate the shape's worth up front
     */
    TensorJsonReader(String name, DataType type, long[] shape, boolean base64, long baseOffset, long sizeHint)
            throws RequestException {
        this.name = name;
        this.type = type;
        this.shape = shape;
        this.base64 = base64;
        this.baseOffset = baseOffset;
        this.expected = elementCount(name, shape);
        int initial = (int) Math.max(1, Math.min(Math.min(expected, sizeHint), 1 << 20));
        if (type == DataType.BYTES) {
            strings = new ArrayList<>(initial);
        } else {
            buffer = ByteBuffer.allocate(Math.multiplyExact(initial, type.byteSize())).order(ByteOrder.LITTLE_ENDIAN);
        }
    }

    static long elementCount(String name, long[] shape) throws RequestException {
        long n = 1;
        for (long d : shape) {
            if (d < 0) {
                throw RequestException.badRequest("input '" + name + "': shape " + JsonBodies.shape(shape)
                        + " has a negative dimension; send the concrete shape of the data");
            }
            try {
                n = Math.multiplyExact(n, d);
            } catch (ArithmeticException e) {
                throw RequestException.badRequest("input '" + name + "': shape " + JsonBodies.shape(shape)
                        + " holds more elements than a tensor can");
            }
        }
        return n;
    }

    /** Reads the data value at the parser's current token (the array start or a scalar) and builds the tensor. */
    Tensor read(JsonParser p) throws IOException, RequestException {
        return read(p, null, 0);
    }

    /**
     * As {@link #read(JsonParser)}; {@code body} is the byte array {@code p} was created on (offset 0, its first
     * {@code jsonLength} bytes), or null.
     * Given it, an FP32/FP64 array of plain numbers is read by {@link JsonNumberArrays} straight from the bytes into a
     * direct buffer (which ONNX Runtime then reads in place), and its bytes in {@code body} are blanked
     * ({@link JsonNumberArrays#readAndBlank}) so that {@code p} steps over them instead of tokenizing every number a
     * second time: the caller must own {@code body} and not read that part of it again.
     */
    Tensor read(JsonParser p, byte[] body, int jsonLength) throws IOException, RequestException {
        JsonToken t = p.currentToken();
        if (body != null && t == JsonToken.START_ARRAY && (type == DataType.FP32 || type == DataType.FP64)
                && p instanceof UTF8StreamJsonParser) {
            Tensor fast = readNumbers(p, body, jsonLength);
            if (fast != null) {
                return fast;
            }
        }
        if (t == JsonToken.START_ARRAY) {
            int depth = 1;
            while (depth > 0) {
                t = p.nextToken();
                if (t == JsonToken.START_ARRAY) {
                    depth++;
                } else if (t == JsonToken.END_ARRAY) {
                    depth--;
                } else if (t == null) {
                    throw fail(p, "data ends before its arrays are closed");
                } else {
                    element(p, t);
                }
            }
        } else {
            element(p, t);
        }
        if (count != expected) {
            throw RequestException.badRequest("input '" + name + "': shape " + JsonBodies.shape(shape) + " needs "
                    + expected + " elements but data has " + count);
        }
        if (type == DataType.BYTES) {
            return Tensor.ofBytes(name, shape, strings);
        }
        buffer.flip();
        return Tensor.of(name, type, shape, buffer);
    }

    /** The fast path, or null when {@link JsonNumberArrays} leaves the array to Jackson. */
    private Tensor readNumbers(JsonParser p, byte[] body, int jsonLength) throws IOException {
        long open = p.currentTokenLocation().getByteOffset();
        // every element takes at least two bytes ("0,"): a shape promising more than the body holds is not allocated
        if (open < 0 || open >= jsonLength || jsonLength > body.length || expected > (jsonLength - open) / 2 + 1) {
            return null;
        }
        ByteBuffer direct = ByteBuffer.allocateDirect(Math.toIntExact(expected * type.byteSize()))
                .order(ByteOrder.LITTLE_ENDIAN);
        if (JsonNumberArrays.readAndBlank(body, (int) open, jsonLength, direct, type == DataType.FP64, expected)
                == JsonNumberArrays.NOT_HANDLED) {
            return null;
        }
        p.skipChildren();   // now one string (or whitespace) up to the closing bracket
        direct.flip();
        count = expected;
        return Tensor.of(name, type, shape, direct);
    }

    private void element(JsonParser p, JsonToken t) throws IOException, RequestException {
        if (t == JsonToken.START_OBJECT) {
            throw fail(p, "element " + count + " is an object; data holds " + type + " values in (nested) arrays");
        }
        if (type == DataType.BYTES) {
            strings.add(bytesElement(p, t));
            count++;
            return;
        }
        ensureRoom();
        switch (type) {
            case BOOL:
                if (t == JsonToken.VALUE_TRUE) {
                    buffer.put((byte) 1);
                } else if (t == JsonToken.VALUE_FALSE) {
                    buffer.put((byte) 0);
                } else {
                    throw fail(p, "element " + count + " is " + describe(p, t) + "; BOOL takes true or false");
                }
                break;
            case INT8:
                buffer.put((byte) integer(p, t, Byte.MIN_VALUE, Byte.MAX_VALUE));
                break;
            case INT16:
                buffer.putShort((short) integer(p, t, Short.MIN_VALUE, Short.MAX_VALUE));
                break;
            case INT32:
                buffer.putInt((int) integer(p, t, Integer.MIN_VALUE, Integer.MAX_VALUE));
                break;
            case INT64:
                buffer.putLong(integer(p, t, Long.MIN_VALUE, Long.MAX_VALUE));
                break;
            case UINT8:
                buffer.put((byte) integer(p, t, 0, 0xff));
                break;
            case UINT16:
                buffer.putShort((short) integer(p, t, 0, 0xffff));
                break;
            case UINT32:
                buffer.putInt((int) integer(p, t, 0, 0xffff_ffffL));
                break;
            case UINT64:
                buffer.putLong(uint64(p, t));
                break;
            case FP16:
                buffer.putShort(HalfFloats.toFp16((float) floating(p, t)));
                break;
            case BF16:
                buffer.putShort(HalfFloats.toBf16((float) floating(p, t)));
                break;
            case FP32:
                buffer.putFloat(t == JsonToken.VALUE_STRING ? (float) floating(p, t) : requireNumber(p, t).getFloatValue());
                break;
            case FP64:
                buffer.putDouble(floating(p, t));
                break;
            default:
                throw new IllegalStateException("unhandled datatype " + type);
        }
        count++;
    }

    private void ensureRoom() {
        int size = type.byteSize();
        if (buffer.remaining() < size) {
            long grown = Math.min((long) buffer.capacity() * 2, Integer.MAX_VALUE - 8);
            if (grown < buffer.capacity() + size) {
                throw new IllegalStateException("input '" + name + "' is larger than a tensor buffer can hold");
            }
            ByteBuffer bigger = ByteBuffer.allocate((int) grown).order(ByteOrder.LITTLE_ENDIAN);
            buffer.flip();
            bigger.put(buffer);
            buffer = bigger;
        }
    }

    private long integer(JsonParser p, JsonToken t, long min, long max) throws IOException, RequestException {
        if (t != JsonToken.VALUE_NUMBER_INT) {
            throw fail(p, "element " + count + " is " + describe(p, t) + "; " + type + " takes integers");
        }
        if (p.getNumberType() == JsonParser.NumberType.BIG_INTEGER) {
            throw outOfRange(p, min, max);
        }
        long v = p.getLongValue();
        if (v < min || v > max) {
            throw outOfRange(p, min, max);
        }
        return v;
    }

    private long uint64(JsonParser p, JsonToken t) throws IOException, RequestException {
        if (t != JsonToken.VALUE_NUMBER_INT) {
            throw fail(p, "element " + count + " is " + describe(p, t) + "; UINT64 takes integers");
        }
        if (p.getNumberType() == JsonParser.NumberType.BIG_INTEGER) {
            BigInteger v = p.getBigIntegerValue();
            if (v.signum() < 0 || v.compareTo(UINT64_MAX) > 0) {
                throw fail(p, "element " + count + " is " + p.getText() + ", outside UINT64's range [0, "
                        + UINT64_MAX + "]");
            }
            return v.longValue(); // the low 64 bits: the unsigned value's two's-complement pattern
        }
        long v = p.getLongValue();
        if (v < 0) {
            throw fail(p, "element " + count + " is " + v + ", outside UINT64's range [0, " + UINT64_MAX + "]");
        }
        return v;
    }

    private double floating(JsonParser p, JsonToken t) throws IOException, RequestException {
        if (t == JsonToken.VALUE_STRING) {
            // Jackson writes non-finite floats as strings; accept them back
            switch (p.getText()) {
                case "NaN":
                    return Double.NaN;
                case "Infinity":
                case "+Infinity":
                case "inf":
                    return Double.POSITIVE_INFINITY;
                case "-Infinity":
                case "-inf":
                    return Double.NEGATIVE_INFINITY;
                default:
                    break;
            }
        }
        return requireNumber(p, t).getDoubleValue();
    }

    private JsonParser requireNumber(JsonParser p, JsonToken t) throws IOException, RequestException {
        if (t != JsonToken.VALUE_NUMBER_INT && t != JsonToken.VALUE_NUMBER_FLOAT) {
            throw fail(p, "element " + count + " is " + describe(p, t) + "; " + type + " takes numbers");
        }
        return p;
    }

    private byte[] bytesElement(JsonParser p, JsonToken t) throws IOException, RequestException {
        if (t != JsonToken.VALUE_STRING) {
            throw fail(p, "element " + count + " is " + describe(p, t) + "; BYTES takes strings");
        }
        if (base64) {
            try {
                return Base64.getDecoder().decode(p.getText());
            } catch (IllegalArgumentException e) {
                throw fail(p, "element " + count + " is not valid base64 (content_type is base64): " + e.getMessage());
            }
        }
        return p.getText().getBytes(StandardCharsets.UTF_8);
    }

    private RequestException outOfRange(JsonParser p, long min, long max) throws IOException {
        return fail(p, "element " + count + " is " + p.getText() + ", outside " + type + "'s range [" + min + ", "
                + max + "]");
    }

    private static String describe(JsonParser p, JsonToken t) throws IOException {
        switch (t) {
            case VALUE_STRING:
                String s = p.getText();
                return "the string \"" + (s.length() > 40 ? s.substring(0, 40) + "…" : s) + "\"";
            case VALUE_NULL:
                return "null";
            case START_OBJECT:
                return "an object";
            default:
                return p.getText();
        }
    }

    private RequestException fail(JsonParser p, String what) {
        long offset = baseOffset + p.currentTokenLocation().getByteOffset();
        return RequestException.badRequest("input '" + name + "' (" + type + "): " + what + " (at byte " + offset
                + " of the request body)");
    }
}
