package io.tollgate.cloud.ledger;

import io.tollgate.cloud.record.Batch;
import io.tollgate.cloud.record.BatchDecoder;
import io.tollgate.cloud.record.Ed25519Keys;
import io.tollgate.cloud.record.Hex;
import io.tollgate.cloud.record.RecordDecoder;
import io.tollgate.cloud.record.RecordFormatException;
import io.tollgate.cloud.record.RecordKind;
import io.tollgate.cloud.record.UsageRecord;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import java.util.NavigableMap;
import java.util.TreeMap;
import org.bouncycastle.crypto.params.Ed25519PublicKeyParameters;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Verifies a batch against the device's stored chain and writes the outcome, in one transaction that holds the
 * device's row lock ({@code SELECT … FOR UPDATE}), so instances on one shared subscription never interleave on a
 * device.
 *
 * <p>The rules of docs/usage-records.md, applied from the device's verified head: record head+1 must decode, carry
 * seq head+1, the device's id and prev_hash = hash of the head (32 zero bytes for seq 1); a seal must seal a record
 * before it and after the previous seal, name the device, carry that record's hash and verify with the device's
 * registered key. Records that pass are stored together at the end of the batch, billable at once: a seal that
 * has not arrived yet does not hold billing back. When a record fails, the chain is broken: nothing the batch
 * brought beyond the committed head and the newest valid seal's sealed_seq is trusted, so those records, the
 * failing one and every later record of that device
 * are quarantined, never billed, until an operator looks (docs/billing.md). Records already stored are compared
 * byte for byte: equal ones are absorbed, different ones quarantined as conflicts. Records beyond a gap wait in
 * {@code pending} and are verified when the gap closes.
 */
public final class BatchIngest {
    private static final Logger LOG = LoggerFactory.getLogger(BatchIngest.class);
    private static final byte[] ZERO_HASH = new byte[RecordDecoder.HASH_BYTES];

    private final Database db;

    public BatchIngest(Database db) {
        this.db = db;
    }

    /** Verifies and stores one batch that arrived on {@code tollgate/v1/{deviceId}/usage}; commits before it returns. */
    public IngestResult ingest(String deviceId, byte[] payload) throws SQLException {
        Connection c = db.acquire();
        boolean reusable = false;
        try {
            c.setAutoCommit(false);
            try {
                IngestResult result = ingest(c, deviceId, payload);
                c.commit();
                reusable = true;
                return result;
            } catch (SQLException | RuntimeException e) {
                c.rollback();
                reusable = e instanceof RuntimeException;
                throw e;
            }
        } finally {
            db.release(c, reusable);
        }
    }

