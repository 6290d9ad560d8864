package io.tollgate.cloud.record;

import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;

/**
 * Decodes the canonical bytes of one record of format 1 exactly as docs/usage-records.md lays them out:
 * big-endian, {@code str} = u16 byte count + UTF-8, no trailing bytes. Rule 1 of the verifier.
 */
public final class RecordDecoder {
    public static final int FORMAT = 1;
    public static final int PREV_HASH_OFFSET = 26;
    public static final int HASH_BYTES = 32;
    public static final int SIGNATURE_BYTES = 64;
    static final byte[] SEAL_MAGIC = "TG-SEAL1".getBytes(StandardCharsets.US_ASCII);

    private RecordDecoder() {
    }

    public static byte[] sha256(byte[] bytes) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(bytes);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("the JDK has no SHA-256", e);
        }
    }

    public static UsageRecord decode(byte[] bytes) throws RecordFormatException {
        Reader in = new Reader(bytes);
        int format = in.u8("format");
        if (format != FORMAT) {
            throw new RecordFormatException("record format " + format + " is not 1; this verifier reads format 1 only");
        }
        RecordKind kind = RecordKind.of(in.u8("kind"));
        long seq = in.u64("seq");
        long wall = in.i64("wall_time_nanos");
        long mono = in.i64("monotonic_nanos");
        byte[] prev = in.bytes(HASH_BYTES, "prev_hash");
        String deviceId = in.str("device_id");
        UsageRecord.Usage usage = null;
        UsageRecord.Seal seal = null;
        int previousRun = -1;
        switch (kind) {
            case USAGE -> usage = new UsageRecord.Usage(in.str("tenant"), in.str("model"), in.str("model_version"),
                    in.str("plugin"), in.str("plugin_version"), in.str("license_id"), in.str("meter"),
                    in.u64("quantity"), in.u64("compute_nanos"), in.str("accelerator"), in.str("request_id"),
                    in.str("status"));
            case SEAL -> {
                int len = in.u16("statement_len");
                byte[] statement = in.bytes(len, "statement");
                byte[] signature = in.bytes(SIGNATURE_BYTES, "signature");
                seal = decodeStatement(statement, signature, seq);
            }
            case START -> {
                previousRun = in.u8("previous_run");
                if (previousRun > 2) {
                    throw new RecordFormatException("seq " + seq + ": START previous_run " + previousRun
                            + " is not 0, 1 or 2");
                }
            }
        }
        if (in.remaining() != 0) {
            throw new RecordFormatException("seq " + seq + ": " + in.remaining() + " trailing bytes after the "
                    + kind.label() + " record");
        }
        return new UsageRecord(kind, seq, wall, mono, prev, deviceId, usage, seal, previousRun, bytes.clone(),
                sha256(bytes));
    }

    private static UsageRecord.Seal decodeStatement(byte[] statement, byte[] signature, long seq)
            throws RecordFormatException {
        Reader st = new Reader(statement);
        byte[] magic = st.bytes(SEAL_MAGIC.length, "statement magic");
        if (!Arrays.equals(magic, SEAL_MAGIC)) {
            throw new RecordFormatException("seq " + seq + ": seal statement does not start with TG-SEAL1");
        }
        String device = st.str("statement device_id");
        long sealedSeq = st.u64("sealed_seq");
        byte[] sealedHash = st.bytes(HASH_BYTES, "sealed_hash");
        int reason = st.u8("reason");
        if (reason < 1 || reason > 4) {
            throw new RecordFormatException("seq " + seq + ": seal reason " + reason + " is not 1..4");
        }
        if (st.remaining() != 0) {
            throw new RecordFormatException("seq " + seq + ": " + st.remaining()
                    + " trailing bytes after the seal statement");
        }
        return new UsageRecord.Seal(statement, device, sealedSeq, sealedHash, reason, signature);
    }

    /** Bounds-checked big-endian reader that names the field it could not read. */
    private static final class Reader {
        private final ByteBuffer buf;

        Reader(byte[] bytes) {
            this.buf = ByteBuffer.wrap(bytes);
        }

        int remaining() {
            return buf.remaining();
        }

        private void need(int n, String field) throws RecordFormatException {
            if (buf.remaining() < n) {
                throw new RecordFormatException("record ends inside " + field + " (needs " + n + " bytes at offset "
                        + buf.position() + ", " + buf.remaining() + " left)");
            }
        }

        int u8(String field) throws RecordFormatException {
            need(1, field);
            return buf.get() & 0xff;
        }

        int u16(String field) throws RecordFormatException {
            need(2, field);
            return buf.getShort() & 0xffff;
        }

        long i64(String field) throws RecordFormatException {
            need(8, field);
            return buf.getLong();
        }

        long u64(String field) throws RecordFormatException {
            long v = i64(field);
            if (v < 0) {
                throw new RecordFormatException(field + " exceeds 2^63-1");
            }
            return v;
        }

        byte[] bytes(int n, String field) throws RecordFormatException {
            need(n, field);
            byte[] out = new byte[n];
            buf.get(out);
            return out;
        }

        String str(String field) throws RecordFormatException {
            int n = u16(field + " length");
            byte[] raw = bytes(n, field);
            try {
                return StandardCharsets.UTF_8.newDecoder()
                        .onMalformedInput(CodingErrorAction.REPORT)
                        .onUnmappableCharacter(CodingErrorAction.REPORT)
                        .decode(ByteBuffer.wrap(raw)).toString();
            } catch (CharacterCodingException e) {
                throw new RecordFormatException(field + " is not valid UTF-8");
            }
        }
    }
}
