package io.tollgate.cloud.ledger;

import java.time.OffsetDateTime;

/** A quarantined record or batch: never billed. seq is null for a batch that could not be decoded. */
public record QuarantineEntry(long id, String deviceId, Long seq, String reason, String hash, int size,
                              OffsetDateTime receivedAt) {
}