    private IngestResult ingest(Connection c, String deviceId, byte[] payload) throws SQLException {
        OffsetDateTime now = OffsetDateTime.now(ZoneOffset.UTC);
        DeviceState state = lockDevice(c, deviceId);
        Batch batch;
        try {
            batch = BatchDecoder.decode(payload);
        } catch (RecordFormatException e) {
            quarantine(c, deviceId, null, "batch not decodable: " + e.getMessage(), payload, now);
            return new IngestResult(deviceId, state != null, state == null ? 0 : state.headSeq, 0, 0, 1, 0, 0, null);
        }
        if (state == null) {
            String reason = "unknown device " + deviceId + ": register its public key (POST /v1/devices or "
                    + "`tollgate-billing device register`); the device re-sends after registration";
            for (int i = 0; i < batch.count(); i++) {
                quarantine(c, deviceId, batch.firstSeq() + i, reason, batch.records().get(i), now);
            }
            return new IngestResult(deviceId, false, 0, 0, 0, batch.count(), 0, 0, null);
        }

        int duplicates = 0;
        int quarantined = 0;
        NavigableMap<Long, byte[]> candidates = new TreeMap<>();
        // a re-sent batch (the device did not see our ack) overlaps the stored head: one range query, not one per record
        Map<Long, byte[]> alreadyStored = storedBytes(c, deviceId, batch.firstSeq(),
                Math.min(state.headSeq, batch.firstSeq() + batch.count() - 1));
        for (int i = 0; i < batch.count(); i++) {
            long seq = batch.firstSeq() + i;
            byte[] bytes = batch.records().get(i);
            if (state.brokenAtSeq > 0 && seq >= state.brokenAtSeq) {
                quarantined += quarantine(c, deviceId, seq, brokenReason(state), bytes, now);
            } else if (seq <= state.headSeq) {
                byte[] stored = alreadyStored.get(seq);
                if (Arrays.equals(stored, bytes)) {
                    duplicates++;
                } else {
                    quarantined += quarantine(c, deviceId, seq, "conflict: seq " + seq + " differs from the stored "
                            + "record (stored hash " + Hex.of(RecordDecoder.sha256(stored)) + ", received hash "
                            + Hex.of(RecordDecoder.sha256(bytes)) + ")", bytes, now);
                }
            } else {
                candidates.put(seq, bytes);
            }
        }
        long firstNew = candidates.isEmpty() ? 0 : candidates.firstKey();
        if (state.brokenAtSeq == 0) {
            for (Map.Entry<Long, byte[]> p : pendingAfter(c, deviceId, state.headSeq).entrySet()) {
                candidates.putIfAbsent(p.getKey(), p.getValue());
            }
        }

        Ed25519PublicKeyParameters key;
        try {
            key = Ed25519Keys.parsePublicPem(state.publicKeyPem);
        } catch (RecordFormatException e) {
            throw new IllegalStateException("device " + deviceId + " has an unreadable key in the ledger: "
                    + e.getMessage(), e);
        }
        Map<Long, byte[]> newHashes = new HashMap<>();
        java.util.List<UsageRecord> accepted = new java.util.ArrayList<>();
        long startHead = state.headSeq;
        byte[] startHash = state.headHash;
        long startSealed = state.sealedSeq;
        while (state.brokenAtSeq == 0 && candidates.containsKey(state.headSeq + 1)) {
            long seq = state.headSeq + 1;
            byte[] bytes = candidates.remove(seq);
            UsageRecord record;
            String failure;
            try {
                record = RecordDecoder.decode(bytes);
                failure = check(c, deviceId, key, state, record, newHashes);
            } catch (RecordFormatException e) {
                record = null;
                failure = "seq " + seq + ": " + e.getMessage();
            }
            if (failure != null) {
                // Nothing this batch brought is trusted beyond what a valid seal vouches for: cut back to the
                // newest of (the committed head, the last valid seal's sealed_seq) and quarantine the rest.
                long cut = Math.max(startHead, state.sealedSeq);
                state.brokenAtSeq = cut + 1;
                state.brokenReason = failure;
                LOG.warn("Device {}: {}; records from seq {} on are quarantined", deviceId, failure, cut + 1);
                String reason = brokenReason(state);
                for (UsageRecord r : accepted) {
                    if (r.seq() > cut) {
                        quarantined += quarantine(c, deviceId, r.seq(), reason, r.bytes(), now);
                    }
                }
                accepted.removeIf(r -> r.seq() > cut);
                quarantined += quarantine(c, deviceId, seq, failure, bytes, now);
                for (Map.Entry<Long, byte[]> rest : candidates.entrySet()) {
                    quarantined += quarantine(c, deviceId, rest.getKey(), reason, rest.getValue(), now);
                }
                candidates.clear();
                deletePending(c, deviceId, Long.MAX_VALUE);
                if (cut == startHead) {
                    state.headSeq = startHead;
                    state.headHash = startHash;
                } else {
                    state.headSeq = cut;
                    state.headHash = newHashes.get(cut);
                }
                state.sealedSeq = Math.max(startSealed, accepted.stream().filter(r -> r.kind() == RecordKind.SEAL)
                        .mapToLong(r -> r.seal().sealedSeq()).max().orElse(0));
                break;
            }
            accepted.add(record);
            newHashes.put(seq, record.hash());
            state.headSeq = seq;
            state.headHash = record.hash();
            if (record.kind() == RecordKind.SEAL) {
                state.sealedSeq = record.seal().sealedSeq();
            }
        }
        try (PreparedStatement insert = c.prepareStatement(INSERT_RECORD)) {
            for (UsageRecord r : accepted) {
                bindRecord(insert, r, now);
                insert.addBatch();
            }
            insert.executeBatch();
        }
        int stored = accepted.size();

        int pending = 0;
        long gapFrom = 0;
        String gapReason = null;
        if (!candidates.isEmpty()) {
            pending = storePending(c, deviceId, candidates, now);
            gapFrom = state.headSeq + 1;
            gapReason = "gap: have up to " + state.headSeq + ", got " + (firstNew > 0 ? firstNew : candidates.firstKey());
        }
        deletePending(c, deviceId, state.headSeq);
        updateDevice(c, deviceId, state);
        return new IngestResult(deviceId, true, state.headSeq, stored, duplicates, quarantined, pending, gapFrom,
                gapReason);
    }

