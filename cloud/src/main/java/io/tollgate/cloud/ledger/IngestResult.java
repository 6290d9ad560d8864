package io.tollgate.cloud.ledger;

/**
 * What one batch did to the ledger, after its transaction committed.
 *
 * @param deviceId     the device of the topic the batch came on
 * @param knownDevice  false when the device is not registered (everything was quarantined, nothing is acked)
 * @param ackedSeq     the device's contiguous stored prefix after the batch (0 = nothing yet)
 * @param stored       records newly stored in the ledger (verified, billable if USAGE)
 * @param duplicates   records already stored with identical bytes (absorbed)
 * @param quarantined  records (or undecodable batches) quarantined by this batch
 * @param pending      records held beyond a gap, waiting for the missing ones
 * @param gapFrom      when the batch left a gap: the seq to ask the device to resend from; else 0
 * @param gapReason    the resend reason, e.g. "gap: have up to 1040, got 1100"; else null
 */
public record IngestResult(String deviceId, boolean knownDevice, long ackedSeq, int stored, int duplicates,
                           int quarantined, int pending, long gapFrom, String gapReason) {

    public boolean hasGap() {
        return gapFrom > 0;
    }
}
