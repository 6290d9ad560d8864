package io.tollgate.sync.internal;

import io.tollgate.metering.UsageRecord;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.zip.Deflater;

/**
 * Packs consecutive usage records into the batch payload of {@code tollgate/v1/{device}/usage}
 * (docs/sync-protocol.md, "Batch"): {@code TGB1}, encoding, first_seq, count, body_len, body. The body is
 * {@code count} × (u32 length + record); encodings 1 and 2 deflate it (zlib header, default level) and encoding 2
 * first drops {@code prev_hash} (bytes 26..57) from every record after the first. Not thread-safe (one per sender).
 * Public (the package stays private to the bundle) for the test-jar's {@code io.tollgate.sync.testing}.
 */
public final class BatchEncoder {
    static final byte[] MAGIC = "TGB1".getBytes(StandardCharsets.US_ASCII);
    static final int RAW = 0;
    static final int DEFLATE = 1;
    static final int DEFLATE_ELIDED = 2;
    /** Bytes before the body: magic, encoding, first_seq, count, body_len. */
    static final int HEADER_BYTES = 4 + 1 + 8 + 4 + 4;
    /** The protocol's limit on a batch body. */
    static final int MAX_BODY_BYTES = 256 * 1024;

    static final int PREV_HASH_OFFSET = 26;
    static final int HASH_BYTES = 32;
    private static final int MIN_RECORD_BYTES = PREV_HASH_OFFSET + HASH_BYTES;

    private final int encoding;
    private final Deflater deflater = new Deflater(Deflater.DEFAULT_COMPRESSION);
    private final ByteArrayOutputStream plain = new ByteArrayOutputStream(64 * 1024);
    private final byte[] chunk = new byte[64 * 1024];

    public BatchEncoder(int encoding) {
        if (encoding < RAW || encoding > DEFLATE_ELIDED) {
            throw new IllegalArgumentException("encoding must be 0 (raw), 1 (deflate) or 2 (deflate with hash "
                    + "elision) but is " + encoding);
        }
        this.encoding = encoding;
    }

    int encoding() {
        return encoding;
    }

    /**
     * The batch payload for {@code records} (consecutive seqs, at least one), or null when its body would exceed
     * {@link #MAX_BODY_BYTES} (the caller sends fewer records).
     */
    public byte[] encode(List<UsageRecord> records) {
        return encode(records, true);
    }

    /** The batch payload for {@code records}, however large its body. */
    byte[] encodeUnbounded(List<UsageRecord> records) {
        return encode(records, false);
    }

    private byte[] encode(List<UsageRecord> records, boolean bounded) {
        if (records.isEmpty()) {
            throw new IllegalArgumentException("a batch holds at least one record");
        }
        plain.reset();
        byte[] len = new byte[4];
        long expected = records.get(0).seq();
        for (int i = 0; i < records.size(); i++) {
            UsageRecord r = records.get(i);
            if (r.seq() != expected++) {
                throw new IllegalArgumentException("batch records must be consecutive: seq " + r.seq() + " follows "
                        + (expected - 2));
            }
            byte[] b = r.canonicalBytes();
            boolean elide = encoding == DEFLATE_ELIDED && i > 0;
            if (elide && b.length < MIN_RECORD_BYTES) {
                throw new IllegalArgumentException("usage record seq " + r.seq() + " is " + b.length
                        + " bytes, shorter than a record header");
            }
            int n = elide ? b.length - HASH_BYTES : b.length;
            ByteBuffer.wrap(len).putInt(n);
            plain.write(len, 0, 4);
            if (elide) {
                plain.write(b, 0, PREV_HASH_OFFSET);
                plain.write(b, PREV_HASH_OFFSET + HASH_BYTES, b.length - PREV_HASH_OFFSET - HASH_BYTES);
            } else {
                plain.write(b, 0, b.length);
            }
        }
        byte[] body = encoding == RAW ? plain.toByteArray() : deflate(plain.toByteArray());
        if (bounded && body.length > MAX_BODY_BYTES) {
            return null;
        }
        ByteBuffer out = ByteBuffer.allocate(HEADER_BYTES + body.length);
        out.put(MAGIC).put((byte) encoding).putLong(records.get(0).seq()).putInt(records.size()).putInt(body.length)
                .put(body);
        return out.array();
    }

    private byte[] deflate(byte[] in) {
        deflater.reset();
        deflater.setInput(in);
        deflater.finish();
        ByteArrayOutputStream out = new ByteArrayOutputStream(Math.max(64, in.length / 4));
        while (!deflater.finished()) {
            int n = deflater.deflate(chunk);
            out.write(chunk, 0, n);
        }
        return out.toByteArray();
    }
}
