package io.tollgate.cloud.ledger;

import io.tollgate.cloud.record.Batch;
import io.tollgate.cloud.record.BatchDecoder;
import io.tollgate.cloud.record.RecordFormatException;
import io.tollgate.cloud.record.UsageRecord;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.List;
import java.util.NavigableMap;

/**
 * Verifies a batch against the device's stored chain and writes the outcome, in one transaction that holds the
 * device's row lock ({@link DeviceHead#lock}), so instances on one shared subscription never interleave on a
 * device. The steps, each a class of its own: lock the head; decode the batch (an undecodable one is quarantined
 * whole); sort its records against the head ({@link BatchTriage}: duplicates absorbed, conflicts and records beyond
 * a broken chain quarantined); extend the head over the new ones ({@link ChainExtender}, by {@link ChainRules});
 * store what passed ({@link StoredRecords}), keep what lies beyond a gap ({@link PendingRecords}), write the head
 * back. The rules and their reasons: docs/billing.md, "Verification".
 *
 * <p>Threads: any; each call uses its own connection and transaction. The billing endpoint calls it from its
 * one ingest thread.
 */
public final class BatchIngest {
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

    private static IngestResult ingest(Connection c, String deviceId, byte[] payload) throws SQLException {
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
        NavigableMap<Long, byte[]> candidates = triage.candidates();
        List<UsageRecord> accepted = ChainExtender.extend(c, head, candidates, quarantine);
        StoredRecords.insert(c, accepted, now);

        int pending = 0;
        long gapFrom = 0;
        String gapReason = null;
        if (!candidates.isEmpty()) {    // what the head could not reach lies beyond a gap
            pending = PendingRecords.store(c, deviceId, candidates, now);
            gapFrom = head.seq + 1;
            gapReason = "gap: have up to " + head.seq + ", got "
                    + (triage.firstNew() > 0 ? triage.firstNew() : candidates.firstKey());
        }
        PendingRecords.deleteUpTo(c, deviceId, head.seq);
        head.store(c);
        return new IngestResult(deviceId, true, head.seq, accepted.size(), triage.duplicates(), quarantine.count(),
                pending, gapFrom, gapReason);
    }
}
