package io.tollgate.tools.licenses;

import io.tollgate.guard.LicenseFolder;
import io.tollgate.guard.LicenseStore;
import io.tollgate.licensing.License;
import io.tollgate.licensing.LicenseException;
import io.tollgate.licensing.Pem;
import io.tollgate.tools.ExitCodes;
import io.tollgate.tools.PathValues;
import io.tollgate.tools.ToolException;
import io.tollgate.tools.ToolOutput;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.PublicKey;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** The vendor and license commands' work, with the plugin guard's {@link LicenseFolder} and {@link LicenseStore}. */
final class LicenseReports {
    /** What a running appliance needs to notice a change (its poll, plus the time a file must stand still). */
    private static final String PICKED_UP = "a running appliance picks it up within "
            + (LicenseStore.POLL_MS + LicenseStore.STABLE_MS + 999) / 1000 + " s, no restart";

    private LicenseReports() {
    }

    static int trust(Path conf, Path key, String name, ToolOutput io) throws ToolException, IOException {
        PublicKey pub;
        try {
            pub = Pem.readPublicKey(key);
        } catch (IOException e) {
            throw new ToolException(ExitCodes.IO_ERROR, "cannot use " + key + " as a vendor key: "
                    + PathValues.reason(e), e);
        }
        String fp = Pem.fingerprint(pub);
        String n = name != null ? name : stem(key.getFileName().toString());
        if (!LicenseFolder.VENDOR_NAME.matcher(n).matches()) {
            throw new ToolException(ExitCodes.USAGE, (name != null ? "--name " : "the file name ") + "'" + n
                    + "' is no vendor name: use 1 to 64 of A-Z a-z 0-9 . _ - (--name N)");
        }
        Path vendors = conf.resolve("vendors");
        for (Map.Entry<String, PublicKey> e : LicenseFolder.vendorsByName(vendors).entrySet()) {
            if (Pem.fingerprint(e.getValue()).equals(fp)) {
                io.out().println("already trusted as " + e.getKey() + " (key " + fp + ")");
                return ExitCodes.OK;
            }
            if (e.getKey().equals(n)) {
                throw new ToolException(ExitCodes.FAILED, "vendor name " + n + " is taken by another key ("
                        + Pem.fingerprint(e.getValue()) + "); give --name N");
            }
        }
        Path file = LicenseFolder.write(vendors, n + ".pem", Files.readAllBytes(key));
        io.out().println("trusted vendor " + n + " (key " + fp + ") in " + file + "; " + PICKED_UP);
        return ExitCodes.OK;
    }

    static int vendors(Path conf, ToolOutput io) {
        Map<String, PublicKey> vendors = LicenseFolder.vendorsByName(conf.resolve("vendors"));
        if (vendors.isEmpty()) {
            io.out().println("no trusted vendors in " + conf.resolve("vendors") + ": no plugin can be installed; "
                    + "add one with bin/tollgate vendor trust PUB.pem");
            return ExitCodes.OK;
        }
        List<String[]> rows = new ArrayList<>();
        rows.add(new String[] {"NAME", "FINGERPRINT", "FILE"});
        for (Map.Entry<String, PublicKey> e : vendors.entrySet()) {
            rows.add(new String[] {e.getKey(), Pem.fingerprint(e.getValue()),
                conf.resolve("vendors").resolve(e.getKey() + ".pem").toString()});
        }
        table(rows, io.out());
        return ExitCodes.OK;
    }

    static int untrust(Path conf, String vendor, ToolOutput io) throws ToolException, IOException {
        Path vendors = conf.resolve("vendors");
        List<String> removed = new ArrayList<>();
        for (Map.Entry<String, PublicKey> e : LicenseFolder.vendorsByName(vendors).entrySet()) {
            if (e.getKey().equals(vendor) || Pem.fingerprint(e.getValue()).equals(vendor)) {
                Files.deleteIfExists(vendors.resolve(e.getKey() + ".pem"));
                removed.add(e.getKey());
            }
        }
        if (removed.isEmpty()) {
            throw new ToolException(ExitCodes.FAILED, "no trusted vendor '" + vendor + "' in " + vendors
                    + "; bin/tollgate vendor list shows them");
        }
        io.out().println("no longer trusted: " + String.join(", ", removed) + "; their plugins stop and their "
                + "licenses no longer count; " + PICKED_UP);
        return ExitCodes.OK;
    }

