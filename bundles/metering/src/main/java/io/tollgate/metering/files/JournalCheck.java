package io.tollgate.metering.files;

import java.util.List;

/**
 * What {@link JournalFiles#verify()} found.
 *
 * @param ok      whether the chain, the seq order and every seal check out
 * @param summary one line: "OK: 9 records (seq 1..9): ..." or "FAILED: seq 8: prev_hash does not match ..."
 * @param records      records read (up to the first problem)
 * @param usageRecords usage records among them
 * @param seals        seals whose signature checked out
 * @param unsealed     usage and start records after the last seal: normal while the appliance runs, 0 after a
 *                     clean shutdown
 * @param notes        remarks that are not failures (e.g. the journal starts after released records)
 */
public record JournalCheck(boolean ok, String summary, long records, long usageRecords, long seals, long unsealed,
                           List<String> notes) {
    public JournalCheck {
        notes = List.copyOf(notes);
    }
}
