package io.tollgate.cloud.record;

/** The record kinds of format 1. */
public enum RecordKind {
    USAGE(1), SEAL(2), START(3);

    private final int code;

    RecordKind(int code) {
        this.code = code;
    }

    public int code() {
        return code;
    }

    public String label() {
        return name().toLowerCase(java.util.Locale.ROOT);
    }

    public static RecordKind of(int code) throws RecordFormatException {
        for (RecordKind kind : values()) {
            if (kind.code == code) {
                return kind;
            }
        }
        throw new RecordFormatException("unknown record kind " + code + " (format 1 knows 1 USAGE, 2 SEAL, 3 START)");
    }
}