    static int install(Path conf, Path licenses, Path data, Path file, ToolOutput io) throws ToolException, IOException {
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(file);
        } catch (IOException e) {
            throw new ToolException(ExitCodes.IO_ERROR, "cannot read " + file + ": " + PathValues.reason(e), e);
        }
        LicenseFolder.Installed done;
        try {
            done = LicenseFolder.install(licenses, bytes, LicenseFolder.trusted(conf.resolve("vendors")));
        } catch (LicenseException e) {
            throw new ToolException(ExitCodes.FAILED, file + " is refused, nothing was installed: "
                    + LicenseStore.reason(e));
        }
        if (done.license() == null) {
            io.out().println("installed the revocation list " + done.file() + " (" + done.revoked().size()
                    + " license" + (done.revoked().size() == 1 ? "" : "s") + " revoked: "
                    + String.join(", ", done.revoked()) + "); " + PICKED_UP);
            return ExitCodes.OK;
        }
        License l = done.license();
        LicenseStore store = store(conf, licenses, data);
        io.out().println("installed license " + l.id() + " (plugin " + l.plugin() + " " + l.versions() + ", tenant "
                + l.tenant() + ", " + (l.bound() ? "device " + l.deviceId() : "any device") + ") as " + done.file()
                + "; on this device it is " + store.stateOf(l, Instant.now()) + "; " + PICKED_UP);
        return ExitCodes.OK;
    }

    static int list(Path conf, Path licenses, Path data, ToolOutput io) {
        LicenseStore store = store(conf, licenses, data);
        PrintStream out = io.out();
        if (store.licenses().isEmpty()) {
            out.println("no licenses in " + licenses + "; install one with bin/tollgate license install FILE");
        } else {
            List<String[]> rows = new ArrayList<>();
            rows.add(new String[] {"ID", "PLUGIN", "VERSIONS", "TENANT", "DEVICE", "STATE", "EXPIRES", "QUOTA", "CODE",
                "VENDOR"});
            Instant now = Instant.now();
            for (License l : store.licenses()) {
                rows.add(new String[] {l.id(), l.plugin(), l.versions(), l.tenant(), l.bound() ? l.deviceId() : "any",
                    store.stateOf(l, now), l.expires().equals(Instant.MAX) ? "never" : l.expires().toString(),
                    l.hasQuota() ? l.quota() + " " + l.meter() : "unlimited", l.allowCode() ? "allowed" : "no",
                    store.vendorName(l.vendorKey())});
            }
            table(rows, out);
        }
        for (String refused : store.refusedFiles()) {
            out.println("refused: " + refused);
        }
        return ExitCodes.OK;
    }

    static int remove(Path conf, Path licenses, String id, ToolOutput io) throws ToolException, IOException {
        List<Path> removed = LicenseFolder.remove(licenses, id, LicenseFolder.trusted(conf.resolve("vendors")));
        if (removed.isEmpty()) {
            throw new ToolException(ExitCodes.FAILED, "no license '" + id + "' in " + licenses
                    + "; bin/tollgate license list shows the ids");
        }
        io.out().println("removed license " + id + " (" + removed.get(0) + "); the plugins it entitled stop; "
                + PICKED_UP);
        return ExitCodes.OK;
    }

    private static LicenseStore store(Path conf, Path licenses, Path data) {
        LicenseStore store = new LicenseStore(conf.resolve("vendors"), List.of(licenses), data.resolve("device"),
                Clock.systemUTC());
        store.reload();
        return store;
    }

    private static String stem(String fileName) {
        return fileName.endsWith(".pem") ? fileName.substring(0, fileName.length() - 4) : fileName;
    }

    private static void table(List<String[]> rows, PrintStream out) {
        int[] widths = new int[rows.get(0).length];
        for (String[] r : rows) {
            for (int i = 0; i < r.length; i++) {
                widths[i] = Math.max(widths[i], r[i].length());
            }
        }
        for (String[] r : rows) {
            StringBuilder line = new StringBuilder();
            for (int i = 0; i < r.length; i++) {
                line.append(i == r.length - 1 ? r[i] : String.format("%-" + widths[i] + "s  ", r[i]));
            }
            out.println(line.toString().stripTrailing());
        }
    }
}
