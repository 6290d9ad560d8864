package io.tollgate.cloud.record;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.zip.DataFormatException;
import java.util.zip.Inflater;

/**
 * Decodes the payload of {@code tollgate/v1/{device}/usage}: magic {@code TGB1}, encoding, first_seq, count,
 * body_len, body. Restores elided {@code prev_hash} fields (encoding 2) as the SHA-256 of the previous record's
 * full bytes. It checks framing only; {@link RecordDecoder} and the ledger's verifier check the records.
 */
public final class BatchDecoder {
    static final byte[] MAGIC = "TGB1".getBytes(StandardCharsets.US_ASCII);
    static final int HEADER_BYTES = 4 + 1 + 8 + 4 + 4;
    /** A batch body is at most 256 KiB compressed; inflating beyond this is refused (a zip bomb, not a batch). */
    static final int MAX_INFLATED_BYTES = 64 << 20;
    static final int MAX_COUNT = 1_000_000;

    private BatchDecoder() {
    }

    public static Batch decode(byte[] payload) throws RecordFormatException {
        if (payload.length < HEADER_BYTES) {
            throw new RecordFormatException("batch of " + payload.length + " bytes is shorter than its "
                    + HEADER_BYTES + "-byte header");
        }
        ByteBuffer in = ByteBuffer.wrap(payload);
        byte[] magic = new byte[4];
        in.get(magic);
        if (!Arrays.equals(magic, MAGIC)) {
            throw new RecordFormatException("batch does not start with TGB1");
        }
        int encoding = in.get() & 0xff;
        long firstSeq = in.getLong();
        long count = in.getInt() & 0xffffffffL;
        long bodyLen = in.getInt() & 0xffffffffL;
        if (encoding > Batch.DEFLATE_ELIDED) {
            throw new RecordFormatException("batch encoding " + encoding + " is not 0 (raw), 1 (deflate) or 2 "
                    + "(deflate with hash elision)");
        }
        if (firstSeq < 1) {
            throw new RecordFormatException("batch first_seq " + firstSeq + " is not a positive seq");
        }
        if (count < 1 || count > MAX_COUNT) {
            throw new RecordFormatException("batch count " + count + " is outside 1.." + MAX_COUNT);
        }
        if (bodyLen != in.remaining()) {
            throw new RecordFormatException("batch body_len " + bodyLen + " but " + in.remaining()
                    + " bytes follow the header");
        }
        byte[] body = Arrays.copyOfRange(payload, HEADER_BYTES, payload.length);
        if (encoding != Batch.RAW) {
            body = inflate(body);
        }
        ByteBuffer entries = ByteBuffer.wrap(body);
        List<byte[]> records = new ArrayList<>((int) count);
        byte[] previous = null;
        for (int i = 0; i < count; i++) {
            if (entries.remaining() < 4) {
                throw new RecordFormatException("batch body ends before entry " + (i + 1) + " of " + count);
            }
            long len = entries.getInt() & 0xffffffffL;
            if (len > entries.remaining()) {
                throw new RecordFormatException("batch entry " + (i + 1) + " claims " + len + " bytes, "
                        + entries.remaining() + " left");
            }
            byte[] entry = new byte[(int) len];
            entries.get(entry);
            if (encoding == Batch.DEFLATE_ELIDED && i > 0) {
                entry = restorePrevHash(entry, RecordDecoder.sha256(previous), i + 1);
            }
            records.add(entry);
            previous = entry;
        }
        if (entries.remaining() != 0) {
            throw new RecordFormatException(entries.remaining() + " trailing bytes after the batch's " + count
                    + " entries");
        }
        return new Batch(encoding, firstSeq, (int) count, List.copyOf(records));
    }

    private static byte[] restorePrevHash(byte[] shortened, byte[] prevHash, int entry) throws RecordFormatException {
        int at = RecordDecoder.PREV_HASH_OFFSET;
        if (shortened.length < at) {
            throw new RecordFormatException("batch entry " + entry + " is shorter than a header without prev_hash");
        }
        byte[] full = new byte[shortened.length + RecordDecoder.HASH_BYTES];
        System.arraycopy(shortened, 0, full, 0, at);
        System.arraycopy(prevHash, 0, full, at, RecordDecoder.HASH_BYTES);
        System.arraycopy(shortened, at, full, at + RecordDecoder.HASH_BYTES, shortened.length - at);
        return full;
    }

    private static byte[] inflate(byte[] compressed) throws RecordFormatException {
        Inflater inflater = new Inflater();
        try {
            inflater.setInput(compressed);
            ByteArrayOutputStream out = new ByteArrayOutputStream(compressed.length * 4);
            byte[] chunk = new byte[64 * 1024];
            while (!inflater.finished()) {
                int n = inflater.inflate(chunk);
                if (n == 0 && (inflater.needsInput() || inflater.needsDictionary())) {
                    throw new RecordFormatException("batch body is a truncated zlib stream");
                }
                out.write(chunk, 0, n);
                if (out.size() > MAX_INFLATED_BYTES) {
                    throw new RecordFormatException("batch body inflates beyond " + MAX_INFLATED_BYTES + " bytes");
                }
            }
            if (inflater.getRemaining() != 0) {
                throw new RecordFormatException(inflater.getRemaining() + " bytes after the end of the zlib stream");
            }
            return out.toByteArray();
        } catch (DataFormatException e) {
            throw new RecordFormatException("batch body is not a zlib deflate stream: " + e.getMessage());
        } finally {
            inflater.end();
        }
    }
}
