package io.tollgate.metering;

/**
 * A snapshot of the usage journal.
 *
 * @param deviceId        the device whose records these are
 * @param firstSeq        lowest sequence number still on disk (0 when the journal is empty)
 * @param lastSeq         sequence number of the newest record (0 when the journal is empty)
 * @param lastSealedSeq   highest sequence number covered by a seal (0 when none)
 * @param releasedSeq     highest sequence number released by {@link UsageJournal#releaseUpTo(long)} (0 when none)
 * @param diskUsedBytes   bytes the journal takes on disk, as counted against the budget
 * @param diskBudgetBytes the configured budget
 * @param diskWarning     true from 80% of the budget on
 * @param refusing        true while {@link UsageJournal#append} refuses records: the budget is exhausted, or the
 *                        journal's file system has less free space than its reserve, or the journal has not opened
 * @param closed          true once the journal has been closed
 */
public record JournalStatus(String deviceId, long firstSeq, long lastSeq, long lastSealedSeq, long releasedSeq,
                            long diskUsedBytes, long diskBudgetBytes, boolean diskWarning, boolean refusing,
                            boolean closed) {
}
