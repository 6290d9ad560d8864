package io.tollgate.metering.internal;

import io.tollgate.metering.UsageEvent;
import io.tollgate.metering.UsageRecord;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import java.util.HexFormat;

/**
 * Canonical byte layout of usage records, format version 1 (docs/usage-records.md is the contract;
 * RecordFormatTest proves the document's test vector against this class). All integers are big-endian;
 * a string is a u16 byte length followed by that many bytes of UTF-8.
 *
 * <pre>
 * offset size field
 *  0      1   format          = 1
 *  1      1   kind            1 USAGE, 2 SEAL, 3 START
 *  2      8   seq             u64
 * 10      8   wall_time_nanos i64, nanoseconds since 1970-01-01T00:00:00Z
 * 18      8   monotonic_nanos i64, System.nanoTime() of the writing process
 * 26     32   prev_hash       SHA-256 of record seq-1 (zeros for seq 1)
 * 58    str   device_id
 *       ...   body of the kind
 * </pre>
 */
public final class RecordFormat {
    public static final int FORMAT_VERSION = 1;
    public static final int KIND_USAGE = 1;
    public static final int KIND_SEAL = 2;
    public static final int KIND_START = 3;

    public static final int OFFSET_SEQ = 2;
    public static final int OFFSET_WALL = 10;
    public static final int OFFSET_MONO = 18;
    public static final int OFFSET_PREV_HASH = 26;
    public static final int OFFSET_DEVICE_ID = 58;
    public static final int HASH_BYTES = 32;
    public static final int SIGNATURE_BYTES = 64;

    /** First bytes of every seal statement: ASCII "TG-SEAL1" (domain separation for the device key). */
    static final byte[] SEAL_MAGIC = "TG-SEAL1".getBytes(StandardCharsets.US_ASCII);

    private static final byte[] ZERO_HASH = new byte[HASH_BYTES];
    private static final HexFormat HEX = HexFormat.of();

    private RecordFormat() {
    }

    /** Why a seal was written. */
    public enum SealReason {
        /** {@code seal_every_records} records since the previous seal. */
        RECORD_COUNT(1),
        /** {@code seal_every_ms} elapsed with unsealed records. */
        INTERVAL(2),
        /** Clean shutdown: the last record a run writes. */
        SHUTDOWN(3),
        /** Right after the START record of a run. */
        START(4);

        final int code;

        SealReason(int code) {
            this.code = code;
        }

        static SealReason of(int code) {
            for (SealReason r : values()) {
                if (r.code == code) {
                    return r;
                }
            }
            throw new IllegalArgumentException("unknown seal reason " + code);
        }
    }

    /** How the run before a START record ended. */
    public enum PreviousRun {
        /** The journal was empty: this is its first record. */
        NEW_JOURNAL(0),
        /** The previous run ended with a SHUTDOWN seal. */
        CLEAN_SHUTDOWN(1),
        /** The previous run ended without a SHUTDOWN seal (crash, kill, power loss). */
        UNCLEAN_SHUTDOWN(2);

        final int code;

        PreviousRun(int code) {
            this.code = code;
        }

        static PreviousRun of(int code) {
            for (PreviousRun r : values()) {
                if (r.code == code) {
                    return r;
                }
            }
            throw new IllegalArgumentException("unknown previous_run " + code);
        }
    }

    /** The statement a seal signs (see docs/usage-records.md, "Seal"). */
    public record SealStatement(String deviceId, long sealedSeq, byte[] sealedHash, SealReason reason) {
        public byte[] encode() {
            RecordBuffer b = new RecordBuffer(64);
            b.putBytes(SEAL_MAGIC);
            b.putString(deviceId);
            b.putLong(sealedSeq);
            b.putBytes(sealedHash);
            b.putByte(reason.code);
            return b.toByteArray();
        }

        static SealStatement decode(byte[] bytes) {
            Reader r = new Reader(bytes, 0, bytes.length);
            byte[] magic = r.bytes(SEAL_MAGIC.length);
            if (!Arrays.equals(magic, SEAL_MAGIC)) {
                throw new IllegalArgumentException("seal statement does not start with TG-SEAL1");
            }
            SealStatement s = new SealStatement(r.string("device_id"), r.u64("sealed_seq"), r.bytes(HASH_BYTES),
                    SealReason.of(r.u8()));
            r.end("seal statement");
            return s;
        }
    }

