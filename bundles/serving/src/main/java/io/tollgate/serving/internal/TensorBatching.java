package io.tollgate.serving.internal;

import io.tollgate.model.DataType;
import io.tollgate.model.Tensor;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Merging requests' tensors along the first (batch) dimension and splitting a batched run's outputs back by each
 * request's rows. Pure byte copies: a request's rows reach the engine exactly as it sent them, and the rows it gets
 * back are exactly the engine's.
 */
final class TensorBatching {
    private TensorBatching() {
    }

    /**
     * Whether two requests' inputs (in model order) can run as one batch: same names and types, same dimensions after
     * the first. A tensor without dimensions (no batch dimension) never merges. Compared field by field, without
     * building a text per request (issue 11, request path: it ran on the event loop for every request).
     */
    static boolean mergeable(List<Tensor> a, List<Tensor> b) {
        if (a.size() != b.size()) {
            return false;
        }
        for (int i = 0; i < a.size(); i++) {
            Tensor x = a.get(i);
            Tensor y = b.get(i);
            long[] xs = x.shape();
            long[] ys = y.shape();
            if (xs.length == 0 || xs.length != ys.length || x.type() != y.type() || !x.name().equals(y.name())) {
                return false;
            }
            for (int d = 1; d < xs.length; d++) {
                if (xs[d] != ys[d]) {
                    return false;
                }
            }
        }
        return true;
    }

    /**
     * The inputs of several requests (each in model order, {@link #mergeable} with each other) concatenated along
     * the first dimension, in the order given.
     */
    static List<Tensor> concat(List<List<Tensor>> requests) {
        List<Tensor> first = requests.get(0);
        List<Tensor> merged = new ArrayList<>(first.size());
        for (int i = 0; i < first.size(); i++) {
            List<Tensor> parts = new ArrayList<>(requests.size());
            for (List<Tensor> r : requests) {
                parts.add(r.get(i));
            }
            merged.add(concatOne(parts));
        }
        return merged;
    }

    private static Tensor concatOne(List<Tensor> parts) {
        Tensor head = parts.get(0);
        long[] shape = head.shape();
        long rows = 0;
        for (Tensor t : parts) {
            rows += t.batchSize();
        }
        shape[0] = rows;
        if (head.type() == DataType.BYTES) {
            List<byte[]> all = new ArrayList<>();
            for (Tensor t : parts) {
                all.addAll(t.strings());
            }
            return Tensor.ofBytes(head.name(), shape, all);
        }
        int bytes = 0;
        for (Tensor t : parts) {
            bytes = Math.addExact(bytes, t.data().remaining());
        }
        // direct: the ONNX engine reads a direct buffer in place, so the batch is copied once, not twice
        ByteBuffer out = ByteBuffer.allocateDirect(bytes).order(ByteOrder.LITTLE_ENDIAN);
        for (Tensor t : parts) {
            out.put(t.data());
        }
        out.flip();
        return Tensor.of(head.name(), head.type(), shape, out);
    }

    /**
     * Splits a batched run's outputs back: entry {@code i} holds request {@code i}'s rows of every output.
     *
     * @param rows each request's batch rows, in the order the inputs were concatenated
     * @throws IllegalStateException when an output's first dimension is not the batch's total rows (the model's
     *                               outputs carry no batch dimension, so its answers cannot be told apart)
     */
    static List<List<Tensor>> split(List<Tensor> outputs, long[] rows) {
        long total = 0;
        for (long r : rows) {
            total += r;
        }
        List<List<Tensor>> perRequest = new ArrayList<>(rows.length);
        for (int i = 0; i < rows.length; i++) {
            perRequest.add(new ArrayList<>(outputs.size()));
        }
        for (Tensor out : outputs) {
            long[] shape = out.shape();
            if (shape.length == 0 || shape[0] != total) {
                throw new IllegalStateException("output '" + out.name() + "' has shape " + Arrays.toString(shape)
                        + " for a batch of " + total + " rows: its first dimension is not the batch, so batched"
                        + " answers cannot be split; turn dynamic_batching off for this model");
            }
            long rowElements = total == 0 ? 0 : out.elementCount() / total;
            if (out.type() == DataType.BYTES) {
                List<byte[]> all = out.strings();
                int from = 0;
                for (int i = 0; i < rows.length; i++) {
                    int n = Math.toIntExact(rows[i] * rowElements);
                    long[] s = shape.clone();
                    s[0] = rows[i];
                    perRequest.get(i).add(Tensor.ofBytes(out.name(), s, all.subList(from, from + n)));
                    from += n;
                }
            } else {
                ByteBuffer data = out.data();
                int rowBytes = Math.toIntExact(rowElements * out.type().byteSize());
                int from = 0;
                for (int i = 0; i < rows.length; i++) {
                    int n = Math.toIntExact(rows[i] * rowBytes);
                    long[] s = shape.clone();
                    s[0] = rows[i];
                    // a view, not a copy: the batch's output buffer is read-only and lives as long as the views
                    ByteBuffer part = data.duplicate().position(from).limit(from + n).slice();
                    perRequest.get(i).add(Tensor.of(out.name(), out.type(), s, part));
                    from += n;
                }
            }
        }
        return perRequest;
    }
}
