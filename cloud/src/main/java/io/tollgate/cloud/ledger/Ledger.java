package io.tollgate.cloud.ledger;

import io.tollgate.cloud.record.Ed25519Keys;
import io.tollgate.cloud.record.RecordFormatException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Consumer;

/** Reads and administrative writes of the ledger (devices, usage, quarantine, prices). Ingest is {@link BatchIngest}. */
public final class Ledger {
    /** One row of a group-by over usage. */
    public record Total(String tenant, String model, String meter, long requests, long quantity) {
    }

    /** A device's stored seq range among the selected records, and the hash of its last one. */
    public record Range(String device, long fromSeq, long toSeq, long records, String lastHash) {
    }

    /** One invoice line before pricing: usage of (model, plugin, meter) and, per device, the seqs it covers. */
    public record LineUsage(String model, String plugin, String meter, long requests, long quantity,
                            List<Range> ranges, String accelerator) {
        /** A line of every accelerator's usage. */
        public LineUsage(String model, String plugin, String meter, long requests, long quantity, List<Range> ranges) {
            this(model, plugin, meter, requests, quantity, ranges, "");
        }
    }

    private final Database db;

    public Ledger(Database db) {
        this.db = db;
    }

    public Database database() {
        return db;
    }

    /** The billing service's own broker identity (contract C2/C5): never a device id. */
    public static final String RESERVED_DEVICE_ID = "tollgate-billing";
    /** A tenant name (contract C1). */
    public static final java.util.regex.Pattern TENANT = java.util.regex.Pattern.compile("[a-z0-9][a-z0-9._-]{0,62}");
    /** The tenant a device is bound to when registration names none. */
    public static final String DEFAULT_TENANT = "default";

    /**
     * Registers a device, its Ed25519 public key and the tenants it may bill (null or empty: {@code default}).
     * Returns true when it is new, false when the same id, key and tenants were registered before; the same id with
     * another key or other tenants is a {@link LedgerException.Reason#CONFLICT}.
     */
    public boolean registerDevice(String id, String publicKeyPem, Set<String> tenants) throws LedgerException {
        if (id == null || id.isBlank() || id.length() > 255 || id.contains("/") || id.contains("+")
                || id.contains("#")) {
            throw new LedgerException(LedgerException.Reason.BAD_INPUT, "device id '" + id + "' is not usable: give "
                    + "1..255 characters without '/', '+' or '#' (it is an MQTT topic level)");
        }
        if (id.equals(RESERVED_DEVICE_ID)) {
            throw new LedgerException(LedgerException.Reason.BAD_INPUT, "device id '" + id + "' is reserved for the "
                    + "billing service's own broker identity; give the device's id (bin/tollgate device id)");
        }
        Set<String> bound = new TreeSet<>(tenants == null || tenants.isEmpty() ? Set.of(DEFAULT_TENANT) : tenants);
        for (String t : bound) {
            if (t == null || !TENANT.matcher(t).matches()) {
                throw new LedgerException(LedgerException.Reason.BAD_INPUT, "tenant '" + t + "' is not a tenant "
                        + "name: 1 to 63 of a-z 0-9 . _ - starting with a letter or digit");
            }
        }
        String pem;
        try {
            pem = Ed25519Keys.publicPem(Ed25519Keys.parsePublicPem(publicKeyPem == null ? "" : publicKeyPem));
        } catch (RecordFormatException e) {
            throw new LedgerException(LedgerException.Reason.BAD_INPUT, e.getMessage());
        }
        try (Connection c = db.connect()) {
            c.setAutoCommit(false);
            try {
                Optional<DeviceInfo> existing = device(c, id);
                if (existing.isPresent()) {
                    c.rollback();
                    if (!existing.get().publicKeyPem().equals(pem)) {
                        throw new LedgerException(LedgerException.Reason.CONFLICT, "device " + id + " is already "
                                + "registered with another public key; a new key needs a new device id");
                    }
                    if (!existing.get().tenants().equals(bound)) {
                        throw new LedgerException(LedgerException.Reason.CONFLICT, "device " + id + " is already "
                                + "registered for tenants " + existing.get().tenants() + ", not " + bound
                                + "; registration does not change a device's tenants");
                    }
                    return false;
                }
                Optional<String> lookAlike = idIgnoringCase(c, id);
                if (lookAlike.isPresent()) {
                    c.rollback();
                    throw new LedgerException(LedgerException.Reason.CONFLICT, "device id " + id + " differs only in "
                            + "letter case from the registered device " + lookAlike.get() + "; ids are compared "
                            + "ignoring case, so give that device's id or a new one");
                }
                try (PreparedStatement ps = c.prepareStatement(
                        "INSERT INTO devices (id, public_key_pem, registered_at) VALUES (?, ?, ?)");
                     PreparedStatement pt = c.prepareStatement(
                             "INSERT INTO device_tenants (device_id, tenant) VALUES (?, ?)")) {
                    ps.setString(1, id);
                    ps.setString(2, pem);
                    ps.setObject(3, OffsetDateTime.now(ZoneOffset.UTC));
                    ps.executeUpdate();
                    for (String t : bound) {
                        pt.setString(1, id);
                        pt.setString(2, t);
                        pt.addBatch();
                    }
                    pt.executeBatch();
                }
                c.commit();
                return true;
            } catch (SQLException | LedgerException | RuntimeException e) {
                c.rollback();
                throw e;
            }
        } catch (SQLException e) {
            throw unavailable(e);
        }
    }

