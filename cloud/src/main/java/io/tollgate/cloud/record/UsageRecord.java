package io.tollgate.cloud.record;

import java.util.Arrays;
import java.util.Objects;

/**
 * One decoded record of format 1: the common header, the body of its kind, its canonical bytes and their
 * SHA-256. Fields of other kinds are null (strings), 0 (numbers) or null (arrays).
 */
public final class UsageRecord {
    /** Body of a USAGE record. */
    public record Usage(String tenant, String model, String modelVersion, String plugin, String pluginVersion,
                        String licenseId, String meter, long quantity, long computeNanos, String accelerator,
                        String requestId, String status) {
    }

    /** Body of a SEAL record. {@code statement} is the exact signed bytes. */
    public record Seal(byte[] statement, String statementDeviceId, long sealedSeq, byte[] sealedHash, int reason,
                       byte[] signature) {
    }

    private final RecordKind kind;
    private final long seq;
    private final long wallTimeNanos;
    private final long monotonicNanos;
    private final byte[] prevHash;
    private final String deviceId;
    private final Usage usage;
    private final Seal seal;
    private final int previousRun;
    private final byte[] bytes;
    private final byte[] hash;

    UsageRecord(RecordKind kind, long seq, long wallTimeNanos, long monotonicNanos, byte[] prevHash, String deviceId,
                Usage usage, Seal seal, int previousRun, byte[] bytes, byte[] hash) {
        this.kind = kind;
        this.seq = seq;
        this.wallTimeNanos = wallTimeNanos;
        this.monotonicNanos = monotonicNanos;
        this.prevHash = prevHash;
        this.deviceId = deviceId;
        this.usage = usage;
        this.seal = seal;
        this.previousRun = previousRun;
        this.bytes = bytes;
        this.hash = hash;
    }

    public RecordKind kind() { return kind; }
    public long seq() { return seq; }
    public long wallTimeNanos() { return wallTimeNanos; }
    public long monotonicNanos() { return monotonicNanos; }
    public byte[] prevHash() { return prevHash.clone(); }
    public String deviceId() { return deviceId; }
    /** The USAGE body, or null for other kinds. */
    public Usage usage() { return usage; }
    /** The SEAL body, or null for other kinds. */
    public Seal seal() { return seal; }
    /** START records only: 0 NEW_JOURNAL, 1 CLEAN_SHUTDOWN, 2 UNCLEAN_SHUTDOWN; -1 for other kinds. */
    public int previousRun() { return previousRun; }
    /** The canonical bytes (a copy). */
    public byte[] bytes() { return bytes.clone(); }
    /** SHA-256 of the canonical bytes (a copy). */
    public byte[] hash() { return hash.clone(); }
    public String hashHex() { return Hex.of(hash); }

    public boolean sameBytes(byte[] other) {
        return Arrays.equals(bytes, other);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof UsageRecord r && Arrays.equals(bytes, r.bytes);
    }

    @Override
    public int hashCode() {
        return Objects.hash(Arrays.hashCode(hash));
    }

    @Override
    public String toString() {
        return deviceId + ":" + seq + " " + kind.label();
    }
}
