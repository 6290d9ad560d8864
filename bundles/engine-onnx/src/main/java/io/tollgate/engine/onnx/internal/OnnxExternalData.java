package io.tollgate.engine.onnx.internal;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Finds the tensors of an ONNX model that keep their data in another file ({@code TensorProto.external_data},
 * {@code data_location = EXTERNAL}). ONNX Runtime reads such a file when it opens the session, relative to the
 * working directory for a model given as bytes, and a crafted model can output what it read: a plugin could
 * hand the device key to any caller (docs/decisions.md, 2026-11-30 "Models never read files"). Tollgate refuses
 * every such model; a plugin carries its tensors inside the model file.
 *
 * <p>A scan of the protobuf wire format, not a full parse (the build has no ONNX protos): it walks every place a
 * {@code TensorProto} can sit — initializers, sparse initializers, node attributes ({@code t}, {@code tensors},
 * {@code sparse_tensor(s)}), subgraphs ({@code g}, {@code graphs}, so {@code If}/{@code Loop}/{@code Scan}
 * bodies), functions and training graphs — field numbers from onnx.proto (ONNX 1.17).
 *
 * <p>Threads: stateless, any thread.
 */
public final class OnnxExternalData {
    /** Deeper than any real model nests graphs; protobuf's own default limit is 100. */
    static final int MAX_DEPTH = 64;

    private enum Kind { MODEL, GRAPH, NODE, ATTRIBUTE, TENSOR, SPARSE_TENSOR, FUNCTION, TRAINING_INFO, ENTRY }

    private OnnxExternalData() {
    }

    /**
     * The external data references of {@code model}, each as {@code tensor 'w' -> 'weights.bin'}; empty when all
     * tensor data is inside the model.
     *
     * @return the references, or empty when {@code model} is not a protobuf message this scan can read (the
     *         caller decides: ONNX Runtime reports a broken file better, and a model that ORT can open but this
     *         scan cannot read must be refused too)
     */
    public static Optional<List<String>> references(byte[] model) {
        List<String> found = new ArrayList<>();
        try {
            scan(model, 0, model.length, Kind.MODEL, 0, found);
        } catch (IllegalArgumentException | IndexOutOfBoundsException e) {
            return Optional.empty();
        }
        return Optional.of(List.copyOf(found));
    }

    /**
     * Why a model with these {@link #references} is refused, after its name: "refers to tensor data outside the
     * model file (tensor 'w' -> 'w.bin'); ...".
     */
    public static String refusal(List<String> references) {
        return "refers to tensor data outside the model file (" + String.join(", ", references) + "); Tollgate never"
                + " lets a model read files: keep every tensor inside the .onnx file (onnx.save_model(model, path,"
                + " save_as_external_data=False)) and pack the plugin again";
    }

    /** Scans one message of type {@code kind}, adding each external tensor (this one or nested) to {@code found}. */
    private static void scan(byte[] b, int from, int to, Kind kind, int depth, List<String> found) {
        if (depth > MAX_DEPTH) {
            throw new IllegalArgumentException("nested deeper than " + MAX_DEPTH);
        }
        String tensorName = "";
        String location = null;
        boolean external = false;
        int[] pos = {from};
        while (pos[0] < to) {
            long tag = varint(b, pos, to);
            int field = (int) (tag >>> 3);
            int wire = (int) (tag & 7);
            if (field <= 0) {
                throw new IllegalArgumentException("field number 0");
            }
            switch (wire) {
                case 0 -> {
                    long value = varint(b, pos, to);
                    if (kind == Kind.TENSOR && field == 14 && value == 1) {
                        external = true;                    // data_location = EXTERNAL
                    }
                }
                case 1 -> skip(pos, 8, to);
                case 5 -> skip(pos, 4, to);
                case 2 -> {
                    long length = varint(b, pos, to);
                    if (length < 0 || length > to - pos[0]) {
                        throw new IllegalArgumentException("length beyond the message");
                    }
                    int start = pos[0];
                    int end = start + (int) length;
                    Kind child = child(kind, field);
                    if (child == Kind.ENTRY) {
                        external = true;                    // an external_data entry, whatever data_location says
                        String[] entry = entry(b, start, end);
                        if ("location".equals(entry[0])) {
                            location = entry[1];
                        }
                    } else if (child != null) {
                        scan(b, start, end, child, depth + 1, found);
                    } else if (kind == Kind.TENSOR && field == 8) {
                        tensorName = new String(b, start, end - start, StandardCharsets.UTF_8);
                    }
                    pos[0] = end;
                }
                default -> throw new IllegalArgumentException("wire type " + wire);
            }
        }
        if (external) {
            found.add("tensor '" + tensorName + "' -> '" + (location == null ? "(no location)" : location) + "'");
        }
    }

    /** The message type of field {@code field} of a {@code kind}, or null when it holds no tensor. */
    private static Kind child(Kind kind, int field) {
        return switch (kind) {
            case MODEL -> field == 7 ? Kind.GRAPH : field == 25 ? Kind.FUNCTION : field == 20 ? Kind.TRAINING_INFO : null;
            case GRAPH -> field == 1 ? Kind.NODE : field == 5 ? Kind.TENSOR : field == 15 ? Kind.SPARSE_TENSOR : null;
            case NODE -> field == 5 ? Kind.ATTRIBUTE : null;
            case ATTRIBUTE -> switch (field) {
                case 5, 10 -> Kind.TENSOR;
                case 6, 11 -> Kind.GRAPH;
                case 22, 23 -> Kind.SPARSE_TENSOR;
                default -> null;
            };
            case SPARSE_TENSOR -> field == 1 || field == 2 ? Kind.TENSOR : null;
            case FUNCTION -> field == 7 ? Kind.NODE : field == 11 ? Kind.ATTRIBUTE : null;
            case TRAINING_INFO -> field == 1 || field == 2 ? Kind.GRAPH : null;
            case TENSOR -> field == 13 ? Kind.ENTRY : null;
            case ENTRY -> null;
        };
    }

    /** A {@code StringStringEntryProto}: key (1) and value (2). */
    private static String[] entry(byte[] b, int from, int to) {
        String[] kv = {"", ""};
        int[] pos = {from};
        while (pos[0] < to) {
            long tag = varint(b, pos, to);
            int wire = (int) (tag & 7);
            if (wire != 2) {
                if (wire == 0) {
                    varint(b, pos, to);
                    continue;
                }
                throw new IllegalArgumentException("unexpected wire type in an external_data entry");
            }
            long length = varint(b, pos, to);
            if (length < 0 || length > to - pos[0]) {
                throw new IllegalArgumentException("length beyond the message");
            }
            int field = (int) (tag >>> 3);
            if (field == 1 || field == 2) {
                kv[field - 1] = new String(b, pos[0], (int) length, StandardCharsets.UTF_8);
            }
            pos[0] += (int) length;
        }
        return kv;
    }

    private static long varint(byte[] b, int[] pos, int to) {
        long value = 0;
        for (int shift = 0; shift < 64; shift += 7) {
            if (pos[0] >= to) {
                throw new IllegalArgumentException("truncated varint");
            }
            byte next = b[pos[0]++];
            value |= (long) (next & 0x7F) << shift;
            if ((next & 0x80) == 0) {
                return value;
            }
        }
        throw new IllegalArgumentException("varint longer than 10 bytes");
    }

    private static void skip(int[] pos, int n, int to) {
        if (to - pos[0] < n) {
            throw new IllegalArgumentException("truncated fixed-width field");
        }
        pos[0] += n;
    }
}
