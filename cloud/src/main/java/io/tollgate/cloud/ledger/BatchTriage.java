package io.tollgate.cloud.ledger;

import io.tollgate.cloud.record.Batch;
import io.tollgate.cloud.record.Hex;
import io.tollgate.cloud.record.RecordDecoder;
import io.tollgate.cloud.record.RecordFormatException;
import io.tollgate.cloud.record.RecordKind;
import io.tollgate.cloud.record.UsageRecord;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.bouncycastle.crypto.params.Ed25519PublicKeyParameters;

/**
 * Sorts a batch's records against the device's sealed head: records at or below the head are compared byte for byte
 * with the stored ones (identical: absorbed as duplicates — QoS 1 re-deliveries, resends; different: quarantined as
 * conflicts, they can never be billed); records beyond it must pass {@link ChainRules} on arrival (else quarantined)
 * and join the pool of records waiting for a seal, unless the same record (seq and hash) already waits there.
 * Records beyond a chain broken before version 3 (docs/billing.md) are quarantined.
 *
 * <p>Threads: called within one ingest transaction (one thread).
 *
 * @param pool        every record beyond the head: the pending ones and this batch's new ones
 * @param fresh       this batch's new records beyond the head (not pending yet)
 * @param duplicates  records absorbed as identical to stored or pending ones
 */
record BatchTriage(List<ChainLink> pool, List<ChainLink> fresh, int duplicates) {

    static BatchTriage of(Connection c, DeviceHead head, Batch batch, Quarantine quarantine) throws SQLException {
        int duplicates = 0;
        List<ChainLink> pool = head.broken() ? new ArrayList<>() : PendingRecords.after(c, head.deviceId, head.seq);
        Set<String> known = new HashSet<>();
        for (ChainLink l : pool) {
            known.add(l.seq() + ":" + Hex.of(l.hash()));
        }
        List<ChainLink> fresh = new ArrayList<>();
        // a re-sent batch (the device did not see our ack) overlaps the stored head: one range query, not one per record
        Map<Long, byte[]> alreadyStored = StoredRecords.bytes(c, head.deviceId, batch.firstSeq(),
                Math.min(head.seq, batch.firstSeq() + batch.count() - 1));
        Ed25519PublicKeyParameters key = head.publicKey();
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
                    if (stored != null && signedByTheDevice(head, key, seq, bytes)) {
                        head.clonedIdentity("seq " + seq + ": a seal signed with the device's key differs from the "
                                + "sealed record the ledger holds (stored hash " + Hex.of(RecordDecoder.sha256(stored))
                                + ", received hash " + Hex.of(RecordDecoder.sha256(bytes)) + ")", quarantine.now());
                    }
                    quarantine.add(seq, "conflict: seq " + seq + " differs from the sealed record the ledger holds "
                            + "(stored hash " + (stored == null ? "none" : Hex.of(RecordDecoder.sha256(stored)))
                            + ", received hash " + Hex.of(RecordDecoder.sha256(bytes)) + ")", bytes);
                }
            } else if (!known.add(seq + ":" + Hex.of(RecordDecoder.sha256(bytes)))) {
                duplicates++;
            } else {
                UsageRecord r;
                String failure;
                try {
                    r = RecordDecoder.decode(bytes);
                    failure = ChainRules.check(head.deviceId, seq, key, r);
                } catch (RecordFormatException e) {
                    r = null;
                    failure = "seq " + seq + ": " + e.getMessage();
                }
                if (failure != null) {
                    quarantine.add(seq, failure, bytes);
                    continue;
                }
                boolean seal = r.kind() == RecordKind.SEAL;
                if (seal && r.seal().sealedSeq() <= head.seq && r.seal().sealedSeq() > 0) {
                    // a seal only the device's key can make vouches for a record the ledger holds another of
                    byte[] ours = r.seal().sealedSeq() == head.seq ? head.hash
                            : hashOf(StoredRecords.bytes(c, head.deviceId, r.seal().sealedSeq()));
                    if (ours != null && !Arrays.equals(ours, r.seal().sealedHash())) {
                        head.clonedIdentity(otherChain(seq, r.seal().sealedSeq(), r.seal().sealedHash(), ours),
                                quarantine.now());
                    }
                }
                ChainLink l = new ChainLink(seq, r.hash(), r.prevHash(), r.kind().label(),
                        seal ? r.seal().sealedSeq() : 0, seal ? r.seal().sealedHash() : null, bytes, false, r);
                fresh.add(l);
                pool.add(l);
            }
        }
        return new BatchTriage(pool, fresh, duplicates);
    }

    /** A SEAL at {@code seq} whose signature verifies with the device's key: only the device's key can make one. */
    private static boolean signedByTheDevice(DeviceHead head, Ed25519PublicKeyParameters key, long seq, byte[] bytes) {
        try {
            UsageRecord r = RecordDecoder.decode(bytes);
            return r.kind() == RecordKind.SEAL && ChainRules.check(head.deviceId, seq, key, r) == null;
        } catch (RecordFormatException e) {
            return false;
        }
    }

    private static byte[] hashOf(byte[] bytes) {
        return bytes == null ? null : RecordDecoder.sha256(bytes);
    }

    /** The evidence of a cloned identity: a verified seal at {@code seq} vouching for another record at {@code at}. */
    static String otherChain(long seq, long at, byte[] vouched, byte[] held) {
        return "seq " + seq + ": a seal signed with the device's key vouches for seq " + at + " with hash "
                + Hex.of(vouched) + ", but the ledger's sealed record " + at + " has hash " + Hex.of(held);
    }
}
