package io.tollgate.cloud.ledger;

import java.time.OffsetDateTime;
import java.util.Set;

/**
 * A registered device and where its sealed chain stands: every record 1..headSeq is stored and covered by a seal
 * that verified with the device's key. brokenAtSeq is 0 while the chain is intact (only ledgers from before version 3
 * can hold a broken chain). {@code tenants}: the tenants the device may bill (sorted). {@code clonedAt} /
 * {@code clonedReason}: set when two chains signed with the device's key arrived (null while not).
 */
public record DeviceInfo(String id, String publicKeyPem, OffsetDateTime registeredAt, long headSeq, String headHash,
                         long sealedSeq, long brokenAtSeq, String brokenReason, Set<String> tenants,
                         OffsetDateTime clonedAt, String clonedReason) {

    /** A device not flagged as a cloned identity. */
    public DeviceInfo(String id, String publicKeyPem, OffsetDateTime registeredAt, long headSeq, String headHash,
                      long sealedSeq, long brokenAtSeq, String brokenReason, Set<String> tenants) {
        this(id, publicKeyPem, registeredAt, headSeq, headHash, sealedSeq, brokenAtSeq, brokenReason, tenants, null,
                null);
    }

    /**
     * True when two chains signed with this device's key reached the ledger (its data folder was copied to another
     * box, issue 8): {@link #clonedAt} is the first time, {@link #clonedReason} the first evidence.
     */
    public boolean cloned() {
        return clonedAt != null;
    }
}
