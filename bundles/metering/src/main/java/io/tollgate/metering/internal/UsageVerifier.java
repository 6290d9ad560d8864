package io.tollgate.metering.internal;

import io.tollgate.metering.internal.RecordFormat.Decoded;
import io.tollgate.metering.internal.RecordFormat.SealStatement;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Walks a usage journal and checks it the way the cloud does: every record decodes, sequence numbers are
 * gapless and increasing, every prev_hash is the hash of the record before it, and every seal covers a
 * later record than the seal before it, names that record's hash correctly and carries a valid
 * signature by the device key. Stops at the first problem and names it precisely.
 */
public final class UsageVerifier {
    /** Hashes kept for records not yet covered by a seal; beyond this a seal far behind cannot be checked. */
    private static final int MAX_UNSEALED_HASHES = 1 << 20;

    private final DevicePublicKey key;

    // walk state
    private long records;
    private long usage;
    private long seals;
    private long starts;
    private long firstSeq = -1;
    private long prevSeq = -1;
    private byte[] prevHash;
    private long lastSealedSeq;
    private String firstDevice;
    private String problem;
    private long problemSeq = -1;
    private final List<String> notes = new ArrayList<>();
    /** seq -> hash of records after the last sealed seq, with whether each is a seal. */
    private final LinkedHashMap<Long, byte[]> unsealed = new LinkedHashMap<>();
    private final LinkedHashMap<Long, Boolean> unsealedIsSeal = new LinkedHashMap<>();

    public UsageVerifier(DevicePublicKey key) {
        this.key = key;
    }

    /**
     * What a walk found.
     *
     * @param problem    the first problem ("seq 1042: prev_hash does not match the hash of seq 1041"), null when
     *                   the journal verifies
     * @param problemSeq the seq the problem is reported at (-1 when none)
     * @param unsealed   records (other than seals) after the last seal: normal while the appliance runs
     */
    public record Report(long records, long usageRecords, long seals, long starts, long firstSeq, long lastSeq,
                         long unsealed, String problem, long problemSeq, List<String> notes) {
        public boolean ok() {
            return problem == null;
        }

        public String summary() {
            if (!ok()) {
                return "FAILED: " + problem + " (after " + records + " records)";
            }
            return "OK: " + records + " records (seq " + firstSeq + ".." + lastSeq + "): " + usageRecords
                    + " usage, " + seals + " seals, " + starts + " starts; " + unsealed
                    + " records after the last seal";
        }
    }

    /** Verifies the journal in {@code journalDir} (read-only). */
    public static Report verify(Path journalDir, DevicePublicKey key) throws IOException {
        UsageVerifier v = new UsageVerifier(key);
        JournalReader.forEach(journalDir, v::accept);
        return v.report();
    }

    /** Verifies records given in order. */
    public static Report verify(Iterable<byte[]> recordsInOrder, DevicePublicKey key) {
        UsageVerifier v = new UsageVerifier(key);
        for (byte[] r : recordsInOrder) {
            if (!v.accept(r)) {
                break;
            }
        }
        return v.report();
    }

