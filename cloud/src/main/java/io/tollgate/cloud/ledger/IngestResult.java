package io.tollgate.cloud.ledger;

/**
 * What one batch did to the ledger, after its transaction committed.
 *
 * @param deviceId     the device of the topic the batch came on
 * @param knownDevice  false when the device is not registered (everything was quarantined, nothing is acked)
 * @param ackedSeq     the device's sealed head after the batch: every record 1..ackedSeq is stored and covered by a
 *                     verified seal (0 = nothing yet)
 * @param stored       records newly stored in the ledger (sealed; billable if USAGE of a bound tenant)
 * @param duplicates   records already stored or pending with identical bytes (absorbed)
 * @param quarantined  records (or undecodable batches) quarantined by this batch
 * @param pending      records of this batch now waiting for a seal (not billed, not acked)
 * @param gapFrom      when a verified seal vouches for records beyond the head the ledger lacks: the seq to ask the
 *                     device to resend from (head + 1); else 0
 * @param gapReason    the resend reason, e.g. "gap: have up to 1040, the device sealed up to 1100"; else null
 */
public record IngestResult(String deviceId, boolean knownDevice, long ackedSeq, int stored, int duplicates,
                           int quarantined, int pending, long gapFrom, String gapReason) {

    public boolean hasGap() {
        return gapFrom > 0;
    }
}
