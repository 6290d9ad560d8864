package io.tollgate.sync.internal.cli;

import io.tollgate.metering.internal.JournalReader;
import io.tollgate.sync.internal.AckedSeqFile;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.time.Instant;

/**
 * {@code tollgate sync status [--data DIR]}: the ack cursor and, read offline from the journal files, the journal's
 * seq range, the backlog and the oldest unacknowledged record. Plain Java for the launcher's class path; reading the
 * journal needs the metering bundle's classes and Chronicle's JVM flags (without them only the cursor is shown).
 */
public final class SyncCli {
    /** Printed. */
    public static final int OK = 0;
    /** Bad command line. */
    public static final int USAGE = 2;
    /** Files unreadable. */
    public static final int IO_ERROR = 3;

    private static final String HELP = String.join("\n",
            "usage: sync status [--data DIR]",
            "DIR is the appliance's data directory (default: system property tollgate.data, else ./data);",
            "the ack cursor is DIR/sync/acked-seq, the journal DIR/usage.");

    private SyncCli() {
    }

    public static void main(String[] args) {
        System.exit(run(args, System.out, System.err));
    }

    public static int run(String[] args, PrintStream out, PrintStream err) {
        if (args.length < 2 || !args[0].equals("sync") || !args[1].equals("status")) {
            err.println(HELP);
            return USAGE;
        }
        String dataArg = null;
        for (int i = 2; i < args.length; i++) {
            if (args[i].equals("--data") && i + 1 < args.length) {
                dataArg = args[++i];
            } else {
                err.println("'sync status' does not take '" + args[i] + "'\n" + HELP);
                return USAGE;
            }
        }
        String prop = System.getProperty("tollgate.data", "");
        Path data = dataArg != null ? Paths.get(dataArg) : prop.isBlank() ? Paths.get("data") : Paths.get(prop);
        AckedSeqFile cursor = new AckedSeqFile(data.resolve("sync"));
        long acked;
        try {
            acked = cursor.read();
        } catch (IOException e) {
            err.println("sync status failed: " + e.getMessage());
            return IO_ERROR;
        }
        boolean cursorExists = Files.exists(cursor.path());
        out.println("acked seq:      " + acked + (cursorExists ? "" : "   (no " + cursor.path()
                + ": the cloud has acknowledged nothing yet, or sync never ran)"));
        Path usage = data.resolve("usage");
        JournalRange range;
        try {
            range = JournalRange.read(usage, acked);
        } catch (IOException e) {
            out.println("journal:        not readable (" + e.getMessage() + ")");
            return OK;
        } catch (LinkageError e) {
            out.println("journal:        not read (the metering classes or Chronicle are not on the class path)");
            return OK;
        }
        if (range.count == 0) {
            out.println("journal:        empty (" + usage + ")");
            out.println("backlog:        0 records");
            return OK;
        }
        out.println("journal:        seq " + range.firstSeq + " .. " + range.lastSeq + " on disk (" + usage + ")");
        long backlog = Math.max(0, range.lastSeq - acked);
        out.println("backlog:        " + backlog + " records");
        if (range.oldestUnackedWallNanos != Long.MIN_VALUE) {
            Instant t = Instant.ofEpochSecond(0, range.oldestUnackedWallNanos);
            long age = Math.max(0, System.currentTimeMillis() - range.oldestUnackedWallNanos / 1_000_000);
            out.println("oldest unacked: seq " + range.oldestUnackedSeq + " written " + t + " (" + age + " ms ago)");
        }
        if (acked > range.lastSeq) {
            out.println("warning:        the cursor is beyond the journal's last seq (was the journal replaced?)");
        }
        return OK;
    }

    /** What one pass over the journal files shows. */
    private static final class JournalRange {
        long count;
        long firstSeq;
        long lastSeq;
        long oldestUnackedSeq;
        long oldestUnackedWallNanos = Long.MIN_VALUE;

        static JournalRange read(Path usage, long acked) throws IOException {
            JournalRange r = new JournalRange();
            JournalReader.forEach(usage, bytes -> {
                if (bytes.length < 18) {
                    throw new IOException("a journal record of " + bytes.length + " bytes is too short; run "
                            + "'tollgate usage verify'");
                }
                ByteBuffer b = ByteBuffer.wrap(bytes);
                long seq = b.getLong(2);
                if (r.count++ == 0) {
                    r.firstSeq = seq;
                }
                r.lastSeq = seq;
                if (seq > acked && r.oldestUnackedWallNanos == Long.MIN_VALUE) {
                    r.oldestUnackedSeq = seq;
                    r.oldestUnackedWallNanos = b.getLong(10);
                }
                return true;
            });
            return r;
        }
    }
}