    /** The tenants {@code deviceId} may bill, sorted. */
    static Set<String> tenants(Connection c, String deviceId) throws SQLException {
        Set<String> out = new TreeSet<>();
        try (PreparedStatement ps = c.prepareStatement("SELECT tenant FROM device_tenants WHERE device_id = ?")) {
            ps.setString(1, deviceId);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    out.add(rs.getString(1));
                }
            }
        }
        return out;
    }

    public Optional<DeviceInfo> device(String id) throws LedgerException {
        try (Connection c = db.connect()) {
            return device(c, id);
        } catch (SQLException e) {
            throw unavailable(e);
        }
    }

    public List<DeviceInfo> devices() throws LedgerException {
        try (Connection c = db.connect()) {
            List<DeviceInfo> out = new ArrayList<>();
            for (String id : query("SELECT id FROM devices ORDER BY id", ps -> { }, rs -> rs.getString(1))) {
                device(c, id).ifPresent(out::add);
            }
            return out;
        } catch (SQLException e) {
            throw unavailable(e);
        }
    }

    private static final String DEVICE_COLUMNS = "SELECT id, public_key_pem, registered_at, head_seq, head_hash, "
            + "sealed_seq, broken_at_seq, broken_reason, cloned_at, cloned_reason FROM devices";

    /** A registered id equal to {@code id} ignoring ASCII case but not equal to it (a look-alike), if any. */
    private static Optional<String> idIgnoringCase(Connection c, String id) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT id FROM devices WHERE LOWER(id) = ? AND id <> ?")) {
            ps.setString(1, id.toLowerCase(Locale.ROOT));
            ps.setString(2, id);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? Optional.of(rs.getString(1)) : Optional.empty();
            }
        }
    }

    private static Optional<DeviceInfo> device(Connection c, String id) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(DEVICE_COLUMNS + " WHERE id = ?")) {
            ps.setString(1, id);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? Optional.of(deviceRow(rs, tenants(c, id))) : Optional.empty();
            }
        }
    }

    private static DeviceInfo deviceRow(ResultSet rs, Set<String> tenants) throws SQLException {
        return new DeviceInfo(rs.getString(1), rs.getString(2), rs.getObject(3, OffsetDateTime.class), rs.getLong(4),
                rs.getString(5), rs.getLong(6), rs.getLong(7), rs.getString(8), Collections.unmodifiableSet(tenants),
                rs.getObject(9, OffsetDateTime.class), rs.getString(10));
    }

    /** Stored USAGE records in (device, seq) order, at most {@code limit}. */
    public List<StoredUsage> usage(UsageFilter f, int limit) throws LedgerException {
        Where w = where(f);
        return query("SELECT device_id, seq, wall_time_nanos, tenant, model, model_version, plugin, plugin_version, "
                + "license_id, meter, quantity, compute_nanos, accelerator, request_id, status, hash FROM records"
                + w.sql + " ORDER BY device_id, seq LIMIT " + Math.max(0, limit), w::bind,
                rs -> new StoredUsage(rs.getString(1), rs.getLong(2), rs.getLong(3), rs.getString(4), rs.getString(5),
                        rs.getString(6), rs.getString(7), rs.getString(8), rs.getString(9), rs.getString(10),
                        rs.getLong(11), rs.getLong(12), rs.getString(13), rs.getString(14), rs.getString(15),
                        rs.getString(16)));
    }

    /** Streams every selected USAGE record in (device, seq) order without holding them all in memory. */
    public void forEachUsage(UsageFilter f, Consumer<StoredUsage> sink) throws LedgerException {
        Where w = where(f);
        try (Connection c = db.connect()) {
            c.setAutoCommit(false); // PostgreSQL streams with a fetch size only inside a transaction
            try (PreparedStatement ps = c.prepareStatement("SELECT device_id, seq, wall_time_nanos, tenant, model, "
                    + "model_version, plugin, plugin_version, license_id, meter, quantity, compute_nanos, accelerator, "
                    + "request_id, status, hash FROM records" + w.sql + " ORDER BY device_id, seq")) {
                ps.setFetchSize(1000);
                w.bind(ps);
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        sink.accept(new StoredUsage(rs.getString(1), rs.getLong(2), rs.getLong(3), rs.getString(4),
                                rs.getString(5), rs.getString(6), rs.getString(7), rs.getString(8), rs.getString(9),
                                rs.getString(10), rs.getLong(11), rs.getLong(12), rs.getString(13), rs.getString(14),
                                rs.getString(15), rs.getString(16)));
                    }
                }
            } finally {
                c.rollback();
            }
        } catch (SQLException e) {
            throw unavailable(e);
        }
    }

    public List<Total> totals(UsageFilter f) throws LedgerException {
        Where w = where(f);
        return query("SELECT tenant, model, meter, COUNT(*), SUM(quantity) FROM records" + w.sql
                + " GROUP BY tenant, model, meter ORDER BY tenant, model, meter", w::bind,
                rs -> new Total(rs.getString(1), rs.getString(2), rs.getString(3), rs.getLong(4), rs.getLong(5)));
    }

    public List<Range> ranges(UsageFilter f) throws LedgerException {
        Where w = where(f);
        List<Range> raw = query("SELECT device_id, MIN(seq), MAX(seq), COUNT(*) FROM records" + w.sql
                + " GROUP BY device_id ORDER BY device_id", w::bind,
                rs -> new Range(rs.getString(1), rs.getLong(2), rs.getLong(3), rs.getLong(4), null));
        return withLastHashes(raw);
    }

    private List<LineUsage> invoiceUsageByAccelerator(String tenant, long fromNanos, long toNanos,
                                                      java.util.Set<String> separate) throws LedgerException {
        UsageFilter f = new UsageFilter(null, tenant, null, fromNanos, toNanos);
        Where w = where(f);
        record Row(String model, String plugin, String meter, String accelerator, String device, long requests,
                   long quantity, long from, long to) {
        }
        List<Row> rows = query("SELECT model, plugin, meter, accelerator, device_id, COUNT(*), SUM(quantity), MIN(seq),"
                + " MAX(seq) FROM records" + w.sql + " GROUP BY model, plugin, meter, accelerator, device_id", w::bind,
                rs -> new Row(rs.getString(1), rs.getString(2), rs.getString(3), rs.getString(4), rs.getString(5),
                        rs.getLong(6), rs.getLong(7), rs.getLong(8), rs.getLong(9)));
        // line (model, plugin, meter, accelerator or "") -> device -> {requests, quantity, from, to}
        java.util.TreeMap<List<String>, java.util.TreeMap<String, long[]>> lines = new java.util.TreeMap<>(
                java.util.Comparator.<List<String>, String>comparing(k -> k.get(0)).thenComparing(k -> k.get(1))
                        .thenComparing(k -> k.get(2)).thenComparing(k -> k.get(3)));
        for (Row r : rows) {
            String acc = r.accelerator() != null && separate.contains(r.accelerator()) ? r.accelerator() : "";
            long[] d = lines.computeIfAbsent(List.of(r.model(), r.plugin(), r.meter(), acc),
                    k -> new java.util.TreeMap<>()).computeIfAbsent(r.device(),
                    k -> new long[] {0, 0, Long.MAX_VALUE, Long.MIN_VALUE});
            d[0] += r.requests();
            d[1] += r.quantity();
            d[2] = Math.min(d[2], r.from());
            d[3] = Math.max(d[3], r.to());
        }
        List<LineUsage> out = new ArrayList<>();
        for (var line : lines.entrySet()) {
            long requests = 0;
            long quantity = 0;
            List<Range> ranges = new ArrayList<>();
            for (var d : line.getValue().entrySet()) {
                requests += d.getValue()[0];
                quantity += d.getValue()[1];
                ranges.add(new Range(d.getKey(), d.getValue()[2], d.getValue()[3], d.getValue()[0], null));
            }
            List<String> k = line.getKey();
            out.add(new LineUsage(k.get(0), k.get(1), k.get(2), requests, quantity, withLastHashes(ranges), k.get(3)));
        }
        return out;
    }

    /** Usage of one tenant in [from, to), grouped for an invoice, with each line's per-device ranges. */
    public List<LineUsage> invoiceUsage(String tenant, long fromNanos, long toNanos) throws LedgerException {
        return invoiceUsage(tenant, fromNanos, toNanos, java.util.Set.of());
    }

    /**
     * As above, with the usage of each accelerator in {@code separate} (e.g. {@code remote:plant-b}, which a price
     * list prices on its own) in lines of its own ({@link LineUsage#accelerator()}); the rest of every accelerator
     * together ({@code ""}).
     */
    public List<LineUsage> invoiceUsage(String tenant, long fromNanos, long toNanos, java.util.Set<String> separate)
            throws LedgerException {
        if (!separate.isEmpty()) {
            return invoiceUsageByAccelerator(tenant, fromNanos, toNanos, separate);
        }
        UsageFilter f = new UsageFilter(null, tenant, null, fromNanos, toNanos);
        Where w = where(f);
        record Row(String model, String plugin, String meter, String device, long requests, long quantity, long from,
                   long to) {
        }
        List<Row> rows = query("SELECT model, plugin, meter, device_id, COUNT(*), SUM(quantity), MIN(seq), MAX(seq) "
                + "FROM records" + w.sql + " GROUP BY model, plugin, meter, device_id "
                + "ORDER BY model, plugin, meter, device_id", w::bind,
                rs -> new Row(rs.getString(1), rs.getString(2), rs.getString(3), rs.getString(4), rs.getLong(5),
                        rs.getLong(6), rs.getLong(7), rs.getLong(8)));
        List<LineUsage> lines = new ArrayList<>();
        int i = 0;
        while (i < rows.size()) {
            Row first = rows.get(i);
            long requests = 0;
            long quantity = 0;
            List<Range> ranges = new ArrayList<>();
            while (i < rows.size() && rows.get(i).model().equals(first.model())
                    && rows.get(i).plugin().equals(first.plugin()) && rows.get(i).meter().equals(first.meter())) {
                Row r = rows.get(i++);
                requests += r.requests();
                quantity += r.quantity();
                ranges.add(new Range(r.device(), r.from(), r.to(), r.requests(), null));
            }
            lines.add(new LineUsage(first.model(), first.plugin(), first.meter(), requests, quantity,
                    withLastHashes(ranges)));
        }
        return lines;
    }

    /** Billable quantity of one tenant in [from, to) under one license on one device, per invoice line. */
    public record LicenseLineUsage(String licenseId, String device, String model, String plugin, String meter,
                                   long quantity) {
    }

    /**
     * The usage of {@code tenant} in [from, to) that names a license (records' {@code license_id}), grouped by
     * (license, device, model, plugin, meter), in that order.
     */
    public List<LicenseLineUsage> licenseUsage(String tenant, long fromNanos, long toNanos) throws LedgerException {
        Where w = where(new UsageFilter(null, tenant, null, fromNanos, toNanos));
        return query("SELECT license_id, device_id, model, plugin, meter, SUM(quantity) FROM records" + w.sql
                + " AND license_id IS NOT NULL AND license_id <> '' GROUP BY license_id, device_id, model, plugin, "
                + "meter ORDER BY license_id, device_id, model, plugin, meter", w::bind,
                rs -> new LicenseLineUsage(rs.getString(1), rs.getString(2), rs.getString(3), rs.getString(4),
                        rs.getString(5), rs.getLong(6)));
    }

    /**
     * Billable quantity of {@code meter} used under {@code licenseId} on {@code device} before {@code beforeNanos}
     * (device wall time), every tenant: what the license's quota had already covered when a period starts.
     */
    public long licenseUsedBefore(String licenseId, String device, String meter, long beforeNanos)
            throws LedgerException {
        List<Long> n = query("SELECT COALESCE(SUM(quantity), 0) FROM records WHERE kind = 'usage' AND billable = TRUE "
                + "AND license_id = ? AND device_id = ? AND meter = ? AND wall_time_nanos < ?", ps -> {
                    ps.setString(1, licenseId);
                    ps.setString(2, device);
                    ps.setString(3, meter);
                    ps.setLong(4, beforeNanos);
                }, rs -> rs.getLong(1));
        return n.get(0);
    }

    private List<Range> withLastHashes(List<Range> ranges) throws LedgerException {
        List<Range> out = new ArrayList<>(ranges.size());
        try (Connection c = db.connect();
             PreparedStatement ps = c.prepareStatement("SELECT hash FROM records WHERE device_id = ? AND seq = ?")) {
            for (Range r : ranges) {
                ps.setString(1, r.device());
                ps.setLong(2, r.toSeq());
                try (ResultSet rs = ps.executeQuery()) {
                    out.add(new Range(r.device(), r.fromSeq(), r.toSeq(), r.records(), rs.next() ? rs.getString(1)
                            : null));
                }
            }
        } catch (SQLException e) {
            throw unavailable(e);
        }
        return out;
    }

    public List<QuarantineEntry> quarantine(String device, int limit) throws LedgerException {
        return query("SELECT id, device_id, seq, reason, hash, bytes, received_at FROM quarantine"
                + (device == null ? "" : " WHERE device_id = ?") + " ORDER BY id LIMIT " + Math.max(0, limit),
                ps -> {
                    if (device != null) {
                        ps.setString(1, device);
                    }
                },
                rs -> new QuarantineEntry(rs.getLong(1), rs.getString(2), (Long) rs.getObject(3, Long.class),
                        rs.getString(4), rs.getString(5), rs.getBytes(6).length,
                        rs.getObject(7, OffsetDateTime.class)));
    }

    /** A batch kept whole because its ingest failed deterministically (issue 8): never billed. */
    public record QuarantinedBatch(long id, String deviceId, Long firstSeq, Integer records, String reason,
                                   String hash, int size, OffsetDateTime receivedAt, long timesSeen) {
    }

    /** Quarantined batches, oldest first, of one device (null: all), at most {@code limit}. */
    public List<QuarantinedBatch> quarantinedBatches(String device, int limit) throws LedgerException {
        return query("SELECT id, device_id, first_seq, record_count, reason, hash, bytes, received_at, times_seen "
                + "FROM quarantined_batches" + (device == null ? "" : " WHERE device_id = ?") + " ORDER BY id LIMIT "
                + Math.max(0, limit),
                ps -> {
                    if (device != null) {
                        ps.setString(1, device);
                    }
                },
                rs -> new QuarantinedBatch(rs.getLong(1), rs.getString(2), (Long) rs.getObject(3, Long.class),
                        (Integer) rs.getObject(4, Integer.class), rs.getString(5), rs.getString(6),
                        rs.getBytes(7).length, rs.getObject(8, OffsetDateTime.class), rs.getLong(9)));
    }

    /** The lowest seq held in pending (waiting for a seal) for a device, if any. */
    public OptionalLong firstPending(String device) throws LedgerException {
        List<Long> n = query("SELECT MIN(seq) FROM pending WHERE device_id = ?", ps -> ps.setString(1, device),
                rs -> (Long) rs.getObject(1, Long.class));
        return n.isEmpty() || n.get(0) == null ? OptionalLong.empty() : OptionalLong.of(n.get(0));
    }

    /** A device's open gap: what to ask it to resend and why, after the ledger's own rule (docs/billing.md). */
    public record Gap(long fromSeq, String reason) {
    }

    /**
     * The device's gap as the ledger stands now: a verified seal waits in pending that vouches for records beyond the
     * sealed head the ledger cannot walk to; empty when there is none (or the device is unknown or broken).
     */
    public Optional<Gap> gap(String device) throws LedgerException {
        try (Connection c = db.connect()) {
            Optional<DeviceInfo> d = device(c, device);
            if (d.isEmpty() || d.get().brokenAtSeq() > 0) {
                return Optional.empty();
            }
            long head = d.get().headSeq();
            OptionalLong sealed = PendingRecords.sealedBeyond(c, device, head);
            return sealed.isEmpty() ? Optional.empty()
                    : Optional.of(new Gap(head + 1, BatchIngest.gapReason(head, sealed.getAsLong())));
        } catch (SQLException e) {
            throw unavailable(e);
        }
    }

    public long quarantineCount(String device) throws LedgerException {
        List<Long> n = query("SELECT COUNT(*) FROM quarantine" + (device == null ? "" : " WHERE device_id = ?"),
                ps -> {
                    if (device != null) {
                        ps.setString(1, device);
                    }
                }, rs -> rs.getLong(1));
        return n.get(0);
    }

    /** All rows of the prices table. */
    public List<PriceRow> prices() throws LedgerException {
        return query("SELECT selector_kind, selector, meter, unit_price, currency FROM prices "
                + "ORDER BY selector_kind, selector, meter", ps -> { },
                rs -> new PriceRow(rs.getString(1), rs.getString(2), rs.getString(3), rs.getBigDecimal(4),
                        rs.getString(5)));
    }

    /** Replaces the price list in one transaction (the configuration file is the source of truth). */
    public void replacePrices(List<PriceRow> rows) throws LedgerException {
        try (Connection c = db.connect()) {
            c.setAutoCommit(false);
            try (PreparedStatement del = c.prepareStatement("DELETE FROM prices");
                 PreparedStatement ins = c.prepareStatement("INSERT INTO prices (selector_kind, selector, meter, "
                         + "unit_price, currency) VALUES (?, ?, ?, ?, ?)")) {
                del.executeUpdate();
                for (PriceRow r : rows) {
                    ins.setString(1, r.selectorKind());
                    ins.setString(2, r.selector());
                    ins.setString(3, r.meter());
                    ins.setBigDecimal(4, r.unitPrice());
                    ins.setString(5, r.currency());
                    ins.addBatch();
                }
                ins.executeBatch();
                c.commit();
            } catch (SQLException e) {
                c.rollback();
                throw e;
            }
        } catch (SQLException e) {
            throw unavailable(e);
        }
    }

    /** One price: selectorKind "model" or "plugin", the model name or plugin symbolic name, the meter. */
    public record PriceRow(String selectorKind, String selector, String meter, java.math.BigDecimal unitPrice,
                           String currency) {
    }

    private interface Binder {
        void bind(PreparedStatement ps) throws SQLException;
    }

    private interface RowMapper<T> {
        T map(ResultSet rs) throws SQLException;
    }

    private <T> List<T> query(String sql, Binder binder, RowMapper<T> mapper) throws LedgerException {
        try (Connection c = db.connect(); PreparedStatement ps = c.prepareStatement(sql)) {
            binder.bind(ps);
            List<T> out = new ArrayList<>();
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    out.add(mapper.map(rs));
                }
            }
            return out;
        } catch (SQLException e) {
            throw unavailable(e);
        }
    }

    private static LedgerException unavailable(SQLException e) {
        return new LedgerException(LedgerException.Reason.UNAVAILABLE, "ledger database error: " + e.getMessage(), e);
    }

    /** WHERE clause over USAGE records for a filter, with its parameters. */
    private static final class Where {
        final String sql;
        final List<Object> params;

        Where(String sql, List<Object> params) {
            this.sql = sql;
            this.params = params;
        }

        void bind(PreparedStatement ps) throws SQLException {
            for (int i = 0; i < params.size(); i++) {
                ps.setObject(i + 1, params.get(i));
            }
        }
    }

    private static Where where(UsageFilter f) {
        StringBuilder sql = new StringBuilder(" WHERE kind = 'usage' AND billable = TRUE");
        List<Object> params = new ArrayList<>();
        if (f.device() != null) {
            sql.append(" AND device_id = ?");
            params.add(f.device());
        }
        if (f.tenant() != null) {
            sql.append(" AND tenant = ?");
            params.add(f.tenant());
        }
        if (f.model() != null) {
            sql.append(" AND model = ?");
            params.add(f.model());
        }
        if (f.fromNanos() != null) {
            sql.append(" AND wall_time_nanos >= ?");
            params.add(f.fromNanos());
        }
        if (f.toNanos() != null) {
            sql.append(" AND wall_time_nanos < ?");
            params.add(f.toNanos());
        }
        return new Where(sql.toString(), params);
    }
}
