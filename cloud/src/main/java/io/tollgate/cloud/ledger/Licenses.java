package io.tollgate.cloud.ledger;

import io.tollgate.cloud.record.Hex;
import io.tollgate.licensing.License;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Types;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The licenses the billing service knows ({@code licenses}, migration V5) and the files it delivers to devices over
 * {@code tollgate/v1/{device}/cmd} ({@code device_pushes}): a license bound to a device is queued for that device on
 * import; an unbound one for each device named with {@code license push}; a revocation list for the devices named
 * with {@code license revoke-push}. A queued file is published until the broker acknowledges it (PUBACK), then
 * marked pushed; queueing it again for the same device clears the mark (docs/billing.md, "Licenses").
 *
 * <p>Threads: any; every method is its own transaction.
 */
public final class Licenses {
    /** Largest license or revocation file, bytes: the device refuses larger ones (docs/sync-protocol.md). */
    public static final int MAX_FILE_BYTES = 64 * 1024;
    /** {@code device_pushes.command} of a license file. */
    public static final String LICENSE = "license";
    /** {@code device_pushes.command} of a revocation list. */
    public static final String REVOCATIONS = "revocations";

    /** A delivery of one file to one device. {@code pushedAt} null = not published yet. */
    public record Push(long id, String deviceId, String command, String licenseId, String fileHash,
                       OffsetDateTime requestedAt, OffsetDateTime pushedAt, long attempts) {
    }

    /** A delivery still to publish, with the file. */
    public record PendingPush(long id, String deviceId, String command, String licenseId, byte[] file) {
    }

    /**
     * One known license. {@code deviceId}, {@code expires}, {@code quota} null: unbound, never expires, unlimited.
     * {@code vendorVerified}: the signature was checked against the vendor's key at import.
     */
    public record LicenseRow(String licenseId, String vendor, String vendorKey, boolean vendorVerified, String tenant,
                             String deviceId, String plugin, String versions, Instant notBefore, Instant expires,
                             String meter, Long quota, String fileHash, OffsetDateTime importedAt, List<Push> pushes) {
    }

    /** What an import did. */
    public enum Imported {
        /** A new license (a bound one also queued for its device). */
        NEW,
        /** The same file was imported before: nothing changed. */
        UNCHANGED
    }

    private final Database db;

    public Licenses(Database db) {
        this.db = db;
    }

