package io.tollgate.engine.onnx.testing;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;

/**
 * ONNX models whose tensor data lives in another file ({@code TensorProto.external_data}), written in the
 * protobuf wire format by hand (the build has no ONNX protos, and python3-onnx is not on every machine): the
 * attack of docs/decisions.md 2026-11-30 "Models never read files": {@code out = Identity(secret)}, where the
 * initializer {@code secret} is {@code length} UINT8 bytes read from {@code location}, so that a session that
 * honoured the reference would hand the file's bytes to any caller. Each graph also has an input {@code x}
 * (UINT8 [1], unused), because an infer request must send one. Published in the test-jar for test-it.
 */
public final class ExternalDataModels {
    private static final int UINT8 = 2;
    private static final int EXTERNAL = 1;

    private ExternalDataModels() {
    }

    /** {@code out = Identity(secret)}, {@code secret} an initializer of {@code length} bytes kept in {@code location}. */
    public static byte[] identityOfInitializer(String location, long length) {
        return model(graph(initializer(location, length), false, length));
    }

    /**
     * {@code out = Constant()}, the constant's {@code value} attribute a tensor kept in {@code location}: the same
     * attack without an initializer, for a scan that looked at initializers only.
     */
    public static byte[] constantAttribute(String location, long length) {
        return model(graph(initializer(location, length), true, length));
    }

    /** The same graph with the bytes inside the model (a model that must load): {@code out = Identity(secret)}. */
    public static byte[] identityOfEmbedded(byte[] data) {
        Proto tensor = new Proto().varint(1, data.length).varint(2, UINT8).string(8, "secret").bytes(9, data);
        return model(graph(tensor, false, data.length));
    }

    private static Proto initializer(String location, long length) {
        return new Proto().varint(1, length).varint(2, UINT8).string(8, "secret")
                .message(13, new Proto().string(1, "location").string(2, location))
                .message(13, new Proto().string(1, "length").string(2, Long.toString(length)))
                .varint(14, EXTERNAL);
    }

    private static Proto graph(Proto tensor, boolean asConstant, long length) {
        Proto graph = new Proto();
        if (asConstant) {
            Proto attribute = new Proto().string(1, "value").message(5, tensor).varint(20, 4);   // type TENSOR
            graph.message(1, new Proto().string(2, "out").string(4, "Constant").message(5, attribute));
        } else {
            graph.message(1, new Proto().string(1, "secret").string(2, "out").string(4, "Identity"))
                    .message(5, tensor);
        }
        return graph.string(2, "external").message(11, valueInfo("x", 1)).message(12, valueInfo("out", length));
    }

    private static Proto valueInfo(String name, long length) {
        Proto shape = new Proto().message(1, new Proto().varint(1, length));
        Proto type = new Proto().message(1, new Proto().varint(1, UINT8).message(2, shape));
        return new Proto().string(1, name).message(2, type);
    }

    private static byte[] model(Proto graph) {
        return new Proto().varint(1, 8).string(2, "tollgate-test")
                .message(8, new Proto().string(1, "").varint(2, 13))
                .message(7, graph).toByteArray();
    }

    /** Just enough of the protobuf wire format: varints and length-delimited fields. */
    private static final class Proto {
        private final ByteArrayOutputStream out = new ByteArrayOutputStream();

        Proto varint(int field, long value) {
            raw((long) field << 3);
            raw(value);
            return this;
        }

        Proto bytes(int field, byte[] value) {
            raw(((long) field << 3) | 2);
            raw(value.length);
            out.writeBytes(value);
            return this;
        }

        Proto string(int field, String value) {
            return bytes(field, value.getBytes(StandardCharsets.UTF_8));
        }

        Proto message(int field, Proto value) {
            return bytes(field, value.toByteArray());
        }

        byte[] toByteArray() {
            return out.toByteArray();
        }

        private void raw(long value) {
            while ((value & ~0x7FL) != 0) {
                out.write((int) (value & 0x7F) | 0x80);
                value >>>= 7;
            }
            out.write((int) value);
        }
    }
}
