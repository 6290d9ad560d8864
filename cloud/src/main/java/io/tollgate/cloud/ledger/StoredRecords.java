package io.tollgate.cloud.ledger;

import io.tollgate.cloud.record.UsageRecord;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.OffsetDateTime;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The {@code records} table during ingest: the sealed records (billable unless {@code billable} is false) (one row per device and seq), read back
 * to absorb duplicates and to check seals, and written in one JDBC batch per ingest.
 *
 * <p>Threads: called within one ingest transaction (one thread); holds no state.
 */
final class StoredRecords {
    private static final String INSERT_RECORD = "INSERT INTO records (device_id, seq, kind, wall_time_nanos, tenant, model, "
            + "model_version, plugin, plugin_version, license_id, meter, quantity, compute_nanos, accelerator, "
            + "request_id, status, sealed_seq, hash, bytes, received_at, billable) "
            + "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";

    private StoredRecords() {
    }

    /** The stored bytes of one record, or null. */
    static byte[] bytes(Connection c, String deviceId, long seq) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT bytes FROM records WHERE device_id = ? AND seq = ?")) {
            ps.setString(1, deviceId);
            ps.setLong(2, seq);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? rs.getBytes(1) : null;
            }
        }
    }

    /** The stored bytes of seq {@code from..to} (inclusive) by seq; empty when {@code to < from}. */
    static Map<Long, byte[]> bytes(Connection c, String deviceId, long from, long to) throws SQLException {
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

    /** Inserts the sealed records in one JDBC batch; those at {@code notBillable} seqs are kept but never billed. */
    static void insert(Connection c, List<UsageRecord> records, java.util.Set<Long> notBillable, OffsetDateTime now)
            throws SQLException {
        try (PreparedStatement insert = c.prepareStatement(INSERT_RECORD)) {
            for (UsageRecord r : records) {
                bind(insert, r, now);
                insert.setBoolean(21, !notBillable.contains(r.seq()));
                insert.addBatch();
            }
            insert.executeBatch();
        }
    }

    /**
     * Inserts the sealed records one at a time, each under a savepoint: a record the database refuses
     * deterministically (SQLSTATE 22/23, {@link IngestFailures}) is inserted again without its usage columns, never
     * billable, and quarantined with the database's reason; the chain goes on through it (issue 8). Other failures
     * are thrown.
     */
    static void insertSalvaging(Connection c, List<UsageRecord> records, java.util.Set<Long> notBillable,
                                OffsetDateTime now, Quarantine quarantine) throws SQLException {
        try (PreparedStatement insert = c.prepareStatement(INSERT_RECORD)) {
            for (UsageRecord r : records) {
                java.sql.Savepoint sp = c.setSavepoint();
                try {
                    bind(insert, r, now);
                    insert.setBoolean(21, !notBillable.contains(r.seq()));
                    insert.executeUpdate();
                } catch (SQLException e) {
                    if (!IngestFailures.deterministic(e)) {
                        throw e;
                    }
                    c.rollback(sp);
                    bindStub(insert, r, now);
                    insert.executeUpdate();
                    quarantine.add(r.seq(), "seq " + r.seq() + ": the ledger cannot store this record's fields ("
                            + IngestFailures.describe(e) + "); kept in the chain without them, acked, never billed",
                            r.bytes());
                }
                c.releaseSavepoint(sp);
            }
        }
    }

    /** The record's identity, chain and bytes only: no usage column, not billable. */
    private static void bindStub(PreparedStatement ps, UsageRecord r, OffsetDateTime now) throws SQLException {
        ps.setString(1, r.deviceId());
        ps.setLong(2, r.seq());
        ps.setString(3, r.kind().label());
        ps.setLong(4, r.wallTimeNanos());
        for (int i = 5; i <= 16; i++) {
            if (i == 12 || i == 13) {
                ps.setNull(i, java.sql.Types.BIGINT);
            } else {
                ps.setNull(i, java.sql.Types.VARCHAR);
            }
        }
        ps.setObject(17, r.seal() == null ? null : r.seal().sealedSeq(), java.sql.Types.BIGINT);
        ps.setString(18, r.hashHex());
        ps.setBytes(19, r.bytes());
        ps.setObject(20, now);
        ps.setBoolean(21, false);
    }

    private static void bind(PreparedStatement ps, UsageRecord r, OffsetDateTime now) throws SQLException {
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
}
