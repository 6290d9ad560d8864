package io.tollgate.metering.internal;

import io.tollgate.metering.UsageEvent;
import io.tollgate.metering.internal.RecordFormat.PreviousRun;
import io.tollgate.metering.internal.RecordFormat.SealReason;
import io.tollgate.metering.internal.RecordFormat.SealStatement;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;

/**
 * The test vector of docs/usage-records.md: the RFC 8032 section 7.1 "TEST 1" key, and the first five records
 * of a new journal (START, its seal, two usage records, a seal). {@link #main} prints the document's
 * test-vector section and writes the files under src/test/resources/test-vector/.
 */
final class TestVector {
    static final String SEED_HEX = "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60";
    static final long T0 = 1_768_478_400_000_000_000L; // 2026-01-15T12:00:00Z
    static final long MONO0 = 5_000_000_000L;

    static final UsageEvent USAGE_3 = new UsageEvent("acme", "fashion-mnist", "1.0.0",
            "io.tollgate.plugin.fashion-mnist", "1.0.0", "", "inference", 4, 1_250_000, "cpu", "req-0001", "OK");
    static final UsageEvent USAGE_4 = new UsageEvent("müller-gmbh", "fashion-mnist", "1.0.0",
            "io.tollgate.plugin.fashion-mnist", "1.0.0", "", "inference", 1, 310_500, "cpu", "req-0002", "OK");

    static Ed25519DeviceKey key() {
        return Ed25519DeviceKey.fromSeed(RecordFormat.unhex(SEED_HEX), "");
    }

    /** Records 1..5 in order. */
    static List<byte[]> records() {
        Ed25519DeviceKey key = key();
        String dev = key.deviceId();
        List<byte[]> out = new ArrayList<>();
        byte[] r1 = RecordFormat.encodeStart(1, T0, MONO0, RecordFormat.zeroHash(), dev, PreviousRun.NEW_JOURNAL);
        out.add(r1);
        byte[] h1 = RecordFormat.sha256(r1, 0, r1.length);
        byte[] st2 = new SealStatement(dev, 1, h1, SealReason.START).encode();
        byte[] r2 = RecordFormat.encodeSeal(2, T0 + 180_000, MONO0 + 180_000, h1, dev, st2, key.sign(st2));
        out.add(r2);
        byte[] r3 = RecordFormat.encodeUsage(3, T0 + 1_500_000_000L, MONO0 + 1_500_000_000L,
                RecordFormat.sha256(r2, 0, r2.length), dev, USAGE_3);
        out.add(r3);
        byte[] r4 = RecordFormat.encodeUsage(4, T0 + 1_500_421_337L, MONO0 + 1_500_421_337L,
                RecordFormat.sha256(r3, 0, r3.length), dev, USAGE_4);
        out.add(r4);
        byte[] h4 = RecordFormat.sha256(r4, 0, r4.length);
        byte[] st5 = new SealStatement(dev, 4, h4, SealReason.RECORD_COUNT).encode();
        byte[] r5 = RecordFormat.encodeSeal(5, T0 + 1_500_600_000L, MONO0 + 1_500_600_000L, h4, dev, st5,
                key.sign(st5));
        out.add(r5);
        return out;
    }

    /** The statement signed by the seal record {@code sealSeq} (2 seals seq 1, 5 seals seq 4). */
    static byte[] statement(int sealSeq) {
        return RecordFormat.decode(records().get(sealSeq - 1)).statementBytes();
    }

    static String hexLines(byte[] b) {
        String hex = RecordFormat.hex(b);
        StringBuilder s = new StringBuilder();
        for (int i = 0; i < hex.length(); i += 64) {
            s.append(hex, i, Math.min(hex.length(), i + 64)).append('\n');
        }
        return s.toString();
    }

    static final String[] KINDS = {"", "USAGE", "SEAL", "START"};

    /** Prints the test-vector block of the document and writes the resource files. */
    public static void main(String[] args) throws IOException {
        Path res = Paths.get(args.length > 0 ? args[0] : "src/test/resources/test-vector");
        Files.createDirectories(res);
        Ed25519DeviceKey key = key();
        Files.writeString(res.resolve("device.key.pem"), key.privatePem(), StandardCharsets.US_ASCII);
        Files.writeString(res.resolve("device.pub.pem"), key.publicKeyPem(), StandardCharsets.US_ASCII);
        List<byte[]> recs = records();
        StringBuilder doc = new StringBuilder();
        for (byte[] r : recs) {
            RecordFormat.Decoded d = RecordFormat.decode(r);
            doc.append("seq ").append(d.seq()).append(' ').append(KINDS[d.kind()]).append(", ").append(r.length)
                    .append(" bytes\n").append(hexLines(r)).append("sha256 ").append(RecordFormat.hex(d.hash()))
                    .append("\n\n");
            Files.write(res.resolve("record-" + d.seq() + ".bin"), r);
        }
        Files.write(res.resolve("seal-5.statement.bin"), statement(5));
        Files.write(res.resolve("seal-5.sig"), RecordFormat.decode(recs.get(4)).signature());
        System.out.println("device id " + key.deviceId());
        System.out.println(key.privatePem());
        System.out.println(key.publicKeyPem());
        System.out.println(doc);
        System.out.println("statement 5\n" + hexLines(statement(5)));
        System.out.println("signature 5\n" + hexLines(RecordFormat.decode(recs.get(4)).signature()));
    }
}
