package io.tollgate.tools.usage;

import io.tollgate.tools.DataCommand;
import io.tollgate.tools.ExitCodes;
import io.tollgate.tools.ToolException;
import java.time.Instant;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code tollgate usage verify|summary|export}: the usage journal in {@code DIR/usage}, opened read-only (safe while
 * the appliance runs). Formats: docs/usage-records.md.
 */
@Command(name = "usage", description = "Read the usage journal (DIR/usage); safe while the appliance runs.",
        subcommands = {UsageCommand.Verify.class, UsageCommand.Summary.class, UsageCommand.Export.class})
public final class UsageCommand {

    /** {@code usage verify}. */
    @Command(name = "verify", description = {
        "Check the journal the way the cloud does: hash chain, gapless seqs, every seal's signature.",
        "Exit 0 with the counts, or 1 naming the first bad record."})
    public static final class Verify extends DataCommand {
        @Override
        public Integer call() throws Exception {
            return JournalReports.verify(data(), io());
        }
    }

    /** {@code usage summary}. */
    @Command(name = "summary", description = {
        "Usage totals per tenant, model and meter: requests, quantity, compute time.",
        "ISO is an instant (2026-11-23T10:00:00Z), an offset date-time or a date (UTC midnight)."})
    public static final class Summary extends DataCommand {
        @Option(names = "--from", paramLabel = "ISO", converter = IsoInstantConverter.class,
                description = "First instant included (default: the journal's start).")
        private Instant from;

        @Option(names = "--to", paramLabel = "ISO", converter = IsoInstantConverter.class,
                description = "First instant excluded (default: now).")
        private Instant to;

        @Option(names = "--json", description = "One JSON object per line instead of a table.")
        private boolean json;

        @Override
        public Integer call() throws Exception {
            if (from != null && to != null && !from.isBefore(to)) {
                throw new ToolException(ExitCodes.USAGE, "--from must be before --to (--from " + from + ", --to "
                        + to + ")");
            }
            return JournalReports.summary(data(), from, to, json, out());
        }
    }

    /** {@code usage export}. */
    @Command(name = "export", description = {
        "Write the usage records as JSON lines or CSV (fields: docs/usage-records.md, \"Export\")."})
    public static final class Export extends DataCommand {
        @Option(names = "--format", required = true, paramLabel = "jsonl|csv", description = "jsonl or csv.")
        private Format format;

        @Option(names = "--all", description = "Seals and start records too, not only usage records.")
        private boolean all;

        @Override
        public Integer call() throws Exception {
            return JournalReports.export(data(), format, all, out());
        }
    }

    /** {@code usage export --format}. */
    public enum Format { jsonl, csv }
}
