package io.tollgate.cloud.ledger;

import io.tollgate.cloud.record.Hex;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.OptionalLong;

/**
 * The {@code pending} table during ingest: records beyond the device's sealed head, neither billed nor acked, kept
 * until a seal that verifies with the device key covers them (docs/billing.md, "Only sealed records are billed").
 * Keyed by (device, seq, hash): several records may wait for one seq (a forged one and the genuine one); the seal
 * decides which one is the device's.
 *
 * <p>Threads: called within one ingest transaction (one thread); holds no state.
 */
final class PendingRecords {
    private PendingRecords() {
    }

    /** The pending records of the device beyond {@code head}, in seq order. */
    static List<ChainLink> after(Connection c, String deviceId, long head) throws SQLException {
        List<ChainLink> out = new ArrayList<>();
        try (PreparedStatement ps = c.prepareStatement("SELECT seq, hash, prev_hash, kind, sealed_seq, sealed_hash, "
                + "bytes FROM pending WHERE device_id = ? AND seq > ? ORDER BY seq")) {
            ps.setString(1, deviceId);
            ps.setLong(2, head);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    String sealedHash = rs.getString(6);
                    out.add(new ChainLink(rs.getLong(1), Hex.parse(rs.getString(2)), Hex.parse(rs.getString(3)),
                            rs.getString(4), rs.getLong(5), sealedHash == null ? null : Hex.parse(sealedHash),
                            rs.getBytes(7), true, null));
                }
            }
        }
        return out;
    }

    /** Keeps {@code links} (none of which is pending yet). */
    static void store(Connection c, String deviceId, Collection<ChainLink> links, OffsetDateTime now)
            throws SQLException {
        if (links.isEmpty()) {
            return;
        }
        try (PreparedStatement ins = c.prepareStatement("INSERT INTO pending (device_id, seq, hash, prev_hash, kind, "
                + "sealed_seq, sealed_hash, bytes, received_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)")) {
            for (ChainLink l : links) {
                ins.setString(1, deviceId);
                ins.setLong(2, l.seq());
                ins.setString(3, Hex.of(l.hash()));
                ins.setString(4, Hex.of(l.prevHash()));
                ins.setString(5, l.kind());
                ins.setObject(6, l.vouches() ? l.sealedSeq() : null, java.sql.Types.BIGINT);
                ins.setString(7, l.vouches() ? Hex.of(l.sealedHash()) : null);
                ins.setBytes(8, l.bytes());
                ins.setObject(9, now);
                ins.addBatch();
            }
            ins.executeBatch();
        }
    }

    /** Forgets the device's pending records up to {@code upToSeq} (Long.MAX_VALUE: all of them). */
    static void deleteUpTo(Connection c, String deviceId, long upToSeq) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("DELETE FROM pending WHERE device_id = ? AND seq <= ?")) {
            ps.setString(1, deviceId);
            ps.setLong(2, upToSeq);
            ps.executeUpdate();
        }
    }

    /**
     * The highest seq that a pending, verified seal vouches for beyond {@code head}: the device has records the ledger
     * lacks up to there (a gap). Only signed statements count, so a forged record at seq 10^12 never causes resend
     * requests; empty when there is no such seal.
     */
    static OptionalLong sealedBeyond(Connection c, String deviceId, long head) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(
                "SELECT MAX(sealed_seq) FROM pending WHERE device_id = ? AND sealed_seq > ?")) {
            ps.setString(1, deviceId);
            ps.setLong(2, head);
            try (ResultSet rs = ps.executeQuery()) {
                Long max = rs.next() ? rs.getObject(1, Long.class) : null;
                return max == null ? OptionalLong.empty() : OptionalLong.of(max);
            }
        }
    }
}
