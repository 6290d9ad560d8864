package io.tollgate.tools.usage;

import io.tollgate.metering.files.ExportFormat;
import io.tollgate.metering.files.JournalCheck;
import io.tollgate.metering.files.JournalFiles;
import io.tollgate.metering.files.UsageTotals;
import io.tollgate.tools.ExitCodes;
import io.tollgate.tools.ToolOutput;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Locale;

/** What the usage commands print, from metering's exported {@link JournalFiles}. */
final class JournalReports {
    private JournalReports() {
    }

    /** Notes, the summary line and the counts; the failure on stderr with {@link ExitCodes#FAILED}. */
    static int verify(Path data, ToolOutput io) throws IOException {
        JournalCheck r = JournalFiles.of(data).verify();
        PrintStream notes = r.ok() ? io.out() : io.err();
        for (String note : r.notes()) {
            notes.println("note: " + note);
        }
        if (!r.ok()) {
            io.err().println(r.summary());
            return ExitCodes.FAILED;
        }
        io.out().println(r.summary());
        io.out().println("records: " + r.records());
        io.out().println("seals: " + r.seals());
        return ExitCodes.OK;
    }

    static int summary(Path data, Instant from, Instant to, boolean json, PrintStream out) throws IOException {
        List<UsageTotals> rows = JournalFiles.of(data).summary(from, to);
        if (json) {
            rows.forEach(r -> out.println(r.toJson()));
            return ExitCodes.OK;
        }
        out.printf(Locale.ROOT, "%-20s %-24s %-14s %10s %12s %14s%n", "TENANT", "MODEL", "METER", "REQUESTS",
                "QUANTITY", "COMPUTE_MS");
        for (UsageTotals r : rows) {
            out.printf(Locale.ROOT, "%-20s %-24s %-14s %10d %12d %14.3f%n", r.tenant(), r.model(), r.meter(),
                    r.requests(), r.quantity(), r.computeNanos() / 1e6);
        }
        return ExitCodes.OK;
    }

    static int export(Path data, UsageCommand.Format format, boolean all, PrintStream out) throws IOException {
        ExportFormat f = switch (format) {
            case jsonl -> ExportFormat.JSONL;
            case csv -> ExportFormat.CSV;
        };
        JournalFiles.of(data).export(f, all, out);
        return ExitCodes.OK;
    }
}