    /** Lower-case hex SHA-256 of {@code file}. */
    public static String sha256(byte[] file) {
        try {
            return Hex.of(MessageDigest.getInstance("SHA-256").digest(file));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * Stores a license (its parsed fields and its file, unchanged); a bound one is queued for its device. The same
     * file again is {@link Imported#UNCHANGED}; another file with the same license id is a
     * {@link LedgerException.Reason#CONFLICT}; a file over {@link #MAX_FILE_BYTES} or an id over 255 characters is
     * {@link LedgerException.Reason#BAD_INPUT}.
     *
     * @param verified whether the vendor signature was checked with the vendor's key
     */
    public Imported importLicense(License l, boolean verified, byte[] file) throws LedgerException {
        checkFile(file);
        for (String[] f : new String[][] {{"license_id", l.id()}, {"vendor", l.vendor()}, {"tenant", l.tenant()},
                {"device_id", l.deviceId()}, {"plugin", l.plugin()}, {"versions", l.versions()}, {"meter", l.meter()}}) {
            if (f[1].length() > 255) {
                throw new LedgerException(LedgerException.Reason.BAD_INPUT, "the license's " + f[0] + " is longer "
                        + "than 255 characters");
            }
        }
        if (l.id().isEmpty()) {
            throw new LedgerException(LedgerException.Reason.BAD_INPUT, "the license has an empty license_id");
        }
        if (!l.vendorKey().matches("[0-9a-f]{64}")) {
            throw new LedgerException(LedgerException.Reason.BAD_INPUT, "the license's vendor_key is not 64 lower-case "
                    + "hex digits");
        }
        String hash = sha256(file);
        return inTransaction(c -> {
            Optional<String> existing = single(c, "SELECT file_hash FROM licenses WHERE license_id = ?", l.id());
            if (existing.isPresent()) {
                if (existing.get().equals(hash)) {
                    return Imported.UNCHANGED;
                }
                throw new LedgerException(LedgerException.Reason.CONFLICT, "license " + l.id() + " is already known "
                        + "with another file (SHA-256 " + existing.get() + "); a vendor issues a changed license under "
                        + "a new id");
            }
            try (PreparedStatement ps = c.prepareStatement("INSERT INTO licenses (license_id, vendor, vendor_key, "
                    + "vendor_verified, tenant, device_id, plugin, versions, not_before, expires, meter, quota, "
                    + "file_hash, file_bytes, imported_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")) {
                ps.setString(1, l.id());
                ps.setString(2, l.vendor());
                ps.setString(3, l.vendorKey());
                ps.setBoolean(4, verified);
                ps.setString(5, l.tenant());
                ps.setString(6, l.bound() ? l.deviceId() : null);
                ps.setString(7, l.plugin());
                ps.setString(8, l.versions());
                ps.setObject(9, l.notBefore().atOffset(ZoneOffset.UTC));
                if (l.expires().equals(Instant.MAX)) {
                    ps.setNull(10, Types.TIMESTAMP_WITH_TIMEZONE);
                } else {
                    ps.setObject(10, l.expires().atOffset(ZoneOffset.UTC));
                }
                ps.setString(11, l.meter());
                if (l.hasQuota()) {
                    ps.setLong(12, l.quota());
                } else {
                    ps.setNull(12, Types.BIGINT);
                }
                ps.setString(13, hash);
                ps.setBytes(14, file);
                ps.setObject(15, OffsetDateTime.now(ZoneOffset.UTC));
                ps.executeUpdate();
            }
            if (l.bound()) {
                queue(c, l.deviceId(), LICENSE, l.id(), file, hash);
            }
            return Imported.NEW;
        });
    }

    /** Every known license (of {@code tenant}; null = all), by tenant and id, with its deliveries. */
    public List<LicenseRow> list(String tenant) throws LedgerException {
        return inTransaction(c -> {
            Map<String, LicenseRow> rows = new LinkedHashMap<>();
            try (PreparedStatement ps = c.prepareStatement("SELECT license_id, vendor, vendor_key, vendor_verified, "
                    + "tenant, device_id, plugin, versions, not_before, expires, meter, quota, file_hash, imported_at "
                    + "FROM licenses" + (tenant == null ? "" : " WHERE tenant = ?") + " ORDER BY tenant, license_id")) {
                if (tenant != null) {
                    ps.setString(1, tenant);
                }
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        OffsetDateTime expires = rs.getObject(10, OffsetDateTime.class);
                        rows.put(rs.getString(1), new LicenseRow(rs.getString(1), rs.getString(2), rs.getString(3),
                                rs.getBoolean(4), rs.getString(5), rs.getString(6), rs.getString(7), rs.getString(8),
                                rs.getObject(9, OffsetDateTime.class).toInstant(),
                                expires == null ? null : expires.toInstant(), rs.getString(11),
                                (Long) rs.getObject(12, Long.class), rs.getString(13),
                                rs.getObject(14, OffsetDateTime.class), new ArrayList<>()));
                    }
                }
            }
            for (Push p : pushes(c, "WHERE license_id IS NOT NULL ORDER BY device_id, id")) {
                LicenseRow r = rows.get(p.licenseId());
                if (r != null) {
                    r.pushes().add(p);
                }
            }
            return new ArrayList<>(rows.values());
        });
    }

    /** The license {@code id}, if known. */
    public Optional<LicenseRow> license(String id) throws LedgerException {
        return list(null).stream().filter(r -> r.licenseId().equals(id)).findFirst();
    }

    /**
     * Queues license {@code licenseId} for {@code deviceId} (again, when it was pushed before). The license must be
     * known ({@link LedgerException.Reason#NOT_FOUND}) and the device registered (NOT_FOUND: a mistyped id would wait
     * forever); a license bound to another device is a {@link LedgerException.Reason#CONFLICT} (the device would
     * refuse it: wrong device).
     */
    public void push(String licenseId, String deviceId) throws LedgerException {
        inTransaction(c -> {
            Optional<String> bound;
            byte[] file;
            try (PreparedStatement ps = c.prepareStatement(
                    "SELECT device_id, file_bytes, file_hash FROM licenses WHERE license_id = ?")) {
                ps.setString(1, licenseId);
                try (ResultSet rs = ps.executeQuery()) {
                    if (!rs.next()) {
                        throw new LedgerException(LedgerException.Reason.NOT_FOUND, "no license " + licenseId
                                + " in the ledger; import it first (tollgate-billing license import FILE)");
                    }
                    bound = Optional.ofNullable(rs.getString(1));
                    file = rs.getBytes(2);
                }
            }
            if (bound.isPresent() && !bound.get().equals(deviceId)) {
                throw new LedgerException(LedgerException.Reason.CONFLICT, "license " + licenseId + " is bound to "
                        + "device " + bound.get() + ", not " + deviceId + " (that device would refuse it)");
            }
            requireDevice(c, deviceId);
            queue(c, deviceId, LICENSE, licenseId, file, sha256(file));
            return null;
        });
    }

    /**
     * Queues a revocation list for each of {@code deviceIds} (each must be registered); an empty list means every
     * registered device. Returns the devices it was queued for.
     */
    public List<String> pushRevocations(byte[] file, List<String> deviceIds) throws LedgerException {
        checkFile(file);
        String hash = sha256(file);
        return inTransaction(c -> {
            List<String> devices = new ArrayList<>(deviceIds);
            if (devices.isEmpty()) {
                try (PreparedStatement ps = c.prepareStatement("SELECT id FROM devices ORDER BY id");
                     ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        devices.add(rs.getString(1));
                    }
                }
            }
            for (String d : devices) {
                requireDevice(c, d);
                queue(c, d, REVOCATIONS, null, file, hash);
            }
            return devices;
        });
    }

    /** Deliveries not published yet, oldest first, at most {@code limit}. */
    public List<PendingPush> pending(int limit) throws LedgerException {
        return inTransaction(c -> {
            List<PendingPush> out = new ArrayList<>();
            try (PreparedStatement ps = c.prepareStatement("SELECT id, device_id, command, license_id, file_bytes "
                    + "FROM device_pushes WHERE pushed_at IS NULL ORDER BY id LIMIT " + Math.max(0, limit));
                 ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    out.add(new PendingPush(rs.getLong(1), rs.getString(2), rs.getString(3), rs.getString(4),
                            rs.getBytes(5)));
                }
            }
            return out;
        });
    }

    /** Every delivery (of {@code deviceId}; null = all), by id. */
    public List<Push> pushes(String deviceId) throws LedgerException {
        return inTransaction(c -> deviceId == null ? pushes(c, "ORDER BY id")
                : pushes(c, "WHERE device_id = ? ORDER BY id", deviceId));
    }

    /** Records one publish attempt of delivery {@code id}; {@code acknowledged}: the broker's PUBACK came. */
    public void attempted(long id, boolean acknowledged) throws LedgerException {
        inTransaction(c -> {
            try (PreparedStatement ps = c.prepareStatement("UPDATE device_pushes SET attempts = attempts + 1"
                    + (acknowledged ? ", pushed_at = ?" : "") + " WHERE id = ?")) {
                int i = 1;
                if (acknowledged) {
                    ps.setObject(i++, OffsetDateTime.now(ZoneOffset.UTC));
                }
                ps.setLong(i, id);
                ps.executeUpdate();
            }
            return null;
        });
    }

    // ---- helpers ---------------------------------------------------------------------------------------

    private static void checkFile(byte[] file) throws LedgerException {
        if (file.length == 0 || file.length > MAX_FILE_BYTES) {
            throw new LedgerException(LedgerException.Reason.BAD_INPUT, "the file has " + file.length + " bytes; "
                    + "devices take 1 to " + MAX_FILE_BYTES);
        }
    }

    private static void requireDevice(Connection c, String deviceId) throws SQLException, LedgerException {
        if (single(c, "SELECT id FROM devices WHERE id = ?", deviceId).isEmpty()) {
            throw new LedgerException(LedgerException.Reason.NOT_FOUND, "no registered device " + deviceId
                    + " (tollgate-billing device list)");
        }
    }

    /** Inserts the delivery, or clears {@code pushed_at} of the same (device, file). */
    private static void queue(Connection c, String deviceId, String command, String licenseId, byte[] file,
                              String hash) throws SQLException {
        OffsetDateTime now = OffsetDateTime.now(ZoneOffset.UTC);
        try (PreparedStatement up = c.prepareStatement("UPDATE device_pushes SET pushed_at = NULL, requested_at = ? "
                + "WHERE device_id = ? AND file_hash = ?")) {
            up.setObject(1, now);
            up.setString(2, deviceId);
            up.setString(3, hash);
            if (up.executeUpdate() > 0) {
                return;
            }
        }
        try (PreparedStatement ins = c.prepareStatement("INSERT INTO device_pushes (device_id, command, license_id, "
                + "file_hash, file_bytes, requested_at) VALUES (?, ?, ?, ?, ?, ?)")) {
            ins.setString(1, deviceId);
            ins.setString(2, command);
            ins.setString(3, licenseId);
            ins.setString(4, hash);
            ins.setBytes(5, file);
            ins.setObject(6, now);
            ins.executeUpdate();
        }
    }

    private static List<Push> pushes(Connection c, String where, String... params) throws SQLException {
        List<Push> out = new ArrayList<>();
        try (PreparedStatement ps = c.prepareStatement("SELECT id, device_id, command, license_id, file_hash, "
                + "requested_at, pushed_at, attempts FROM device_pushes " + where)) {
            for (int i = 0; i < params.length; i++) {
                ps.setString(i + 1, params[i]);
            }
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    out.add(new Push(rs.getLong(1), rs.getString(2), rs.getString(3), rs.getString(4),
                            rs.getString(5), rs.getObject(6, OffsetDateTime.class),
                            rs.getObject(7, OffsetDateTime.class), rs.getLong(8)));
                }
            }
        }
        return out;
    }

    private static Optional<String> single(Connection c, String sql, String param) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            ps.setString(1, param);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? Optional.ofNullable(rs.getString(1)) : Optional.empty();
            }
        }
    }

    private interface Work<T> {
        T run(Connection c) throws SQLException, LedgerException;
    }

    private <T> T inTransaction(Work<T> work) throws LedgerException {
        try (Connection c = db.connect()) {
            c.setAutoCommit(false);
            try {
                T out = work.run(c);
                c.commit();
                return out;
            } catch (SQLException | LedgerException | RuntimeException e) {
                c.rollback();
                throw e;
            }
        } catch (SQLException e) {
            throw new LedgerException(LedgerException.Reason.UNAVAILABLE, "ledger database error: " + e.getMessage(),
                    e);
        }
    }
}