    /** Rules 1, 3 and 4 for the record that would extend the verified head; null when it passes. */
    private static String check(Connection c, String deviceId, Ed25519PublicKeyParameters key, DeviceState state,
                                UsageRecord r, Map<Long, byte[]> newHashes) throws SQLException {
        long expected = state.headSeq + 1;
        if (r.seq() != expected) {
            return "batch position says seq " + expected + " but the record holds seq " + r.seq();
        }
        if (!deviceId.equals(r.deviceId())) {
            return "seq " + r.seq() + ": record names device '" + r.deviceId() + "' but arrived on the topic of "
                    + deviceId;
        }
        byte[] prev = state.headSeq == 0 ? ZERO_HASH : state.headHash;
        if (!Arrays.equals(prev, r.prevHash())) {
            return state.headSeq == 0 ? "seq 1: prev_hash is not 32 zero bytes"
                    : "seq " + r.seq() + ": prev_hash does not match the hash of seq " + state.headSeq;
        }
        if (r.kind() != RecordKind.SEAL) {
            return null;
        }
        UsageRecord.Seal seal = r.seal();
        if (!deviceId.equals(seal.statementDeviceId())) {
            return "seq " + r.seq() + ": seal statement names device '" + seal.statementDeviceId() + "'";
        }
        if (seal.sealedSeq() >= r.seq()) {
            return "seq " + r.seq() + ": seal's sealed_seq " + seal.sealedSeq() + " is not before the seal";
        }
        if (seal.sealedSeq() <= state.sealedSeq) {
            return "seq " + r.seq() + ": seal's sealed_seq " + seal.sealedSeq() + " is not after the previous seal's "
                    + state.sealedSeq;
        }
        byte[] sealedHash = newHashes.get(seal.sealedSeq());
        if (sealedHash == null) {
            byte[] bytes = storedBytes(c, deviceId, seal.sealedSeq());
            sealedHash = bytes == null ? null : RecordDecoder.sha256(bytes);
        }
        if (sealedHash == null || !Arrays.equals(sealedHash, seal.sealedHash())) {
            return "seq " + r.seq() + ": seal's sealed_hash is not the hash of seq " + seal.sealedSeq();
        }
        if (!Ed25519Keys.verify(key, seal.statement(), seal.signature())) {
            return "seq " + r.seq() + ": seal signature invalid";
        }
        return null;
    }

    private static String brokenReason(DeviceState state) {
        return "device chain broken from seq " + state.brokenAtSeq + " (" + state.brokenReason + "): not vouched "
                + "for by a valid seal, not billed";
    }

    static final String INSERT_RECORD = "INSERT INTO records (device_id, seq, kind, wall_time_nanos, tenant, model, "
            + "model_version, plugin, plugin_version, license_id, meter, quantity, compute_nanos, accelerator, "
            + "request_id, status, sealed_seq, hash, bytes, received_at) "
            + "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";

    private static void bindRecord(PreparedStatement ps, UsageRecord r, OffsetDateTime now) throws SQLException {
        UsageRecord.Usage u = r.usage();
        ps.setString(1, r.deviceId());
        ps.setLong(2, r.seq());
        ps.setString(3, r.kind().label());
        ps.setLong(4, r.wallTimeNanos());
        ps.setString(5, u == null ? null : u.tenant());
        ps.setString(6, u == null ? null : u.model());
        ps.setString(7, u == null ? null : u.modelVersion());
        ps.setString(8, u == null ? null : u.plugin());
        ps.setString(9, u == null ? null : u.pluginVersion());
        ps.setString(10, u == null ? null : u.licenseId());
        ps.setString(11, u == null ? null : u.meter());
        ps.setObject(12, u == null ? null : u.quantity(), java.sql.Types.BIGINT);
        ps.setObject(13, u == null ? null : u.computeNanos(), java.sql.Types.BIGINT);
        ps.setString(14, u == null ? null : u.accelerator());
        ps.setString(15, u == null ? null : u.requestId());
        ps.setString(16, u == null ? null : u.status());
        ps.setObject(17, r.seal() == null ? null : r.seal().sealedSeq(), java.sql.Types.BIGINT);
        ps.setString(18, r.hashHex());
        ps.setBytes(19, r.bytes());
        ps.setObject(20, now);
    }

    /** Inserts a quarantine row unless the same bytes are already quarantined for that seq; returns 1 (counted). */
    private static int quarantine(Connection c, String deviceId, Long seq, String reason, byte[] bytes,
                                  OffsetDateTime now) throws SQLException {
        String hash = Hex.of(RecordDecoder.sha256(bytes));
        try (PreparedStatement q = c.prepareStatement("SELECT 1 FROM quarantine WHERE device_id = ? AND "
                + (seq == null ? "seq IS NULL" : "seq = ?") + " AND hash = ?")) {
            q.setString(1, deviceId);
            int i = 2;
            if (seq != null) {
                q.setLong(i++, seq);
            }
            q.setString(i, hash);
            try (ResultSet rs = q.executeQuery()) {
                if (rs.next()) {
                    return 1;
                }
            }
        }
        try (PreparedStatement ps = c.prepareStatement("INSERT INTO quarantine (device_id, seq, reason, hash, bytes, "
                + "received_at) VALUES (?, ?, ?, ?, ?, ?)")) {
            ps.setString(1, deviceId);
            ps.setObject(2, seq, java.sql.Types.BIGINT);
            ps.setString(3, reason.length() > 4000 ? reason.substring(0, 4000) : reason);
            ps.setString(4, hash);
            ps.setBytes(5, bytes);
            ps.setObject(6, now);
            ps.executeUpdate();
        }
        LOG.debug("Quarantined {} seq {}: {}", deviceId, seq, reason);
        return 1;
    }

