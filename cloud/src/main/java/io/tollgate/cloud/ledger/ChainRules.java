package io.tollgate.cloud.ledger;

import io.tollgate.cloud.record.Ed25519Keys;
import io.tollgate.cloud.record.RecordDecoder;
import io.tollgate.cloud.record.RecordKind;
import io.tollgate.cloud.record.UsageRecord;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.Arrays;
import java.util.Map;
import org.bouncycastle.crypto.params.Ed25519PublicKeyParameters;

/**
 * The rules of docs/usage-records.md for the record that would extend a device's verified head: it holds seq
 * head+1, names the device of its topic, carries prev_hash = the head's hash (32 zero bytes for seq 1); a seal
 * seals a record before it and after the previous seal, names the device, carries that record's hash and verifies
 * with the device's registered key.
 *
 * <p>Threads: called within one ingest transaction (one thread); holds no state.
 */
final class ChainRules {
    private static final byte[] ZERO_HASH = new byte[RecordDecoder.HASH_BYTES];

    private ChainRules() {
    }

    /**
     * Why {@code r} cannot extend {@code head}, or null when it passes. {@code newHashes} holds the hashes of the
     * records this batch already accepted (a seal may seal one of them); older ones are read from the ledger.
     */
    static String check(Connection c, DeviceHead head, Ed25519PublicKeyParameters key, UsageRecord r,
                        Map<Long, byte[]> newHashes) throws SQLException {
        String deviceId = head.deviceId;
        long expected = head.seq + 1;
        if (r.seq() != expected) {
            return "batch position says seq " + expected + " but the record holds seq " + r.seq();
        }
        if (!deviceId.equals(r.deviceId())) {
            return "seq " + r.seq() + ": record names device '" + r.deviceId() + "' but arrived on the topic of "
                    + deviceId;
        }
        byte[] prev = head.seq == 0 ? ZERO_HASH : head.hash;
        if (!Arrays.equals(prev, r.prevHash())) {
            return head.seq == 0 ? "seq 1: prev_hash is not 32 zero bytes"
                    : "seq " + r.seq() + ": prev_hash does not match the hash of seq " + head.seq;
        }
        return r.kind() == RecordKind.SEAL ? checkSeal(c, head, key, r, newHashes) : null;
    }

    private static String checkSeal(Connection c, DeviceHead head, Ed25519PublicKeyParameters key, UsageRecord r,
                                    Map<Long, byte[]> newHashes) throws SQLException {
        UsageRecord.Seal seal = r.seal();
        if (!head.deviceId.equals(seal.statementDeviceId())) {
            return "seq " + r.seq() + ": seal statement names device '" + seal.statementDeviceId() + "'";
        }
        if (seal.sealedSeq() >= r.seq()) {
            return "seq " + r.seq() + ": seal's sealed_seq " + seal.sealedSeq() + " is not before the seal";
        }
        if (seal.sealedSeq() <= head.sealedSeq) {
            return "seq " + r.seq() + ": seal's sealed_seq " + seal.sealedSeq() + " is not after the previous seal's "
                    + head.sealedSeq;
        }
        byte[] sealedHash = newHashes.get(seal.sealedSeq());
        if (sealedHash == null) {
            byte[] bytes = StoredRecords.bytes(c, head.deviceId, seal.sealedSeq());
            sealedHash = bytes == null ? null : RecordDecoder.sha256(bytes);
        }
        if (sealedHash == null || !Arrays.equals(sealedHash, seal.sealedHash())) {
            return "seq " + r.seq() + ": seal's sealed_hash is not the hash of seq " + seal.sealedSeq();
        }
        if (!Ed25519Keys.verify(key, seal.statement(), seal.signature())) {
            return "seq " + r.seq() + ": seal signature invalid";
        }
        return null;
    }
}
