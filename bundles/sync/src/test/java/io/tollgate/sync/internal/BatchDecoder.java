package io.tollgate.sync.internal;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.zip.DataFormatException;
import java.util.zip.Inflater;

/**
 * The cloud's side of a batch, written from docs/sync-protocol.md alone (not from BatchEncoder): checks the
 * header, inflates, restores elided prev_hash fields as SHA-256 of the previous record's full bytes.
 */
final class BatchDecoder {
    record Batch(int encoding, long firstSeq, int count, int bodyLen, List<byte[]> records) {
    }

    private BatchDecoder() {
    }

    static Batch decode(byte[] payload) {
        ByteBuffer b = ByteBuffer.wrap(payload);
        byte[] magic = new byte[4];
        b.get(magic);
        if (!Arrays.equals(magic, "TGB1".getBytes(StandardCharsets.US_ASCII))) {
            throw new IllegalArgumentException("bad magic");
        }
        int enc = b.get();
        long first = b.getLong();
        int count = b.getInt();
        int bodyLen = b.getInt();
        if (b.remaining() != bodyLen) {
            throw new IllegalArgumentException("body_len " + bodyLen + " but " + b.remaining() + " bytes follow");
        }
        byte[] body = new byte[bodyLen];
        b.get(body);
        if (enc == 1 || enc == 2) {
            body = inflate(body);
        } else if (enc != 0) {
            throw new IllegalArgumentException("unknown encoding " + enc);
        }
        ByteBuffer in = ByteBuffer.wrap(body);
        List<byte[]> records = new ArrayList<>(count);
        byte[] prev = null;
        for (int i = 0; i < count; i++) {
            int len = in.getInt();
            byte[] r = new byte[len];
            in.get(r);
            if (enc == 2 && i > 0) {
                byte[] full = new byte[len + 32];
                System.arraycopy(r, 0, full, 0, 26);
                System.arraycopy(sha256(prev), 0, full, 26, 32);
                System.arraycopy(r, 26, full, 58, len - 26);
                r = full;
            }
            long seq = ByteBuffer.wrap(r).getLong(2);
            if (seq != first + i) {
                throw new IllegalArgumentException("record " + i + " of a batch from seq " + first + " has seq " + seq);
            }
            records.add(r);
            prev = r;
        }
        if (in.hasRemaining()) {
            throw new IllegalArgumentException(in.remaining() + " trailing body bytes");
        }
        return new Batch(enc, first, count, bodyLen, records);
    }

    static byte[] prevHash(byte[] record) {
        return Arrays.copyOfRange(record, 26, 58);
    }

    static long seq(byte[] record) {
        return ByteBuffer.wrap(record).getLong(2);
    }

    static byte[] sha256(byte[] b) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(b);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static byte[] inflate(byte[] body) {
        Inflater inf = new Inflater();
        inf.setInput(body);
        ByteArrayOutputStream out = new ByteArrayOutputStream(body.length * 4);
        byte[] buf = new byte[65536];
        try {
            while (!inf.finished()) {
                int n = inf.inflate(buf);
                if (n == 0 && (inf.needsInput() || inf.needsDictionary())) {
                    throw new IllegalArgumentException("truncated deflate body");
                }
                out.write(buf, 0, n);
            }
        } catch (DataFormatException e) {
            throw new IllegalArgumentException("bad deflate body: " + e.getMessage());
        } finally {
            inf.end();
        }
        return out.toByteArray();
    }
}