    /** Checks the next record; false once a problem was found (the walk stops there). */
    public boolean accept(byte[] bytes) {
        if (problem != null) {
            return false;
        }
        records++;
        Decoded d;
        try {
            d = RecordFormat.decode(bytes);
        } catch (IllegalArgumentException e) {
            long seq = -1;
            try {
                seq = RecordFormat.seqOf(bytes);
            } catch (IllegalArgumentException ignored) {
                // too short to hold a seq
            }
            return fail(seq, (seq >= 0 ? "seq " + seq : "record after seq " + prevSeq) + ": cannot be decoded: "
                    + e.getMessage());
        }
        long seq = d.seq();
        byte[] hash = d.hash();
        if (prevSeq < 0) {
            firstSeq = seq;
            firstDevice = d.deviceId();
            if (seq == 1 && !RecordFormat.isZeroHash(d.prevHash())) {
                return fail(seq, "seq 1: prev_hash of the first record must be 32 zero bytes");
            }
            if (seq == 0) {
                return fail(seq, "seq 0: sequence numbers start at 1");
            }
            if (seq > 1) {
                notes.add("the journal starts at seq " + seq + " (earlier records were released and deleted); "
                        + "its prev_hash cannot be checked here");
            }
        } else {
            if (seq > prevSeq + 1) {
                return fail(seq, "gap: seq " + prevSeq + " followed by " + seq);
            }
            if (seq <= prevSeq) {
                return fail(seq, "out of order: seq " + prevSeq + " followed by " + seq);
            }
            if (!Arrays.equals(d.prevHash(), prevHash)) {
                return fail(seq, "seq " + seq + ": prev_hash does not match the hash of seq " + prevSeq);
            }
        }
        if (!d.deviceId().equals(firstDevice) && notes.stream().noneMatch(n -> n.startsWith("device id changes"))) {
            notes.add("device id changes from " + firstDevice + " to " + d.deviceId() + " at seq " + seq);
        }
        switch (d.kind()) {
            case RecordFormat.KIND_USAGE -> usage++;
            case RecordFormat.KIND_START -> starts++;
            case RecordFormat.KIND_SEAL -> {
                if (!checkSeal(d)) {
                    return false;
                }
                seals++;
            }
            default -> throw new IllegalStateException("decode accepted kind " + d.kind());
        }
        unsealed.put(seq, hash);
        unsealedIsSeal.put(seq, d.kind() == RecordFormat.KIND_SEAL);
        if (unsealed.size() > MAX_UNSEALED_HASHES) {
            Iterator<Long> it = unsealed.keySet().iterator();
            unsealedIsSeal.remove(it.next());
            it.remove();
        }
        prevSeq = seq;
        prevHash = hash;
        return true;
    }

    private boolean checkSeal(Decoded d) {
        long seq = d.seq();
        SealStatement st = d.statement();
        if (!st.deviceId().equals(d.deviceId())) {
            return fail(seq, "seq " + seq + ": seal statement names device " + st.deviceId() + " but the record is "
                    + "from device " + d.deviceId());
        }
        if (st.sealedSeq() >= seq) {
            return fail(seq, "seq " + seq + ": seal covers seq " + st.sealedSeq() + ", which is not before the seal");
        }
        if (st.sealedSeq() <= lastSealedSeq) {
            return fail(seq, "seq " + seq + ": seal covers seq " + st.sealedSeq() + ", not after the previous seal's seq "
                    + lastSealedSeq);
        }
        byte[] known = unsealed.get(st.sealedSeq());
        if (known != null) {
            if (!Arrays.equals(known, st.sealedHash())) {
                return fail(seq, "seq " + seq + ": sealed_hash does not match the hash of seq " + st.sealedSeq());
            }
        } else if (st.sealedSeq() >= firstSeq) {
            return fail(seq, "seq " + seq + ": seal covers seq " + st.sealedSeq() + " whose hash is not known here");
        } else {
            notes.add("seq " + seq + " seals seq " + st.sealedSeq() + ", before the first record on disk: only its "
                    + "signature was checked");
        }
        if (!key.verify(d.statementBytes(), d.signature())) {
            return fail(seq, "seq " + seq + ": seal signature invalid");
        }
        lastSealedSeq = st.sealedSeq();
        Iterator<Map.Entry<Long, byte[]>> it = unsealed.entrySet().iterator();
        while (it.hasNext()) {
            long s = it.next().getKey();
            if (s > lastSealedSeq) {
                break;
            }
            it.remove();
            unsealedIsSeal.remove(s);
        }
        return true;
    }

    private boolean fail(long seq, String why) {
        problem = why;
        problemSeq = seq;
        return false;
    }

    public Report report() {
        long tail = unsealedIsSeal.values().stream().filter(isSeal -> !isSeal).count();
        return new Report(records, usage, seals, starts, Math.max(firstSeq, 0), Math.max(prevSeq, 0), tail, problem,
                problemSeq, List.copyOf(notes));
    }
}
