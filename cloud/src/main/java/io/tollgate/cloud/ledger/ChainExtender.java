package io.tollgate.cloud.ledger;

import io.tollgate.cloud.record.RecordDecoder;
import io.tollgate.cloud.record.RecordFormatException;
import io.tollgate.cloud.record.RecordKind;
import io.tollgate.cloud.record.UsageRecord;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import org.bouncycastle.crypto.params.Ed25519PublicKeyParameters;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Extends a device's verified head over the candidate records, in seq order, as far as they are contiguous and pass
 * {@link ChainRules}. Records that pass are billable at once: a seal that has not arrived yet does not hold billing
 * back. The first record that fails breaks the chain: nothing this batch brought beyond the newest of (the
 * committed head, the last valid seal's sealed_seq) is trusted, so those records, the failing one and every later
 * candidate are quarantined, the device's pending records are dropped, and the head goes back to that point.
 *
 * <p>Threads: called within one ingest transaction (one thread).
 */
final class ChainExtender {
    private static final Logger LOG = LoggerFactory.getLogger(ChainExtender.class);

    private final Connection c;
    private final DeviceHead head;
    private final Quarantine quarantine;
    private final Ed25519PublicKeyParameters key;
    private final long startSeq;
    private final byte[] startHash;
    private final long startSealed;
    private final List<UsageRecord> accepted = new ArrayList<>();
    private final Map<Long, byte[]> newHashes = new HashMap<>();

    private ChainExtender(Connection c, DeviceHead head, Quarantine quarantine) {
        this.c = c;
        this.head = head;
        this.quarantine = quarantine;
        this.key = head.publicKey();
        this.startSeq = head.seq;
        this.startHash = head.hash;
        this.startSealed = head.sealedSeq;
    }

    /**
     * Moves {@code head} over the candidates it can verify, taking them out of {@code candidates}; what stays there
     * lies beyond a gap. Returns the records to store, in seq order.
     */
    static List<UsageRecord> extend(Connection c, DeviceHead head, NavigableMap<Long, byte[]> candidates,
                                    Quarantine quarantine) throws SQLException {
        ChainExtender chain = new ChainExtender(c, head, quarantine);
        while (!head.broken() && candidates.containsKey(head.seq + 1)) {
            long seq = head.seq + 1;
            byte[] bytes = candidates.remove(seq);
            UsageRecord record;
            String failure;
            try {
                record = RecordDecoder.decode(bytes);
                failure = ChainRules.check(c, head, chain.key, record, chain.newHashes);
            } catch (RecordFormatException e) {
                record = null;
                failure = "seq " + seq + ": " + e.getMessage();
            }
            if (failure != null) {
                chain.breakAt(seq, bytes, failure, candidates);
                break;
            }
            chain.accept(record);
        }
        return chain.accepted;
    }

    private void accept(UsageRecord record) {
        accepted.add(record);
        newHashes.put(record.seq(), record.hash());
        head.seq = record.seq();
        head.hash = record.hash();
        if (record.kind() == RecordKind.SEAL) {
            head.sealedSeq = record.seal().sealedSeq();
        }
    }

    private void breakAt(long seq, byte[] bytes, String failure, NavigableMap<Long, byte[]> candidates)
            throws SQLException {
        // Nothing this batch brought is trusted beyond what a valid seal vouches for: cut back to the
        // newest of (the committed head, the last valid seal's sealed_seq) and quarantine the rest.
        long cut = Math.max(startSeq, head.sealedSeq);
        head.brokenAtSeq = cut + 1;
        head.brokenReason = failure;
        LOG.warn("Device {}: {}; records from seq {} on are quarantined", head.deviceId, failure, cut + 1);
        String reason = head.brokenReason();
        for (UsageRecord r : accepted) {
            if (r.seq() > cut) {
                quarantine.add(r.seq(), reason, r.bytes());
            }
        }
        accepted.removeIf(r -> r.seq() > cut);
        quarantine.add(seq, failure, bytes);
        for (Map.Entry<Long, byte[]> rest : candidates.entrySet()) {
            quarantine.add(rest.getKey(), reason, rest.getValue());
        }
        candidates.clear();
        PendingRecords.deleteUpTo(c, head.deviceId, Long.MAX_VALUE);
        if (cut == startSeq) {
            head.seq = startSeq;
            head.hash = startHash;
        } else {
            head.seq = cut;
            head.hash = newHashes.get(cut);
        }
        head.sealedSeq = Math.max(startSealed, accepted.stream().filter(r -> r.kind() == RecordKind.SEAL)
                .mapToLong(r -> r.seal().sealedSeq()).max().orElse(0));
    }
}
