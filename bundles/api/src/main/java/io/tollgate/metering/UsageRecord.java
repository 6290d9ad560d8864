package io.tollgate.metering;

import java.util.Arrays;

/**
 * One record of the usage journal as stored: its sequence number, kind and canonical bytes (format in
 * docs/usage-records.md). The sync bundle ships {@link #canonicalBytes()} unchanged; the cloud
 * verifies hashes and seals from those bytes alone.
 *
 * @param seq            gapless per-device sequence number (the first record of a journal is 1)
 * @param kind           what the record is
 * @param wallTimeNanos  when it was written, nanoseconds since the epoch (UTC)
 * @param canonicalBytes the record's canonical bytes (a private copy)
 */
public record UsageRecord(long seq, Kind kind, long wallTimeNanos, byte[] canonicalBytes) {

    /** Kinds of record in the journal. */
    public enum Kind {
        /** One served request. */
        USAGE,
        /** A signature by the device key over the chain head. */
        SEAL,
        /** Written first on every start of the journal (new, after a clean shutdown, or after a crash). */
        START
    }

    public UsageRecord {
        canonicalBytes = canonicalBytes.clone();
    }

    @Override
    public byte[] canonicalBytes() {
        return canonicalBytes.clone();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof UsageRecord r && r.seq == seq && r.kind == kind && r.wallTimeNanos == wallTimeNanos
                && Arrays.equals(r.canonicalBytes, canonicalBytes);
    }

    @Override
    public int hashCode() {
        return Long.hashCode(seq) * 31 + Arrays.hashCode(canonicalBytes);
    }

    @Override
    public String toString() {
        return "UsageRecord[seq=" + seq + ", kind=" + kind + ", bytes=" + canonicalBytes.length + "]";
    }
}
