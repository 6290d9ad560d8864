package io.tollgate.metering.internal.cli;

import io.tollgate.metering.internal.DataPaths;
import io.tollgate.metering.internal.DevicePublicKey;
import io.tollgate.metering.internal.Ed25519DeviceKey;
import io.tollgate.metering.internal.UsageExport;
import io.tollgate.metering.internal.UsageSummary;
import io.tollgate.metering.internal.UsageVerifier;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.time.Instant;
import java.time.LocalDate;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeParseException;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * Operator commands over an appliance's data directory, for the launcher ({@code bin/tollgate usage ...}).
 * Plain Java: opens the journal read-only (safe while the appliance runs) and needs no OSGi framework,
 * only Chronicle's JVM flags. The journal is DIR/usage, the device key DIR/device.
 */
public final class MeteringCli {
    /** Everything verified / printed. */
    public static final int OK = 0;
    /** The journal failed verification. */
    public static final int VERIFY_FAILED = 1;
    /** Bad command line. */
    public static final int USAGE = 2;
    /** Files missing or unreadable. */
    public static final int IO_ERROR = 3;

    private static final String HELP = String.join("\n",
            "usage: usage verify [--data DIR]",
            "       usage summary [--data DIR] [--from ISO] [--to ISO] [--json]",
            "       usage export [--data DIR] --format jsonl|csv [--all]",
            "       device id [--data DIR]",
            "       device pubkey [--data DIR]",
            "       device init [--data DIR]      create the device identity if there is none; print its id",
            "DIR is the appliance's data directory (default: system property tollgate.data, else ./data).",
            "ISO is an instant (2026-11-23T10:00:00Z), an offset date-time or a date (UTC midnight);",
            "--from is inclusive, --to exclusive.");

    private MeteringCli() {
    }

    public static void main(String[] args) {
        System.exit(run(args, System.out, System.err));
    }

    public static int run(String[] args, PrintStream out, PrintStream err) {
        if (args.length < 2) {
            err.println(HELP);
            return USAGE;
        }
        String command = args[0] + " " + args[1];
        Map<String, String> opts = new HashMap<>();
        Set<String> flags = switch (command) {
            case "usage summary" -> Set.of("--json");
            case "usage export" -> Set.of("--all");
            default -> Set.of();
        };
        Set<String> valued = switch (command) {
            case "usage summary" -> Set.of("--data", "--from", "--to");
            case "usage export" -> Set.of("--data", "--format");
            case "usage verify", "device id", "device pubkey", "device init" -> Set.of("--data");
            default -> null;
        };
        if (valued == null) {
            err.println("unknown command '" + command + "'\n" + HELP);
            return USAGE;
        }
        for (int i = 2; i < args.length; i++) {
            String a = args[i];
            if (flags.contains(a)) {
                opts.put(a, "true");
            } else if (valued.contains(a) && i + 1 < args.length) {
                opts.put(a, args[++i]);
            } else {
                err.println("'" + command + "' does not take '" + a + "'" + (valued.contains(a) ? " without a value" : "")
                        + "\n" + HELP);
                return USAGE;
            }
        }
        Path data = opts.containsKey("--data") ? Paths.get(opts.get("--data")) : DataPaths.dataDir();
        try {
            return switch (command) {
                case "usage verify" -> verify(data, out, err);
                case "usage summary" -> summary(data, opts, out, err);
                case "usage export" -> export(data, opts, out, err);
                case "device id" -> deviceId(data, out);
                case "device init" -> {
                    // The identity the appliance would create on first start; lets a fleet tool
                    // register the device with the cloud before the box serves anything.
                    out.println(Ed25519DeviceKey.loadOrCreate(data.resolve("device"), null).deviceId());
                    yield OK;
                }
                default -> {
                    out.print(DevicePublicKey.read(data.resolve("device")).pem());
                    yield OK;
                }
            };
        } catch (NoSuchFileException e) {
            err.println("cannot read " + e.getFile() + (e.getReason() == null ? "" : ": " + e.getReason()));
            return IO_ERROR;
        } catch (IOException | RuntimeException e) {
            err.println(command + " failed: " + e.getMessage());
            return IO_ERROR;
        }
    }

    private static int verify(Path data, PrintStream out, PrintStream err) throws IOException {
        DevicePublicKey key = DevicePublicKey.read(data.resolve("device"));
        UsageVerifier.Report r = UsageVerifier.verify(data.resolve("usage"), key);
        for (String note : r.notes()) {
            (r.ok() ? out : err).println("note: " + note);
        }
        if (!r.ok()) {
            err.println(r.summary());
            return VERIFY_FAILED;
        }
        out.println(r.summary());
        out.println("records: " + r.records());
        out.println("seals: " + r.seals());
        return OK;
    }

    private static int summary(Path data, Map<String, String> opts, PrintStream out, PrintStream err)
            throws IOException {
        Instant from;
        Instant to;
        try {
            from = opts.containsKey("--from") ? parseInstant(opts.get("--from")) : null;
            to = opts.containsKey("--to") ? parseInstant(opts.get("--to")) : null;
        } catch (DateTimeParseException e) {
            err.println("'" + e.getParsedString() + "' is not an ISO instant, offset date-time or date "
                    + "(e.g. 2026-11-23T10:00:00Z or 2026-11-23)");
            return USAGE;
        }
        List<UsageSummary.Row> rows = UsageSummary.of(data.resolve("usage"), from, to);
        if (opts.containsKey("--json")) {
            rows.forEach(r -> out.println(r.toJson()));
            return OK;
        }
        out.printf(Locale.ROOT, "%-20s %-24s %-14s %10s %12s %14s%n", "TENANT", "MODEL", "METER", "REQUESTS",
                "QUANTITY", "COMPUTE_MS");
        for (UsageSummary.Row r : rows) {
            out.printf(Locale.ROOT, "%-20s %-24s %-14s %10d %12d %14.3f%n", r.tenant(), r.model(), r.meter(),
                    r.requests(), r.quantity(), r.computeNanos() / 1e6);
        }
        return OK;
    }

    private static int export(Path data, Map<String, String> opts, PrintStream out, PrintStream err)
            throws IOException {
        String f = opts.get("--format");
        UsageExport.Format format;
        if ("jsonl".equals(f)) {
            format = UsageExport.Format.JSONL;
        } else if ("csv".equals(f)) {
            format = UsageExport.Format.CSV;
        } else {
            err.println("usage export needs --format jsonl or --format csv" + (f == null ? "" : ", not '" + f + "'"));
            return USAGE;
        }
        UsageExport.export(data.resolve("usage"), format, opts.containsKey("--all"), out);
        return OK;
    }

    private static int deviceId(Path data, PrintStream out) throws IOException {
        Path dir = data.resolve("device");
        Path idFile = dir.resolve(Ed25519DeviceKey.ID_FILE);
        if (Files.exists(idFile)) {
            out.println(Files.readString(idFile, StandardCharsets.UTF_8).trim());
        } else {
            out.println(DevicePublicKey.read(dir).derivedDeviceId());
        }
        return OK;
    }

    static Instant parseInstant(String s) {
        try {
            return Instant.parse(s);
        } catch (DateTimeParseException e) {
            try {
                return OffsetDateTime.parse(s).toInstant();
            } catch (DateTimeParseException e2) {
                return LocalDate.parse(s).atStartOfDay(ZoneOffset.UTC).toInstant();
            }
        }
    }
}
