package io.tollgate.cloud.ledger;

import java.time.OffsetDateTime;
import java.util.Set;

/**
 * A registered device and where its sealed chain stands: every record 1..headSeq is stored and covered by a seal
 * that verified with the device's key. brokenAtSeq is 0 while the chain is intact (only ledgers from before version 3
 * can hold a broken chain). {@code tenants}: the tenants the device may bill (sorted).
 */
public record DeviceInfo(String id, String publicKeyPem, OffsetDateTime registeredAt, long headSeq, String headHash,
                         long sealedSeq, long brokenAtSeq, String brokenReason, Set<String> tenants) {
}
