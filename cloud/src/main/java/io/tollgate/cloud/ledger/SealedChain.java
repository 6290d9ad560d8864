package io.tollgate.cloud.ledger;

import io.tollgate.cloud.record.Hex;
import io.tollgate.cloud.record.RecordDecoder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.Collections;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Finds the records a seal covers beyond the device's sealed head. A seal's statement signs (device, sealed_seq,
 * sealed_hash) and every record's hash covers its prev_hash, so a verified seal vouches for exactly one chain: the
 * record whose hash is sealed_hash, the record whose hash is its prev_hash, and so on back to the head. That walk
 * goes by hash, not by seq, so any number of other records (forged, altered) may wait at the same seqs without
 * blocking it. The seal itself need not be on the chain (its position is not signed); it is covered by the next one.
 *
 * <p>Threads: called within one ingest transaction (one thread).
 */
final class SealedChain {
    private static final byte[] ZERO_HASH = new byte[RecordDecoder.HASH_BYTES];

    private SealedChain() {
    }

    /**
     * The longest chain a verified seal among {@code links} covers from {@code headSeq}/{@code headHash} on, in seq
     * order (head + 1 … sealed_seq); empty when no seal beyond the head can be walked back to it (nothing sealed yet,
     * or a record it needs is missing).
     */
    static List<ChainLink> longest(long headSeq, byte[] headHash, Collection<ChainLink> links) {
        Map<String, ChainLink> byHash = new HashMap<>();
        List<ChainLink> seals = new ArrayList<>();
        for (ChainLink l : links) {
            byHash.putIfAbsent(Hex.of(l.hash()), l);
            if (l.vouches() && l.sealedSeq() > headSeq) {
                seals.add(l);
            }
        }
        seals.sort(Comparator.comparingLong(ChainLink::sealedSeq).reversed());
        byte[] start = headSeq == 0 ? ZERO_HASH : headHash;
        for (ChainLink seal : seals) {
            List<ChainLink> chain = walk(seal.sealedSeq(), seal.sealedHash(), headSeq, start, byHash);
            if (chain != null) {
                return chain;
            }
        }
        return List.of();
    }

    private static List<ChainLink> walk(long sealedSeq, byte[] sealedHash, long headSeq, byte[] headHash,
                                        Map<String, ChainLink> byHash) {
        List<ChainLink> chain = new ArrayList<>((int) Math.min(sealedSeq - headSeq, 100_000));
        byte[] want = sealedHash;
        for (long seq = sealedSeq; seq > headSeq; seq--) {
            ChainLink l = byHash.get(Hex.of(want));
            if (l == null || l.seq() != seq) {
                return null;
            }
            chain.add(l);
            want = l.prevHash();
        }
        if (!Arrays.equals(want, headHash)) {
            return null;
        }
        Collections.reverse(chain);
        return chain;
    }
}
