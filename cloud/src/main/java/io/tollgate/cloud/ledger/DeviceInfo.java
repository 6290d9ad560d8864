package io.tollgate.cloud.ledger;

import java.time.OffsetDateTime;

/** A registered device and where its verified chain stands. brokenAtSeq is 0 while the chain is intact. */
public record DeviceInfo(String id, String publicKeyPem, OffsetDateTime registeredAt, long headSeq, String headHash,
                         long sealedSeq, long brokenAtSeq, String brokenReason) {
}
