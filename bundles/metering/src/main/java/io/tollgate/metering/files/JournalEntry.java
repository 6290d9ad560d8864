package io.tollgate.metering.files;

import io.tollgate.metering.UsageRecord;
import java.time.Instant;

/**
 * One record of the journal, as {@link JournalFiles#forEach} sees it: its place in the chain and when it was written.
 *
 * @param seq  the gapless sequence number
 * @param kind usage, seal or start
 * @param time the device's wall clock when the record was written
 */
public record JournalEntry(long seq, UsageRecord.Kind kind, Instant time) {
}
