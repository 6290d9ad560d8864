package io.tollgate.cloud.ledger;

import io.tollgate.cloud.record.Ed25519Keys;
import io.tollgate.cloud.record.RecordKind;
import io.tollgate.cloud.record.UsageRecord;
import org.bouncycastle.crypto.params.Ed25519PublicKeyParameters;

/**
 * The rules of docs/usage-records.md a record beyond the device's sealed head must pass on arrival, before it may
 * wait in {@code pending}: it holds the seq its batch position says and names the device of its topic; a seal's
 * statement names the device, seals a record before the seal, and its signature verifies with the device's
 * registered key. The chain rules (prev_hash links, a seal's sealed_hash) are {@link SealedChain}'s: a record that
 * does not chain is simply never covered by a seal.
 *
 * <p>Threads: called within one ingest transaction (one thread); holds no state.
 */
final class ChainRules {
    private ChainRules() {
    }

    /** Why {@code r}, at batch position {@code seq} on the topic of {@code deviceId}, is refused; null when it passes. */
    static String check(String deviceId, long seq, Ed25519PublicKeyParameters key, UsageRecord r) {
        if (r.seq() != seq) {
            return "batch position says seq " + seq + " but the record holds seq " + r.seq();
        }
        if (!deviceId.equals(r.deviceId())) {
            return "seq " + r.seq() + ": record names device '" + r.deviceId() + "' but arrived on the topic of "
                    + deviceId;
        }
        if (r.kind() != RecordKind.SEAL) {
            return null;
        }
        UsageRecord.Seal seal = r.seal();
        if (!deviceId.equals(seal.statementDeviceId())) {
            return "seq " + r.seq() + ": seal statement names device '" + seal.statementDeviceId() + "'";
        }
        if (seal.sealedSeq() >= r.seq()) {
            return "seq " + r.seq() + ": seal's sealed_seq " + seal.sealedSeq() + " is not before the seal";
        }
        if (!Ed25519Keys.verify(key, seal.statement(), seal.signature())) {
            return "seq " + r.seq() + ": seal signature invalid (not made by the device's registered key)";
        }
        return null;
    }
}
