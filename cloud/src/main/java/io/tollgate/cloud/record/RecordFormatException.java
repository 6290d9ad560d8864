package io.tollgate.cloud.record;

/** Bytes that are not a usage record or batch of format version 1 (docs/usage-records.md, docs/sync-protocol.md). */
public final class RecordFormatException extends Exception {
    private static final long serialVersionUID = 1L;

    public RecordFormatException(String message) {
        super(message);
    }
}
