package io.tollgate.cloud.record;

import java.util.List;

/**
 * A decoded batch (docs/sync-protocol.md): its header and the records' full canonical bytes (elided
 * {@code prev_hash} fields already restored), in seq order.
 */
public record Batch(int encoding, long firstSeq, int count, List<byte[]> records) {
    public static final int RAW = 0;
    public static final int DEFLATE = 1;
    public static final int DEFLATE_ELIDED = 2;

    public long lastSeq() {
        return firstSeq + count - 1;
    }
}
