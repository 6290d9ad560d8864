package io.tollgate.metering.internal;

import io.tollgate.metering.UsageEvent;
import io.tollgate.metering.files.ExportFormat;
import io.tollgate.metering.internal.RecordFormat.Decoded;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Writes journal records as JSON lines or CSV. Field names are those of docs/usage-records.md, "Export".
 * Numbers stay numbers in JSON; hashes and signatures are lowercase hex.
 */
public final class UsageExport {
    /** Column order of the CSV header and the JSON objects. */
    public static final List<String> FIELDS = List.of("device_id", "seq", "kind", "time", "wall_time_nanos",
            "monotonic_nanos", "tenant", "model", "model_version", "plugin", "plugin_version", "license_id", "meter",
            "quantity", "compute_nanos", "accelerator", "request_id", "status", "sealed_seq", "sealed_hash",
            "seal_reason", "signature", "previous_run", "prev_hash", "hash");

    private final ExportFormat format;
    private final boolean allKinds;
    private final PrintStream out;
    private long written;

    public UsageExport(ExportFormat format, boolean allKinds, PrintStream out) {
        this.format = format;
        this.allKinds = allKinds;
        this.out = out;
        if (format == ExportFormat.CSV) {
            out.print(String.join(",", FIELDS));
            out.print("\r\n");
        }
    }

    /** Exports the journal in {@code journalDir}; returns the number of records written. */
    public static long export(Path journalDir, ExportFormat format, boolean allKinds, PrintStream out) throws IOException {
        UsageExport x = new UsageExport(format, allKinds, out);
        JournalReader.forEach(journalDir, bytes -> {
            x.add(RecordFormat.decode(bytes));
            return true;
        });
        out.flush();
        return x.written;
    }

    public void add(Decoded d) {
        if (!allKinds && d.kind() != RecordFormat.KIND_USAGE) {
            return;
        }
        List<Object> v = values(d);
        if (format == ExportFormat.CSV) {
            StringBuilder b = new StringBuilder();
            for (int i = 0; i < v.size(); i++) {
                if (i > 0) {
                    b.append(',');
                }
                b.append(csv(v.get(i)));
            }
            out.print(b.append("\r\n"));
        } else {
            StringBuilder b = new StringBuilder("{");
            boolean first = true;
            for (int i = 0; i < v.size(); i++) {
                Object o = v.get(i);
                if (o == null) {
                    continue;
                }
                if (!first) {
                    b.append(',');
                }
                first = false;
                b.append('"').append(FIELDS.get(i)).append("\":");
                b.append(o instanceof Long ? o.toString() : Json.string(o.toString()));
            }
            out.print(b.append("}\n"));
        }
        written++;
    }

    private static List<Object> values(Decoded d) {
        List<Object> v = new ArrayList<>(FIELDS.size());
        v.add(d.deviceId());
        v.add(d.seq());
        v.add(d.recordKind().name().toLowerCase(java.util.Locale.ROOT));
        v.add(UsageSummary.instant(d.wallTimeNanos()).toString());
        v.add(d.wallTimeNanos());
        v.add(d.monotonicNanos());
        UsageEvent e = d.usage();
        if (e != null) {
            v.add(e.tenant());
            v.add(e.model());
            v.add(e.modelVersion());
            v.add(e.plugin());
            v.add(e.pluginVersion());
            v.add(e.licenseId());
            v.add(e.meter());
            v.add(e.quantity());
            v.add(e.computeNanos());
            v.add(e.accelerator());
            v.add(e.requestId());
            v.add(e.status());
        } else {
            for (int i = 0; i < 12; i++) {
                v.add(null);
            }
        }
        if (d.statement() != null) {
            v.add(d.statement().sealedSeq());
            v.add(RecordFormat.hex(d.statement().sealedHash()));
            v.add(d.statement().reason().name());
            v.add(RecordFormat.hex(d.signature()));
        } else {
            v.add(null);
            v.add(null);
            v.add(null);
            v.add(null);
        }
        v.add(d.previousRun() == null ? null : d.previousRun().name());
        v.add(RecordFormat.hex(d.prevHash()));
        v.add(RecordFormat.hex(d.hash()));
        return v;
    }

    /**
     * One RFC 4180 cell. Text that a spreadsheet would run as a formula (starting with {@code = + - @}, a tab or a
     * CR — OWASP "CSV injection") gets a leading single quote: tenant, model, request id and status come from clients
     * and plugins. Numbers are written as they are (a negative monotonic reading stays a number).
     */
    static String csv(Object o) {
        if (o == null) {
            return "";
        }
        String s = o.toString();
        if (o instanceof CharSequence && !s.isEmpty() && "=+-@\t\r".indexOf(s.charAt(0)) >= 0) {
            s = "'" + s;
        }
        if (s.indexOf(',') < 0 && s.indexOf('"') < 0 && s.indexOf('\n') < 0 && s.indexOf('\r') < 0) {
            return s;
        }
        return '"' + s.replace("\"", "\"\"") + '"';
    }
}
