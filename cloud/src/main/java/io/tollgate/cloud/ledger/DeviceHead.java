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
    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(DeviceHead.class);
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
    /** When two chains signed with this device's key were first seen (a copied data folder); null while not. */
    java.time.OffsetDateTime clonedAt;
    String clonedReason;

    private DeviceHead(String deviceId, String publicKeyPem) {
        this.deviceId = deviceId;
        this.publicKeyPem = publicKeyPem;
    }

    /** Locks and reads the device's row; null for a device that is not registered. */
    static DeviceHead lock(Connection c, String deviceId) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT public_key_pem, head_seq, head_hash, sealed_seq, "
                + "broken_at_seq, broken_reason, cloned_at, cloned_reason FROM devices WHERE id = ? FOR UPDATE")) {
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
                h.clonedAt = rs.getObject(7, java.time.OffsetDateTime.class);
                h.clonedReason = rs.getString(8);
                h.tenants.addAll(Ledger.tenants(c, deviceId));
                return h;
            }
        }
    }

    /** Writes the head back to the locked row. */
    void store(Connection c) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("UPDATE devices SET head_seq = ?, head_hash = ?, sealed_seq = ?, "
                + "broken_at_seq = ?, broken_reason = ?, cloned_at = ?, cloned_reason = ? WHERE id = ?")) {
            ps.setLong(1, seq);
            ps.setString(2, hash == null ? null : Hex.of(hash));
            ps.setLong(3, sealedSeq);
            ps.setObject(4, brokenAtSeq == 0 ? null : brokenAtSeq, java.sql.Types.BIGINT);
            ps.setString(5, brokenReason);
            ps.setObject(6, clonedAt);
            ps.setString(7, clonedReason == null || clonedReason.length() <= 2000 ? clonedReason
                    : clonedReason.substring(0, 2000));
            ps.setString(8, deviceId);
            ps.executeUpdate();
        }
    }

    /**
     * Evidence that a second chain signed with this device's key exists (its data folder was copied to another box:
     * docs/security.md, "Known gaps"): flags the device with the first evidence, WARN once. What that chain holds is
     * quarantined by the caller, never billed.
     */
    void clonedIdentity(String evidence, java.time.OffsetDateTime now) {
        if (clonedAt != null) {
            return;
        }
        clonedAt = now;
        clonedReason = evidence;
        LOG.warn("Device {} is flagged as a cloned identity: {}. Two boxes send usage as this device (a copied data "
                + "folder); only the chain the ledger holds is billed. Give the copy a new identity (`bin/tollgate "
                + "device init` on it, then register it)", deviceId, evidence);
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
