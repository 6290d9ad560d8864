package io.tollgate.cloud.ledger;

import io.tollgate.cloud.record.Hex;
import io.tollgate.cloud.record.RecordDecoder;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.OffsetDateTime;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The {@code quarantine} rows one ingest transaction writes for one device: what is kept and never billed
 * (docs/billing.md, "Quarantine"). The same bytes for the same seq are recorded once, but every record this
 * batch quarantined is counted.
 *
 * <p>Threads: belongs to one ingest transaction (one thread).
 */
final class Quarantine {
    private static final Logger LOG = LoggerFactory.getLogger(Quarantine.class);

    private final Connection c;
    private final String deviceId;
    private final OffsetDateTime now;
    private int count;

    Quarantine(Connection c, String deviceId, OffsetDateTime now) {
        this.c = c;
        this.deviceId = deviceId;
        this.now = now;
    }

    OffsetDateTime now() {
        return now;
    }

    /** Records this batch quarantined (an undecodable batch counts as one). */
    int count() {
        return count;
    }

    /** Quarantines {@code bytes} as seq {@code seq} (null: a whole undecodable batch) unless already there. */
    void add(Long seq, String reason, byte[] bytes) throws SQLException {
        count++;
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
                    return;
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
    }
}
