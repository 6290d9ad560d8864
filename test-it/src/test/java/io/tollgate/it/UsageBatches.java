package io.tollgate.it;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.zip.Inflater;

/**
 * TGB1 batches (docs/sync-protocol.md) read and written by the test, from the document: decoding a capture of
 * the usage topic (payloads back to back), restoring elided {@code prev_hash}es, and re-encoding records raw so
 * the test can replay or tamper with them.
 */
final class UsageBatches {
    static final int KIND_USAGE = 1;

    private UsageBatches() {
    }

    /** One batch as it travelled ({@code payload}) and its records' full canonical bytes. */
    record Batch(byte[] payload, int encoding, long firstSeq, List<byte[]> records) {
    }

    /** Every complete batch in {@code stream} (TGB1 payloads back to back, as {@code mosquitto_sub -N} writes). */
    static List<Batch> decodeAll(byte[] stream) throws Exception {
        List<Batch> out = new ArrayList<>();
        ByteBuffer b = ByteBuffer.wrap(stream);
        while (b.remaining() >= 21) {
            int start = b.position();
            byte[] magic = new byte[4];
            b.get(magic);
            if (!"TGB1".equals(new String(magic, StandardCharsets.US_ASCII))) {
                throw new AssertionError("no TGB1 magic at offset " + start + " of the capture");
            }
            int encoding = b.get();
            long firstSeq = b.getLong();
            int count = b.getInt();
            int bodyLen = b.getInt();
            if (b.remaining() < bodyLen) {
                break;   // the capture ended inside this batch
            }
            byte[] body = new byte[bodyLen];
            b.get(body);
            byte[] plain = encoding == 0 ? body : inflate(body);
            ByteBuffer p = ByteBuffer.wrap(plain);
            List<byte[]> records = new ArrayList<>();
            for (int i = 0; i < count; i++) {
                byte[] r = new byte[p.getInt()];
                p.get(r);
                if (encoding == 2 && i > 0) {   // prev_hash elided: restore it from the previous record
                    byte[] full = new byte[r.length + 32];
                    System.arraycopy(r, 0, full, 0, 26);
                    System.arraycopy(sha256(records.get(i - 1)), 0, full, 26, 32);
                    System.arraycopy(r, 26, full, 58, r.length - 26);
                    r = full;
                }
                records.add(r);
            }
            out.add(new Batch(Arrays.copyOfRange(stream, start, b.position()), encoding, firstSeq, records));
        }
        return out;
    }

    /** A raw (encoding 0) batch of consecutive records starting at {@code firstSeq}. */
    static byte[] encodeRaw(long firstSeq, List<byte[]> records) {
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        for (byte[] r : records) {
            body.writeBytes(ByteBuffer.allocate(4).putInt(r.length).array());
            body.writeBytes(r);
        }
        ByteBuffer b = ByteBuffer.allocate(21 + body.size());
        b.put("TGB1".getBytes(StandardCharsets.US_ASCII)).put((byte) 0).putLong(firstSeq).putInt(records.size())
                .putInt(body.size()).put(body.toByteArray());
        return b.array();
    }

    static int kind(byte[] record) {
        return record[1];
    }

    static long seq(byte[] record) {
        return ByteBuffer.wrap(record, 2, 8).getLong();
    }

    /** Offset of a USAGE record's {@code quantity} (u64): after device_id and seven strings. */
    static int quantityOffset(byte[] record) {
        ByteBuffer b = ByteBuffer.wrap(record);
        int off = 58;
        for (int i = 0; i < 8; i++) {   // device_id, tenant, model, model_version, plugin, plugin_version, license, meter
            off += 2 + Short.toUnsignedInt(b.getShort(off));
        }
        return off;
    }

    /** A USAGE record's {@code request_id}. */
    static String requestId(byte[] record) {
        ByteBuffer b = ByteBuffer.wrap(record);
        int off = quantityOffset(record) + 16;          // quantity, compute_nanos
        off += 2 + Short.toUnsignedInt(b.getShort(off)); // accelerator
        int len = Short.toUnsignedInt(b.getShort(off));
        return new String(record, off + 2, len, StandardCharsets.UTF_8);
    }

    static String hex(byte[] bytes) {
        StringBuilder s = new StringBuilder();
        for (byte x : bytes) {
            s.append(String.format("%02x", x));
        }
        return s.toString();
    }

    static byte[] sha256(byte[] bytes) throws Exception {
        return MessageDigest.getInstance("SHA-256").digest(bytes);
    }

    private static byte[] inflate(byte[] body) throws Exception {
        Inflater inf = new Inflater();
        inf.setInput(body);
        ByteArrayOutputStream out = new ByteArrayOutputStream(body.length * 4);
        byte[] buf = new byte[65536];
        while (!inf.finished()) {
            int n = inf.inflate(buf);
            if (n == 0 && (inf.needsInput() || inf.needsDictionary())) {
                throw new AssertionError("truncated deflate body");
            }
            out.write(buf, 0, n);
        }
        inf.end();
        return out.toByteArray();
    }
}
