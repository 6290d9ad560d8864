package io.tollgate.cloud;

import io.tollgate.cloud.record.Ed25519Keys;
import io.tollgate.cloud.record.RecordDecoder;
import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.Deflater;
import org.bouncycastle.crypto.params.Ed25519PrivateKeyParameters;

/**
 * Test-only device side, written from docs/usage-records.md and docs/sync-protocol.md alone: a journal that
 * produces signed, hash-chained records, and the batch encoder (all three encodings).
 */
public final class TestRecordWriter {
    public static final long T0 = 1_768_478_400_000_000_000L; // 2026-01-15T12:00:00Z

    private final Ed25519PrivateKeyParameters key;
    private final String deviceId;
    private long seq;
    private byte[] prevHash = new byte[32];
    private final List<byte[]> hashes = new ArrayList<>();
    private long wall = T0;
    private long mono = 5_000_000_000L;

    public TestRecordWriter(Ed25519PrivateKeyParameters key, String deviceId) {
        this.key = key;
        this.deviceId = deviceId;
    }

    /** A new device with a fresh key; its id is "tg-" + 16 hex digits of the SPKI hash, as the doc describes. */
    public static TestRecordWriter newDevice() {
        Ed25519PrivateKeyParameters k = Ed25519Keys.generate();
        return new TestRecordWriter(k, "tg-" + Ed25519Keys.spkiSha256Hex(k.generatePublicKey()).substring(0, 16));
    }

    public String deviceId() {
        return deviceId;
    }

    public String publicPem() {
        return Ed25519Keys.publicPem(key.generatePublicKey());
    }

    public long seq() {
        return seq;
    }

    /** Moves the device clock (records take wall times in order). */
    public TestRecordWriter at(long wallNanos, long monoNanos) {
        this.wall = wallNanos;
        this.mono = monoNanos;
        return this;
    }

    public byte[] start(int previousRun) {
        DataOutputStream out = header(3);
        write(out, o -> o.writeByte(previousRun));
        return finish(out);
    }

    public byte[] usage(String tenant, String model, String meter, long quantity) {
        return usage(tenant, model, "1.0.0", "io.tollgate.plugin." + model, "1.0.0", "", meter, quantity, 1_250_000,
                "cpu", "req-" + (seq + 1), "OK");
    }

    public byte[] usage(String tenant, String model, String modelVersion, String plugin, String pluginVersion,
                        String licenseId, String meter, long quantity, long computeNanos, String accelerator,
                        String requestId, String status) {
        DataOutputStream out = header(1);
        write(out, o -> {
            str(o, tenant);
            str(o, model);
            str(o, modelVersion);
            str(o, plugin);
            str(o, pluginVersion);
            str(o, licenseId);
            str(o, meter);
            o.writeLong(quantity);
            o.writeLong(computeNanos);
            str(o, accelerator);
            str(o, requestId);
            str(o, status);
        });
        return finish(out);
    }

    /** A seal over the current head. */
    public byte[] seal(int reason) {
        return seal(seq, hashes.get((int) seq - 1), reason, null);
    }

    /** A seal with explicit contents; {@code signWith} null = the device key. */
    public byte[] seal(long sealedSeq, byte[] sealedHash, int reason, Ed25519PrivateKeyParameters signWith) {
        ByteArrayOutputStream st = new ByteArrayOutputStream();
        DataOutputStream s = new DataOutputStream(st);
        write(s, o -> {
            o.write("TG-SEAL1".getBytes(StandardCharsets.US_ASCII));
            str(o, deviceId);
            o.writeLong(sealedSeq);
            o.write(sealedHash);
            o.writeByte(reason);
        });
        byte[] statement = st.toByteArray();
        byte[] sig = Ed25519Keys.sign(signWith == null ? key : signWith, statement);
        DataOutputStream out = header(2);
        write(out, o -> {
            o.writeShort(statement.length);
            o.write(statement);
            o.write(sig);
        });
        return finish(out);
    }

    public byte[] hashOf(long s) {
        return hashes.get((int) s - 1);
    }

    private ByteArrayOutputStream buffer;

    private DataOutputStream header(int kind) {
        buffer = new ByteArrayOutputStream();
        DataOutputStream out = new DataOutputStream(buffer);
        write(out, o -> {
            o.writeByte(1);
            o.writeByte(kind);
            o.writeLong(seq + 1);
            o.writeLong(wall);
            o.writeLong(mono);
            o.write(prevHash);
            str(o, deviceId);
        });
        return out;
    }

    private byte[] finish(DataOutputStream out) {
        byte[] bytes = buffer.toByteArray();
        seq++;
        prevHash = RecordDecoder.sha256(bytes);
        hashes.add(prevHash);
        wall += 1_000_000;
        mono += 1_000_000;
        return bytes;
    }

    private interface Body {
        void write(DataOutputStream o) throws IOException;
    }

    private static void write(DataOutputStream out, Body body) {
        try {
            body.write(out);
            out.flush();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static void str(DataOutputStream o, String s) throws IOException {
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        o.writeShort(b.length);
        o.write(b);
    }

    /** Frames consecutive records as a batch (docs/sync-protocol.md). */
    public static byte[] batch(int encoding, long firstSeq, List<byte[]> records) {
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        DataOutputStream b = new DataOutputStream(body);
        write(b, o -> {
            for (int i = 0; i < records.size(); i++) {
                byte[] r = records.get(i);
                if (encoding == 2 && i > 0) {
                    byte[] shortened = new byte[r.length - 32];
                    System.arraycopy(r, 0, shortened, 0, 26);
                    System.arraycopy(r, 58, shortened, 26, r.length - 58);
                    r = shortened;
                }
                o.writeInt(r.length);
                o.write(r);
            }
        });
        byte[] payload = body.toByteArray();
        if (encoding != 0) {
            Deflater d = new Deflater();
            d.setInput(payload);
            d.finish();
            ByteArrayOutputStream z = new ByteArrayOutputStream();
            byte[] chunk = new byte[8192];
            while (!d.finished()) {
                z.write(chunk, 0, d.deflate(chunk));
            }
            d.end();
            payload = z.toByteArray();
        }
        ByteArrayOutputStream framed = new ByteArrayOutputStream();
        DataOutputStream f = new DataOutputStream(framed);
        byte[] finalPayload = payload;
        write(f, o -> {
            o.write("TGB1".getBytes(StandardCharsets.US_ASCII));
            o.writeByte(encoding);
            o.writeLong(firstSeq);
            o.writeInt(records.size());
            o.writeInt(finalPayload.length);
            o.write(finalPayload);
        });
        return framed.toByteArray();
    }
}
