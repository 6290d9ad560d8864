package io.tollgate.cloud.ledger;

import io.tollgate.cloud.record.Batch;
import io.tollgate.cloud.record.Hex;
import io.tollgate.cloud.record.RecordDecoder;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.Arrays;
import java.util.Map;
import java.util.NavigableMap;
import java.util.TreeMap;

/**
 * Sorts a batch's records against the device's verified head, before any is verified: records beyond a broken
 * chain are quarantined; records at or below the head are compared byte for byte with the stored ones (identical:
 * absorbed as duplicates — QoS 1 re-deliveries, resends; different: quarantined as conflicts); the rest are
 * candidates to extend the head, joined by the records that wait in {@code pending} beyond a gap.
 *
 * <p>Threads: called within one ingest transaction (one thread).
 *
 * @param candidates  records beyond the head by seq, the batch's and the pending ones
 * @param duplicates  records absorbed as identical to the stored ones
 * @param firstNew    the lowest seq this batch brought beyond the head; 0 when none
 */
record BatchTriage(NavigableMap<Long, byte[]> candidates, int duplicates, long firstNew) {

    static BatchTriage of(Connection c, DeviceHead head, Batch batch, Quarantine quarantine) throws SQLException {
        int duplicates = 0;
        NavigableMap<Long, byte[]> candidates = new TreeMap<>();
        // a re-sent batch (the device did not see our ack) overlaps the stored head: one range query, not one per record
        Map<Long, byte[]> alreadyStored = StoredRecords.bytes(c, head.deviceId, batch.firstSeq(),
                Math.min(head.seq, batch.firstSeq() + batch.count() - 1));
        for (int i = 0; i < batch.count(); i++) {
            long seq = batch.firstSeq() + i;
            byte[] bytes = batch.records().get(i);
            if (head.broken() && seq >= head.brokenAtSeq) {
                quarantine.add(seq, head.brokenReason(), bytes);
            } else if (seq <= head.seq) {
                byte[] stored = alreadyStored.get(seq);
                if (Arrays.equals(stored, bytes)) {
                    duplicates++;
                } else {
                    quarantine.add(seq, "conflict: seq " + seq + " differs from the stored record (stored hash "
                            + Hex.of(RecordDecoder.sha256(stored)) + ", received hash "
                            + Hex.of(RecordDecoder.sha256(bytes)) + ")", bytes);
                }
            } else {
                candidates.put(seq, bytes);
            }
        }
        long firstNew = candidates.isEmpty() ? 0 : candidates.firstKey();
        if (!head.broken()) {
            for (Map.Entry<Long, byte[]> p : PendingRecords.after(c, head.deviceId, head.seq).entrySet()) {
                candidates.putIfAbsent(p.getKey(), p.getValue());
            }
        }
        return new BatchTriage(candidates, duplicates, firstNew);
    }
}