    /** A decoded record: the common header, the body of its kind and its canonical bytes. */
    public record Decoded(int kind, long seq, long wallTimeNanos, long monotonicNanos, byte[] prevHash, String deviceId,
                          UsageEvent usage, SealStatement statement, byte[] statementBytes, byte[] signature,
                          PreviousRun previousRun, byte[] bytes) {
        public UsageRecord.Kind recordKind() {
            return kindOf(kind);
        }

        public byte[] hash() {
            return sha256(bytes, 0, bytes.length);
        }
    }

    public static UsageRecord.Kind kindOf(int kind) {
        return switch (kind) {
            case KIND_USAGE -> UsageRecord.Kind.USAGE;
            case KIND_SEAL -> UsageRecord.Kind.SEAL;
            case KIND_START -> UsageRecord.Kind.START;
            default -> throw new IllegalArgumentException("unknown record kind " + kind);
        };
    }

    /**
     * Writes the header of a record with seq, times and prev_hash left as zeros, followed by the device id.
     * The journal patches those fields under its lock ({@link RecordBuffer#patchHeader}).
     */
    static void beginRecord(RecordBuffer b, int kind, String deviceId) {
        b.reset();
        b.putByte(FORMAT_VERSION);
        b.putByte(kind);
        b.putLong(0);
        b.putLong(0);
        b.putLong(0);
        b.putBytes(ZERO_HASH);
        b.putString(deviceId);
    }

    static void usageBody(RecordBuffer b, UsageEvent e) {
        b.putString(e.tenant());
        b.putString(e.model());
        b.putString(e.modelVersion());
        b.putString(e.plugin());
        b.putString(e.pluginVersion());
        b.putString(e.licenseId());
        b.putString(e.meter());
        b.putLong(e.quantity());
        b.putLong(e.computeNanos());
        b.putString(e.accelerator());
        b.putString(e.requestId());
        b.putString(e.status());
    }

    static void sealBody(RecordBuffer b, byte[] statement, byte[] signature) {
        if (signature.length != SIGNATURE_BYTES) {
            throw new IllegalArgumentException("an Ed25519 signature has 64 bytes, not " + signature.length);
        }
        if (statement.length > 0xFFFF) {
            throw new IllegalArgumentException("seal statement too long: " + statement.length);
        }
        b.putShort(statement.length);
        b.putBytes(statement);
        b.putBytes(signature);
    }

    static void startBody(RecordBuffer b, PreviousRun previous) {
        b.putByte(previous.code);
    }

    /** Complete canonical bytes of a record, for tests and tools (the journal encodes in place instead). */
    public static byte[] encodeUsage(long seq, long wallNanos, long monoNanos, byte[] prevHash, String deviceId,
                                     UsageEvent e) {
        RecordBuffer b = new RecordBuffer(256);
        beginRecord(b, KIND_USAGE, deviceId);
        usageBody(b, e);
        b.patchHeader(seq, wallNanos, monoNanos, prevHash);
        return b.toByteArray();
    }

    public static byte[] encodeSeal(long seq, long wallNanos, long monoNanos, byte[] prevHash, String deviceId,
                                    byte[] statement, byte[] signature) {
        RecordBuffer b = new RecordBuffer(256);
        beginRecord(b, KIND_SEAL, deviceId);
        sealBody(b, statement, signature);
        b.patchHeader(seq, wallNanos, monoNanos, prevHash);
        return b.toByteArray();
    }

    public static byte[] encodeStart(long seq, long wallNanos, long monoNanos, byte[] prevHash, String deviceId,
                                     PreviousRun previous) {
        RecordBuffer b = new RecordBuffer(128);
        beginRecord(b, KIND_START, deviceId);
        startBody(b, previous);
        b.patchHeader(seq, wallNanos, monoNanos, prevHash);
        return b.toByteArray();
    }

    /** Reads only the seq of a record (no validation beyond length). */
    static long seqOf(byte[] bytes) {
        if (bytes.length < OFFSET_DEVICE_ID) {
            throw new IllegalArgumentException("record too short: " + bytes.length + " bytes");
        }
        return new Reader(bytes, OFFSET_SEQ, bytes.length).u64("seq");
    }

    /** The fixed header of a record: enough to walk a journal without decoding bodies. */
    public record Header(UsageRecord.Kind kind, long seq, long wallTimeNanos) {
    }

    /**
     * Reads a record's kind, seq and wall time (no validation of the body).
     *
     * @throws IllegalArgumentException when the bytes are too short or the kind is unknown
     */
    public static Header header(byte[] bytes) {
        if (bytes.length < OFFSET_DEVICE_ID) {
            throw new IllegalArgumentException("record too short: " + bytes.length + " bytes");
        }
        Reader r = new Reader(bytes, 1, bytes.length);
        UsageRecord.Kind kind = kindOf(r.u8());
        return new Header(kind, r.u64("seq"), r.i64());
    }

