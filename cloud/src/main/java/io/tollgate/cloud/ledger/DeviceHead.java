package io.tollgate.cloud.ledger;

import io.tollgate.cloud.record.Ed25519Keys;
import io.tollgate.cloud.record.Hex;
import io.tollgate.cloud.record.RecordFormatException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import org.bouncycastle.crypto.params.Ed25519PublicKeyParameters;

/**
 * A device's verified head as one ingest transaction sees it: its row in {@code devices}, locked
 * ({@code SELECT … FOR UPDATE}) so that instances on one shared subscription never interleave on a device,
 * changed as records are verified, and written back before the commit.
 *
 * <p>Threads: belongs to the one transaction (one thread) that locked the row.
 */
final class DeviceHead {
    final String deviceId;
    final String publicKeyPem;
    /** Every record 1..seq is stored and chains. */
    long seq;
    /** The hash of record {@link #seq}; null before the first record. */
    byte[] hash;
    /** The newest valid seal's sealed_seq (since version 3 the same as {@link #seq}: only sealed records are stored). */
    long sealedSeq;
    /** The tenants the device may bill (docs/billing.md, "Tenants"). */
    final java.util.Set<String> tenants = new java.util.TreeSet<>();
    /** The first seq not trusted since the chain broke; 0 while it holds. */
    long brokenAtSeq;
    String brokenReason;

    private DeviceHead(String deviceId, String publicKeyPem) {
        this.deviceId = deviceId;
        this.publicKeyPem = publicKeyPem;
    }

    /** Locks and reads the device's row; null for a device that is not registered. */
    static DeviceHead lock(Connection c, String deviceId) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT public_key_pem, head_seq, head_hash, sealed_seq, "
                + "broken_at_seq, broken_reason FROM devices WHERE id = ? FOR UPDATE")) {
            ps.setString(1, deviceId);
            try (ResultSet rs = ps.executeQuery()) {
                if (!rs.next()) {
                    return null;
                }
                DeviceHead h = new DeviceHead(deviceId, rs.getString(1));
                h.seq = rs.getLong(2);
                String head = rs.getString(3);
                h.hash = head == null ? null : Hex.parse(head);
                h.sealedSeq = rs.getLong(4);
                h.brokenAtSeq = rs.getLong(5);
                h.brokenReason = rs.getString(6);
                h.tenants.addAll(Ledger.tenants(c, deviceId));
                return h;
            }
        }
    }

    /** Writes the head back to the locked row. */
    void store(Connection c) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("UPDATE devices SET head_seq = ?, head_hash = ?, sealed_seq = ?, "
                + "broken_at_seq = ?, broken_reason = ? WHERE id = ?")) {
            ps.setLong(1, seq);
            ps.setString(2, hash == null ? null : Hex.of(hash));
            ps.setLong(3, sealedSeq);
            ps.setObject(4, brokenAtSeq == 0 ? null : brokenAtSeq, java.sql.Types.BIGINT);
            ps.setString(5, brokenReason);
            ps.setString(6, deviceId);
            ps.executeUpdate();
        }
    }

    boolean broken() {
        return brokenAtSeq > 0;
    }

    /** The quarantine reason of a record beyond the break. */
    String brokenReason() {
        return "device chain broken from seq " + brokenAtSeq + " (" + brokenReason + "): not vouched "
                + "for by a valid seal, not billed";
    }

    /** The device's registered key, which its seals must verify with. */
    Ed25519PublicKeyParameters publicKey() {
        try {
            return Ed25519Keys.parsePublicPem(publicKeyPem);
        } catch (RecordFormatException e) {
            throw new IllegalStateException("device " + deviceId + " has an unreadable key in the ledger: "
                    + e.getMessage(), e);
        }
    }
}
