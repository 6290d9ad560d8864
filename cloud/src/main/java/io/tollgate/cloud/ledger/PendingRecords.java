package io.tollgate.cloud.ledger;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.OffsetDateTime;
import java.util.Map;
import java.util.NavigableMap;
import java.util.TreeMap;

/**
 * The {@code pending} table during ingest: records that arrived beyond a gap, neither billed nor acked, kept until
 * the missing records arrive and they can be verified in order.
 *
 * <p>Threads: called within one ingest transaction (one thread); holds no state.
 */
final class PendingRecords {
    private PendingRecords() {
    }

    /** The pending records of the device beyond {@code head}, by seq. */
    static NavigableMap<Long, byte[]> after(Connection c, String deviceId, long head) throws SQLException {
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

    /** Keeps {@code records} (replacing what is pending under the same seqs); returns how many. */
    static int store(Connection c, String deviceId, NavigableMap<Long, byte[]> records, OffsetDateTime now)
            throws SQLException {
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

    /** Forgets the device's pending records up to {@code upToSeq} (Long.MAX_VALUE: all of them). */
    static void deleteUpTo(Connection c, String deviceId, long upToSeq) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("DELETE FROM pending WHERE device_id = ? AND seq <= ?")) {
            ps.setString(1, deviceId);
            ps.setLong(2, upToSeq);
            ps.executeUpdate();
        }
    }
}
