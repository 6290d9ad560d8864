package io.tollgate.cloud.ledger;

/**
 * One record beyond the device's sealed head, as the seal search sees it: where it sits (seq, its hash, the hash it
 * chains to) and, for a seal whose signature verified with the device key, what it vouches for.
 *
 * @param kind        the record kind's label ({@code usage}, {@code seal}, {@code start})
 * @param sealedSeq   a verified seal's sealed_seq; 0 otherwise
 * @param sealedHash  a verified seal's sealed_hash; null otherwise
 * @param pending     already in the {@code pending} table (false: this batch brought it)
 * @param decoded     the record as this batch decoded it on arrival; null for one read back from {@code pending}
 */
record ChainLink(long seq, byte[] hash, byte[] prevHash, String kind, long sealedSeq, byte[] sealedHash, byte[] bytes,
                 boolean pending, io.tollgate.cloud.record.UsageRecord decoded) {

    /** A seal whose signature verified: it vouches for the record {@code sealedSeq} with hash {@code sealedHash}. */
    boolean vouches() {
        return sealedHash != null;
    }
}
