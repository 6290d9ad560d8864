package io.tollgate.metering;

import java.util.List;
import org.osgi.annotation.versioning.ProviderType;

/**
 * The device's tamper-evident usage journal. Thread-safe: many serving threads append at once.
 */
@ProviderType
public interface UsageJournal {
    /**
     * Appends one usage record and returns its sequence number. Returns only once the record is in the
     * journal (it then survives a crash of the JVM; whether it survives a power cut depends on the
     * configured sync mode). Serving calls this before the response is released.
     *
     * @throws MeteringException with {@link MeteringException.Reason#DISK_BUDGET_EXCEEDED} at the disk budget,
     *                           {@link MeteringException.Reason#CLOSED} after close, or
     *                           {@link MeteringException.Reason#IO_FAILURE} when the write failed
     * @throws IllegalArgumentException when a string of the event is longer than
     *                                  {@link UsageEvent#MAX_STRING_BYTES} bytes of UTF-8 (nothing is written)
     */
    long append(UsageEvent event) throws MeteringException;

    /** A snapshot of the journal's state. */
    JournalStatus status();

    /**
     * Records that the cloud has stored every record up to and including {@code seq}. Whole journal
     * files whose records are all at or below the released sequence number may then be deleted, freeing
     * disk budget. Releasing is monotonic: a lower value than before is ignored.
     */
    void releaseUpTo(long seq) throws MeteringException;

    /**
     * Reads up to {@code max} records in sequence order, starting at {@code fromSeq} or, when that was
     * already deleted after release, at the first record still on disk. Returns an empty list when
     * {@code fromSeq} is past the newest record.
     */
    List<UsageRecord> readFrom(long fromSeq, int max) throws MeteringException;

    /**
     * Quantity of {@code meter} served under {@code licenseId} on this device since the journal began: the sum of the
     * {@code quantity} of every USAGE record with that {@code license_id} and {@code meter} and status {@code OK},
     * including records retention has deleted since (they are kept in a device-signed checkpoint written before any
     * file is deleted; docs/licensing.md, "Quotas and expiry on the appliance"). A cached lookup, no I/O.
     *
     * @return the quantity, 0 when the license was never used
     * @throws MeteringException {@link MeteringException.Reason#COUNT_UNKNOWN} when the count cannot be established
     *                           (the message says why), or as {@link #append} when the journal is not open
     * @since 1.2
     */
    default long licenseQuantity(String licenseId, String meter) throws MeteringException {
        throw new MeteringException(MeteringException.Reason.COUNT_UNKNOWN, "this usage journal does not count use "
                + "per license");
    }
}
