package io.tollgate.endpoint.internal;

import io.tollgate.model.DataType;
import io.tollgate.model.Tensor;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Triton's classification extension: an output requested with {@code "classification": k} comes back as a
 * BYTES tensor of the top k classes per batch row, each element {@code "score:index"} or
 * {@code "score:index:label"} (score with six decimals, as Triton prints it), best first, ties by lower index; a NaN score ranks last (printed {@code nan}) and every entry names a
 * real class index.
 */
final class Classification {
    private Classification() {
    }

    /**
     * @param batched whether the first dimension is the batch (the model's max_batch_size is above 0); then the
     *                result has shape [batch, k], else [k]
     */
    static Tensor topK(Tensor scores, int k, List<String> labels, boolean batched) throws RequestException {
        if (scores.type() == DataType.BYTES || scores.type() == DataType.BOOL) {
            throw RequestException.badRequest("output '" + scores.name() + "' is " + scores.type()
                    + "; classification needs a numeric output");
        }
        long[] shape = scores.shape();
        boolean rowsFirst = batched && shape.length >= 2;
        long rows = rowsFirst ? shape[0] : 1;
        long total = scores.elementCount();
        if (rows == 0 || total == 0) {
            // an empty batch still has k columns: [0, k] (k bounded by the classes per row, as below)
            long perRow = 1;
            for (int d = rowsFirst ? 1 : 0; d < shape.length; d++) {
                perRow *= shape[d];
            }
            int top = (int) Math.min(k, perRow);
            return Tensor.ofBytes(scores.name(), rowsFirst ? new long[] {rows, top} : new long[] {0}, List.of());
        }
        int classes = (int) (total / rows);
        int top = Math.min(k, classes);
        ByteBuffer data = scores.data();
        List<byte[]> out = new ArrayList<>((int) rows * top);
        for (int r = 0; r < rows; r++) {
            int base = r * classes;
            int[] best = new int[top];
            double[] bestScore = new double[top];
            int filled = 0;
            for (int c = 0; c < classes; c++) {
                double v = value(data, scores.type(), base + c);
                // insertion into a small sorted array: k is small, classes may be large; scanning in index order
                // with a strict comparison keeps ties by lower index
                if (filled < top || beats(v, bestScore[filled - 1])) {
                    int i = filled < top ? filled++ : top - 1;
                    while (i > 0 && beats(v, bestScore[i - 1])) {
                        best[i] = best[i - 1];
                        bestScore[i] = bestScore[i - 1];
                        i--;
                    }
                    best[i] = c;
                    bestScore[i] = v;
                }
            }
            for (int i = 0; i < top; i++) {
                out.add(entry(bestScore[i], best[i], labels).getBytes(StandardCharsets.UTF_8));
            }
        }
        long[] outShape = rowsFirst ? new long[] {rows, top} : new long[] {top};
        return Tensor.ofBytes(scores.name(), outShape, out);
    }

    /** Whether score {@code a} ranks above {@code b}: NaN ranks below every number, -Infinity included. */
    static boolean beats(double a, double b) {
        if (Double.isNaN(a)) {
            return false;
        }
        return Double.isNaN(b) || a > b;
    }

    private static String entry(double score, int index, List<String> labels) {
        String s = Double.isNaN(score) ? "nan:" + index : String.format(Locale.ROOT, "%f:%d", score, index);
        return index < labels.size() ? s + ":" + labels.get(index) : s;
    }

    /** Element {@code i} of a fixed-size tensor as a double (unsigned types read unsigned). */
    static double value(ByteBuffer data, DataType type, int i) {
        switch (type) {
            case BOOL:
            case INT8:
                return data.get(i);
            case UINT8:
                return data.get(i) & 0xff;
            case INT16:
                return data.getShort(i * 2);
            case UINT16:
                return data.getShort(i * 2) & 0xffff;
            case INT32:
                return data.getInt(i * 4);
            case UINT32:
                return data.getInt(i * 4) & 0xffff_ffffL;
            case INT64:
                return data.getLong(i * 8);
            case UINT64: {
                long v = data.getLong(i * 8);
                return v >= 0 ? v : (double) (v >>> 1) * 2.0;
            }
            case FP16:
                return HalfFloats.fromFp16(data.getShort(i * 2));
            case BF16:
                return HalfFloats.fromBf16(data.getShort(i * 2));
            case FP32:
                return data.getFloat(i * 4);
            case FP64:
                return data.getDouble(i * 8);
            default:
                throw new IllegalArgumentException("not a numeric datatype: " + type);
        }
    }
}
