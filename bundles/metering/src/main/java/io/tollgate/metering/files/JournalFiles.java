package io.tollgate.metering.files;

import io.tollgate.metering.internal.DevicePublicKey;
import io.tollgate.metering.internal.JournalReader;
import io.tollgate.metering.internal.RecordFormat;
import io.tollgate.metering.internal.UsageExport;
import io.tollgate.metering.internal.UsageSummary;
import io.tollgate.metering.internal.UsageVerifier;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;

/**
 * The usage journal of one data directory ({@code DIR/usage}), read-only. Each call opens the journal, walks it
 * once and closes it; a journal the appliance is writing is seen as it was at that moment.
 *
 * <p>Each method throws {@link NoSuchFileException} when there is no journal (or, for {@link #verify()}, no device
 * public key), naming the missing file and what to check, and another {@link IOException} when a file cannot be
 * read or decoded.
 */
public final class JournalFiles {
    private final Path dataDir;

    private JournalFiles(Path dataDir) {
        this.dataDir = dataDir;
    }

    /** The journal of the appliance whose data directory is {@code dataDir}. */
    public static JournalFiles of(Path dataDir) {
        return new JournalFiles(dataDir);
    }

    /** {@code DIR/usage}. */
    public Path directory() {
        return dataDir.resolve("usage");
    }

    /**
     * Checks the journal the way the cloud does (docs/usage-records.md, "Verifying"): every record decodes, seqs are
     * gapless, each prev_hash matches, each seal is signed by the key in {@code DIR/device/device.pub.pem}.
     */
    public JournalCheck verify() throws IOException {
        DevicePublicKey key = DeviceFiles.publicKey(dataDir.resolve("device"));
        UsageVerifier.Report r = UsageVerifier.verify(directory(), key);
        return new JournalCheck(r.ok(), r.summary(), r.records(), r.usageRecords(), r.seals(), r.unsealed(), r.notes());
    }

    /** Usage totals per tenant, model and meter, sorted by them; {@code from} inclusive, {@code to} exclusive, null = open. */
    public List<UsageTotals> summary(Instant from, Instant to) throws IOException {
        try {
            return UsageSummary.of(directory(), from, to);
        } catch (IllegalArgumentException e) {
            throw damaged(e);
        }
    }

    /**
     * Writes the usage records ({@code allKinds}: seals and starts too) to {@code out}, oldest first.
     *
     * @return the number of records written
     */
    public long export(ExportFormat format, boolean allKinds, PrintStream out) throws IOException {
        JournalReader.requireJournal(directory());   // before the CSV header goes out
        try {
            return UsageExport.export(directory(), format, allKinds, out);
        } catch (IllegalArgumentException e) {
            throw damaged(e);
        }
    }

    /** Receives each record in order; returns false to stop the walk. */
    @FunctionalInterface
    public interface EntryVisitor {
        boolean visit(JournalEntry entry) throws IOException;
    }

    /**
     * Walks the records oldest first.
     *
     * @return the number of records visited
     */
    public long forEach(EntryVisitor visitor) throws IOException {
        try {
            return JournalReader.forEach(directory(), bytes -> {
                RecordFormat.Header h = RecordFormat.header(bytes);
                return visitor.visit(new JournalEntry(h.seq(), h.kind(), UsageSummary.instant(h.wallTimeNanos())));
            });
        } catch (IllegalArgumentException e) {
            throw damaged(e);
        }
    }

    /** A record that does not decode makes the journal unreadable here; verify names the record. */
    private IOException damaged(IllegalArgumentException e) {
        return new IOException(directory() + " holds a record that cannot be decoded (" + e.getMessage()
                + "); run 'tollgate usage verify' to find it", e);
    }
}