    private static byte[] storedBytes(Connection c, String deviceId, long seq) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT bytes FROM records WHERE device_id = ? AND seq = ?")) {
            ps.setString(1, deviceId);
            ps.setLong(2, seq);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? rs.getBytes(1) : null;
            }
        }
    }

    /** The stored bytes of seq {@code from..to} (inclusive) by seq; empty when {@code to < from}. */
    private static Map<Long, byte[]> storedBytes(Connection c, String deviceId, long from, long to)
            throws SQLException {
        Map<Long, byte[]> out = new HashMap<>();
        if (to < from) {
            return out;
        }
        try (PreparedStatement ps = c.prepareStatement(
                "SELECT seq, bytes FROM records WHERE device_id = ? AND seq BETWEEN ? AND ?")) {
            ps.setString(1, deviceId);
            ps.setLong(2, from);
            ps.setLong(3, to);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    out.put(rs.getLong(1), rs.getBytes(2));
                }
            }
        }
        return out;
    }

    private static NavigableMap<Long, byte[]> pendingAfter(Connection c, String deviceId, long head)
            throws SQLException {
        NavigableMap<Long, byte[]> out = new TreeMap<>();
        try (PreparedStatement ps = c.prepareStatement(
                "SELECT seq, bytes FROM pending WHERE device_id = ? AND seq > ? ORDER BY seq")) {
            ps.setString(1, deviceId);
            ps.setLong(2, head);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    out.put(rs.getLong(1), rs.getBytes(2));
                }
            }
        }
        return out;
    }

    private static int storePending(Connection c, String deviceId, NavigableMap<Long, byte[]> records,
                                    OffsetDateTime now) throws SQLException {
        try (PreparedStatement del = c.prepareStatement("DELETE FROM pending WHERE device_id = ? AND seq = ?");
             PreparedStatement ins = c.prepareStatement(
                     "INSERT INTO pending (device_id, seq, bytes, received_at) VALUES (?, ?, ?, ?)")) {
            for (Map.Entry<Long, byte[]> e : records.entrySet()) {
                del.setString(1, deviceId);
                del.setLong(2, e.getKey());
                del.addBatch();
                ins.setString(1, deviceId);
                ins.setLong(2, e.getKey());
                ins.setBytes(3, e.getValue());
                ins.setObject(4, now);
                ins.addBatch();
            }
            del.executeBatch();
            ins.executeBatch();
        }
        return records.size();
    }

    private static void deletePending(Connection c, String deviceId, long upToSeq) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("DELETE FROM pending WHERE device_id = ? AND seq <= ?")) {
            ps.setString(1, deviceId);
            ps.setLong(2, upToSeq);
            ps.executeUpdate();
        }
    }

    private static DeviceState lockDevice(Connection c, String deviceId) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT public_key_pem, head_seq, head_hash, sealed_seq, "
                + "broken_at_seq, broken_reason FROM devices WHERE id = ? FOR UPDATE")) {
            ps.setString(1, deviceId);
            try (ResultSet rs = ps.executeQuery()) {
                if (!rs.next()) {
                    return null;
                }
                DeviceState s = new DeviceState();
                s.publicKeyPem = rs.getString(1);
                s.headSeq = rs.getLong(2);
                String head = rs.getString(3);
                s.headHash = head == null ? null : Hex.parse(head);
                s.sealedSeq = rs.getLong(4);
                s.brokenAtSeq = rs.getLong(5);
                s.brokenReason = rs.getString(6);
                return s;
            }
        }
    }

    private static void updateDevice(Connection c, String deviceId, DeviceState s) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("UPDATE devices SET head_seq = ?, head_hash = ?, sealed_seq = ?, "
                + "broken_at_seq = ?, broken_reason = ? WHERE id = ?")) {
            ps.setLong(1, s.headSeq);
            ps.setString(2, s.headHash == null ? null : Hex.of(s.headHash));
            ps.setLong(3, s.sealedSeq);
            ps.setObject(4, s.brokenAtSeq == 0 ? null : s.brokenAtSeq, java.sql.Types.BIGINT);
            ps.setString(5, s.brokenReason);
            ps.setString(6, deviceId);
            ps.executeUpdate();
        }
    }

    /** The device row as the transaction sees it; mutated as records are verified, written back at the end. */
    private static final class DeviceState {
        String publicKeyPem;
        long headSeq;
        byte[] headHash;
        long sealedSeq;
        long brokenAtSeq;
        String brokenReason;
    }
}
