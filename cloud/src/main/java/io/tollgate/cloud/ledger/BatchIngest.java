package io.tollgate.cloud.ledger;

import io.tollgate.cloud.record.Batch;
import io.tollgate.cloud.record.BatchDecoder;
import io.tollgate.cloud.record.Hex;
import io.tollgate.cloud.record.RecordDecoder;
import io.tollgate.cloud.record.RecordFormatException;
import io.tollgate.cloud.record.UsageRecord;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Verifies a batch against the device's sealed head and writes the outcome, in one transaction that holds the
 * device's row lock ({@link DeviceHead#lock}), so instances on one shared subscription never interleave on a
 * device. The steps, each a class of its own: lock the head; decode the batch (an undecodable one is quarantined
 * whole); sort its records against the head ({@link BatchTriage}: duplicates absorbed, conflicts and records that
 * fail {@link ChainRules} quarantined, the rest join the records waiting for a seal); find the longest chain a
 * verified seal covers ({@link SealedChain}); store it ({@link StoredRecords}: billable unless a USAGE record names
 * a tenant the device is not bound to), quarantine every other waiting record at the seqs it covers ("not covered by
 * the device's seal"), keep what lies beyond ({@link PendingRecords}), write the head back. Only sealed records are
 * stored, billed and acked. The rules and their reasons: docs/billing.md, "Verification".
 *
 * <p>Threads: any; each call uses its own connection and transaction. The billing endpoint calls it from its
 * one ingest thread.
 */
public final class BatchIngest {
    private static final Logger LOG = LoggerFactory.getLogger(BatchIngest.class);

    private final Database db;

    public BatchIngest(Database db) {
        this.db = db;
    }

    /**
     * Verifies and stores one batch that arrived on {@code tollgate/v1/{deviceId}/usage}; commits before it returns
     * (durably: the embedded H2 ledger writes each commit before it returns, {@link Database#defaultUrl}), so an ack
     * of the result never runs ahead of the ledger.
     */
    public IngestResult ingest(String deviceId, byte[] payload) throws SQLException {
        return ingest(deviceId, payload, false);
    }

    /**
     * Ingests a batch whose plain {@link #ingest} failed deterministically ({@link IngestFailures}): the same rules,
     * but sealed records are inserted one at a time, and one the database refuses is kept in the chain without its
     * usage columns, never billed, and quarantined with the database's reason — so the chain, the ack and every later
     * record go on (issue 8). Throws when even that fails (then {@link #quarantineBatch}).
     */
    public IngestResult ingestSalvaging(String deviceId, byte[] payload) throws SQLException {
        return ingest(deviceId, payload, true);
    }

    /**
     * Keeps a batch that cannot be ingested at all in {@code quarantined_batches} with {@code reason} (the same bytes
     * again only count {@code times_seen}); nothing of it is stored or billed. Returns the device's unchanged head.
     */
    public IngestResult quarantineBatch(String deviceId, byte[] payload, String reason) throws SQLException {
        Connection c = db.acquire();
        boolean reusable = false;
        try {
            c.setAutoCommit(false);
            try {
                OffsetDateTime now = OffsetDateTime.now(ZoneOffset.UTC);
                String hash = Hex.of(RecordDecoder.sha256(payload));
                int seen;
                try (java.sql.PreparedStatement up = c.prepareStatement("UPDATE quarantined_batches SET times_seen = "
                        + "times_seen + 1 WHERE device_id = ? AND hash = ?")) {
                    up.setString(1, deviceId);
                    up.setString(2, hash);
                    seen = up.executeUpdate();
                }
                if (seen == 0) {
                    Long firstSeq = null;
                    Integer count = null;
                    try {
                        Batch b = BatchDecoder.decode(payload);
                        firstSeq = b.firstSeq();
                        count = b.count();
                    } catch (RecordFormatException | RuntimeException e) {
                        // the reason says what failed; the framing fields are only a help
                    }
                    try (java.sql.PreparedStatement ins = c.prepareStatement("INSERT INTO quarantined_batches "
                            + "(device_id, first_seq, record_count, reason, hash, bytes, received_at) "
                            + "VALUES (?, ?, ?, ?, ?, ?, ?)")) {
                        ins.setString(1, deviceId);
                        ins.setObject(2, firstSeq, java.sql.Types.BIGINT);
                        ins.setObject(3, count, java.sql.Types.INTEGER);
                        ins.setString(4, reason.length() > 4000 ? reason.substring(0, 4000) : reason);
                        ins.setString(5, hash);
                        ins.setBytes(6, payload);
                        ins.setObject(7, now);
                        ins.executeUpdate();
                    }
                }
                long head = 0;
                boolean known = false;
                try (java.sql.PreparedStatement q = c.prepareStatement("SELECT head_seq FROM devices WHERE id = ?")) {
                    q.setString(1, deviceId);
                    try (java.sql.ResultSet rs = q.executeQuery()) {
                        if (rs.next()) {
                            known = true;
                            head = rs.getLong(1);
                        }
                    }
                }
                c.commit();
                reusable = true;
                return new IngestResult(deviceId, known, head, 0, 0, 1, 0, 0, null);
            } catch (SQLException | RuntimeException e) {
                c.rollback();
                reusable = e instanceof RuntimeException;
                throw e;
            }
        } finally {
            db.release(c, reusable);
        }
    }

    private IngestResult ingest(String deviceId, byte[] payload, boolean salvage) throws SQLException {
        Connection c = db.acquire();
        boolean reusable = false;
        try {
            c.setAutoCommit(false);
            try {
                IngestResult result = ingest(c, deviceId, payload, salvage);
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

    private static IngestResult ingest(Connection c, String deviceId, byte[] payload, boolean salvage)
            throws SQLException {
        OffsetDateTime now = OffsetDateTime.now(ZoneOffset.UTC);
        Quarantine quarantine = new Quarantine(c, deviceId, now);
        DeviceHead head = DeviceHead.lock(c, deviceId);
        Batch batch;
        try {
            batch = BatchDecoder.decode(payload);
        } catch (RecordFormatException e) {
            quarantine.add(null, "batch not decodable: " + e.getMessage(), payload);
            return new IngestResult(deviceId, head != null, head == null ? 0 : head.seq, 0, 0, quarantine.count(),
                    0, 0, null);
        }
        if (head == null) {
            String reason = "unknown device " + deviceId + ": register its public key (POST /v1/devices or "
                    + "`tollgate-billing device register`); the device re-sends after registration";
            for (int i = 0; i < batch.count(); i++) {
                quarantine.add(batch.firstSeq() + i, reason, batch.records().get(i));
            }
            return new IngestResult(deviceId, false, 0, 0, 0, quarantine.count(), 0, 0, null);
        }

        BatchTriage triage = BatchTriage.of(c, head, batch, quarantine);
        List<ChainLink> chain = SealedChain.longest(head.seq, head.hash, triage.pool());
        int stored = 0;
        if (!chain.isEmpty()) {
            stored = commit(c, head, chain, triage.pool(), quarantine, now, salvage);
        }
        List<ChainLink> waiting = new ArrayList<>();
        long sealedBeyond = 0;
        for (ChainLink l : triage.pool()) {
            if (l.seq() > head.seq) {
                if (!l.pending()) {
                    waiting.add(l);
                }
                if (l.vouches()) {
                    sealedBeyond = Math.max(sealedBeyond, l.sealedSeq());
                }
            }
        }
        PendingRecords.store(c, deviceId, waiting, now);
        head.store(c);
        // a verified seal vouches for records beyond the head that cannot be walked to: the device has records the
        // ledger lacks (lost in transit, or a ledger that lost commits) — ask for them from the head on
        long gapFrom = sealedBeyond > head.seq ? head.seq + 1 : 0;
        String gapReason = gapFrom == 0 ? null : gapReason(head.seq, sealedBeyond);
        return new IngestResult(deviceId, true, head.seq, stored, triage.duplicates(), quarantine.count(),
                waiting.size(), gapFrom, gapReason);
    }

    /** The resend reason when a seal vouches for records up to {@code sealed} and the ledger holds up to {@code head}. */
    static String gapReason(long head, long sealed) {
        return "gap: have up to " + head + ", the device sealed up to " + sealed;
    }

    /**
     * Stores the sealed {@code chain} (head + 1 … sealed_seq), moves the head to its end, and quarantines every other
     * record of the pool at those seqs. Returns the records stored.
     */
    private static int commit(Connection c, DeviceHead head, List<ChainLink> chain, List<ChainLink> pool,
                              Quarantine quarantine, OffsetDateTime now, boolean salvage) throws SQLException {
        List<UsageRecord> records = new ArrayList<>(chain.size());
        Set<Long> notBillable = new HashSet<>();
        Set<String> onChain = new HashSet<>();
        for (ChainLink l : chain) {
            UsageRecord r = l.decoded();
            if (r == null) {
                try {
                    r = RecordDecoder.decode(l.bytes());
                } catch (RecordFormatException e) { // it decoded on arrival: the stored bytes changed
                    throw new IllegalStateException("pending record " + head.deviceId + ":" + l.seq()
                            + " no longer decodes: " + e.getMessage(), e);
                }
            }
            records.add(r);
            onChain.add(Hex.of(l.hash()));
            if (r.usage() != null && !head.tenants.contains(r.usage().tenant())) {
                notBillable.add(r.seq());
                quarantine.add(r.seq(), "seq " + r.seq() + ": tenant '" + r.usage().tenant() + "' is not bound to "
                        + "device " + head.deviceId + " (bound: " + String.join(", ", head.tenants) + "); sealed "
                        + "and acked, never billed", l.bytes());
            }
        }
        if (salvage) {
            StoredRecords.insertSalvaging(c, records, notBillable, now, quarantine);
        } else {
            StoredRecords.insert(c, records, notBillable, now);
        }
        ChainLink last = chain.get(chain.size() - 1);
        long from = head.seq + 1;
        head.seq = last.seq();
        head.hash = last.hash();
        head.sealedSeq = Math.max(head.sealedSeq, last.seq());
        java.util.Map<Long, byte[]> chainHashes = new java.util.HashMap<>();
        for (ChainLink l : chain) {
            chainHashes.put(l.seq(), l.hash());
        }
        for (ChainLink l : pool) {
            byte[] held = l.vouches() ? chainHashes.get(l.sealedSeq()) : null;
            if (held != null && !java.util.Arrays.equals(held, l.sealedHash())) {
                head.clonedIdentity(BatchTriage.otherChain(l.seq(), l.sealedSeq(), l.sealedHash(), held), now);
            }
            if (l.seq() <= head.seq && !onChain.contains(Hex.of(l.hash()))) {
                if (l.vouches()) {
                    head.clonedIdentity("seq " + l.seq() + ": a seal signed with the device's key vouches for another "
                            + "chain than the sealed one the ledger holds (its hash " + Hex.of(l.hash()) + ")", now);
                }
                quarantine.add(l.seq(), "seq " + l.seq() + ": not covered by the device's seal (the sealed chain "
                        + "holds another record at this seq); never billed", l.bytes());
            }
        }
        PendingRecords.deleteUpTo(c, head.deviceId, head.seq);
        if (!notBillable.isEmpty()) {
            LOG.warn("Device {}: {} sealed record(s) name a tenant the device is not bound to; quarantined, not billed",
                    head.deviceId, notBillable.size());
        }
        LOG.debug("Device {}: seqs {}..{} sealed and stored", head.deviceId, from, head.seq);
        return records.size();
    }
}