    /**
     * Decodes and validates the canonical bytes of one record.
     *
     * @throws IllegalArgumentException saying what is wrong with the bytes
     */
    public static Decoded decode(byte[] bytes) {
        Reader r = new Reader(bytes, 0, bytes.length);
        int format = r.u8();
        if (format != FORMAT_VERSION) {
            throw new IllegalArgumentException("unknown record format " + format + " (this code reads format "
                    + FORMAT_VERSION + ")");
        }
        int kind = r.u8();
        long seq = r.u64("seq");
        long wall = r.i64();
        long mono = r.i64();
        byte[] prev = r.bytes(HASH_BYTES);
        String device = r.string("device_id");
        switch (kind) {
            case KIND_USAGE: {
                UsageEvent e = new UsageEvent(r.string("tenant"), r.string("model"), r.string("model_version"),
                        r.string("plugin"), r.string("plugin_version"), r.string("license_id"), r.string("meter"),
                        r.u64("quantity"), r.u64("compute_nanos"), r.string("accelerator"), r.string("request_id"),
                        r.string("status"));
                r.end("usage record");
                return new Decoded(kind, seq, wall, mono, prev, device, e, null, null, null, null, bytes);
            }
            case KIND_SEAL: {
                int len = r.u16();
                byte[] statementBytes = r.bytes(len);
                byte[] sig = r.bytes(SIGNATURE_BYTES);
                r.end("seal record");
                SealStatement st = SealStatement.decode(statementBytes);
                return new Decoded(kind, seq, wall, mono, prev, device, null, st, statementBytes, sig, null, bytes);
            }
            case KIND_START: {
                PreviousRun p = PreviousRun.of(r.u8());
                r.end("start record");
                return new Decoded(kind, seq, wall, mono, prev, device, null, null, null, null, p, bytes);
            }
            default:
                throw new IllegalArgumentException("unknown record kind " + kind);
        }
    }

    public static byte[] sha256(byte[] bytes, int off, int len) {
        MessageDigest d = newSha256();
        d.update(bytes, off, len);
        return d.digest();
    }

    static MessageDigest newSha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("this JVM has no SHA-256", e);
        }
    }

    public static String hex(byte[] bytes) {
        return HEX.formatHex(bytes);
    }

    public static byte[] unhex(String hex) {
        return HEX.parseHex(hex);
    }

    static boolean isZeroHash(byte[] h) {
        return Arrays.equals(h, ZERO_HASH);
    }

    static byte[] zeroHash() {
        return ZERO_HASH.clone();
    }

    /** Bounds-checked big-endian reader over canonical bytes. */
    private static final class Reader {
        private final byte[] b;
        private int pos;
        private final int end;

        Reader(byte[] b, int pos, int end) {
            this.b = b;
            this.pos = pos;
            this.end = end;
        }

        private void need(int n, String what) {
            if (end - pos < n) {
                throw new IllegalArgumentException("record ends inside " + what + " at offset " + pos + " (needs "
                        + n + " bytes, " + (end - pos) + " left)");
            }
        }

        int u8() {
            need(1, "a u8 field");
            return b[pos++] & 0xFF;
        }

        int u16() {
            need(2, "a u16 field");
            int v = ((b[pos] & 0xFF) << 8) | (b[pos + 1] & 0xFF);
            pos += 2;
            return v;
        }

        long i64() {
            need(8, "an i64 field");
            long v = 0;
            for (int i = 0; i < 8; i++) {
                v = (v << 8) | (b[pos + i] & 0xFF);
            }
            pos += 8;
            return v;
        }

        long u64(String field) {
            long v = i64();
            if (v < 0) {
                throw new IllegalArgumentException(field + " is larger than 2^63-1");
            }
            return v;
        }

        byte[] bytes(int n) {
            need(n, "a " + n + "-byte field");
            byte[] out = Arrays.copyOfRange(b, pos, pos + n);
            pos += n;
            return out;
        }

        String string(String field) {
            int len = u16();
            need(len, "string " + field);
            String s = new String(b, pos, len, StandardCharsets.UTF_8);
            if (!Arrays.equals(s.getBytes(StandardCharsets.UTF_8), 0, len, b, pos, pos + len)) {
                throw new IllegalArgumentException(field + " is not valid UTF-8");
            }
            pos += len;
            return s;
        }

        void end(String what) {
            if (pos != end) {
                throw new IllegalArgumentException(what + " has " + (end - pos) + " unexpected trailing bytes");
            }
        }
    }
}
