package io.tollgate.tools.sync;

import io.tollgate.metering.files.JournalFiles;
import io.tollgate.sync.files.SyncStateFiles;
import io.tollgate.tools.ExitCodes;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.time.Instant;

/**
 * {@code sync status}: the ack cursor from sync's exported {@link SyncStateFiles}, the journal's range from
 * metering's exported {@link JournalFiles}. Neither bundle knows the other; this is where they meet.
 */
final class SyncStatusReport {
    private long count;
    private long firstSeq;
    private long lastSeq;
    private long oldestUnackedSeq;
    private Instant oldestUnackedTime;

    private SyncStatusReport() {
    }

    /**
     * Prints the status; a journal that is missing or unreadable is an {@link IOException} (exit 3, like the usage
     * commands), with nothing printed: a script reading the cursor must not take a half report for a whole one.
     */
    static int print(Path data, PrintStream out) throws IOException {
        SyncStateFiles state = SyncStateFiles.of(data);
        long acked = state.ackedSeq();
        JournalFiles journal = JournalFiles.of(data);
        SyncStatusReport r = new SyncStatusReport();
        journal.forEach(e -> {
            if (r.count++ == 0) {
                r.firstSeq = e.seq();
            }
            r.lastSeq = e.seq();
            if (e.seq() > acked && r.oldestUnackedTime == null) {
                r.oldestUnackedSeq = e.seq();
                r.oldestUnackedTime = e.time();
            }
            return true;
        });
        String note = state.uplinkNote();
        out.println("acked seq:      " + acked + (state.hasCursor() ? "" : "   (no " + state.cursorFile()
                + ": the cloud has acknowledged nothing yet, or sync never ran)"));
        if (r.count == 0) {
            out.println("journal:        empty (" + journal.directory() + ")");
            out.println("backlog:        0 records");
            if (!note.isEmpty()) {
                out.println("uplink:         " + note);
            }
            return ExitCodes.OK;
        }
        out.println("journal:        seq " + r.firstSeq + " .. " + r.lastSeq + " on disk (" + journal.directory() + ")");
        out.println("backlog:        " + Math.max(0, r.lastSeq - acked) + " records");
        if (r.oldestUnackedTime != null) {
            long age = Math.max(0, System.currentTimeMillis() - r.oldestUnackedTime.toEpochMilli());
            out.println("oldest unacked: seq " + r.oldestUnackedSeq + " written " + r.oldestUnackedTime + " (" + age
                    + " ms ago)");
        }
        if (!note.isEmpty()) {
            out.println("uplink:         " + note);
        }
        if (acked > r.lastSeq) {
            out.println("warning:        the cursor is beyond the journal's last seq (was the journal replaced?)");
        }
        return ExitCodes.OK;
    }
}
