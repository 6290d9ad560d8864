package io.tollgate.cloud.cli;

import io.tollgate.cloud.ledger.Database;
import io.tollgate.cloud.ledger.LedgerException;
import io.tollgate.cloud.ledger.Licenses;
import io.tollgate.cloud.licenses.LicenseFile;
import io.tollgate.licensing.License;
import io.tollgate.licensing.Pem;
import io.tollgate.tools.ExitCodes;
import io.tollgate.tools.PathValues;
import io.tollgate.tools.ToolException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.PublicKey;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code tollgate-billing license import|list|push|revoke-push}: the licenses the billing service knows and their
 * delivery to devices over MQTT (docs/billing.md, "Licenses"). The running service publishes what these commands
 * queue (it polls the ledger every few seconds).
 */
@Command(name = "license", description = "Licenses: import vendor-issued files, list them, deliver them to devices.",
        subcommands = {LicenseCommand.Import.class, LicenseCommand.ListLicenses.class, LicenseCommand.Push.class,
            LicenseCommand.RevokePush.class})
public final class LicenseCommand {

    /** Reads a command-line file (exit 3 when it cannot). */
    static byte[] read(Path file, String what) throws ToolException {
        try {
            if (Files.size(file) > Licenses.MAX_FILE_BYTES) {
                throw new ToolException(ExitCodes.FAILED, what + " " + file + " is larger than "
                        + Licenses.MAX_FILE_BYTES + " bytes; devices take at most that");
            }
            return Files.readAllBytes(file);
        } catch (IOException e) {
            throw new ToolException(ExitCodes.IO_ERROR, "cannot read " + what + " " + file + ": "
                    + PathValues.reason(e), e);
        }
    }

    /** {@code --vendor PUB.pem}, or null. */
    static PublicKey vendorKey(Path pem) throws ToolException {
        if (pem == null) {
            return null;
        }
        if (!Files.isReadable(pem)) {
            throw new ToolException(ExitCodes.IO_ERROR, "cannot read --vendor " + pem);
        }
        try {
            return Pem.readPublicKey(pem);
        } catch (IOException e) {
            throw new ToolException(ExitCodes.FAILED, "--vendor " + pem + ": " + e.getMessage(), e);
        }
    }

    /** {@code license import}. */
    @Command(name = "import", description = {
        "Import license files (*.lic, docs/licensing.md) into the ledger; a license bound to a device is queued for "
            + "delivery to it (the running service publishes it on tollgate/v1/DEVICE/cmd).",
        "With --vendor the signature is verified with the vendor's public key; without it the cloud cannot check it "
            + "and trusts the operator (the device verifies every license against its own trusted vendors)."})
    public static final class Import extends BillingWork {
        @Mixin
        private LedgerOption ledger;

        @Spec
        private CommandSpec spec;

        @Parameters(arity = "1..*", paramLabel = "FILE", description = "License files.")
        private List<Path> files = new ArrayList<>();

        private Path vendor;

        @Option(names = "--vendor", paramLabel = "PUB.pem", description = "The vendor's Ed25519 public key: every "
                + "file must verify with it.")
        private void vendor(String value) {
            vendor = PathValues.nonEmpty(spec, "--vendor", value);
        }

        @Override
        int work() throws ToolException, LedgerException {
            PublicKey key = vendorKey(vendor);
            List<LicenseFile.Parsed> parsed = new ArrayList<>();
            List<byte[]> bytes = new ArrayList<>();
            for (Path f : files) {
                byte[] b = read(f, "license file");
                try {
                    parsed.add(LicenseFile.license(b, key));
                } catch (IllegalArgumentException e) {
                    throw new ToolException(ExitCodes.FAILED, f + " is not an importable license: " + e.getMessage(),
                            e);
                }
                bytes.add(b);
            }
            try (Database db = ledger.open(data.dataDir())) {
                Licenses licenses = new Licenses(db);
                for (int i = 0; i < files.size(); i++) {
                    License l = parsed.get(i).license();
                    Licenses.Imported r = licenses.importLicense(l, parsed.get(i).verified(), bytes.get(i));
                    out().println((r == Licenses.Imported.NEW ? "imported " : "unchanged ") + l.id() + "\t"
                            + l.tenant() + "\t" + l.plugin() + "\t" + (l.bound() ? "device=" + l.deviceId()
                            + (r == Licenses.Imported.NEW ? " (queued for it)" : "") : "unbound")
                            + (parsed.get(i).verified() ? "\tverified" : "\tunverified"));
                }
            }
            if (key == null) {
                err().println("signatures not verified (no --vendor): the operator vouches for these files");
            }
            return ExitCodes.OK;
        }
    }

    /** {@code license list}. */
    @Command(name = "list", description = {"List the known licenses, one per line, tab-separated: id, tenant, plugin, "
        + "versions, device (* = unbound), quota, meter, expires, verified|unverified, deliveries "
        + "(DEVICE:pushed|pending, comma-separated)."})
    public static final class ListLicenses extends BillingWork {
        @Mixin
        private LedgerOption ledger;

        @Option(names = "--tenant", paramLabel = "T", converter = DeviceCommand.TenantName.class,
                description = "Only this tenant's licenses.")
        private String tenant;

        @Override
        int work() throws ToolException, LedgerException {
            try (Database db = ledger.openExisting(data.dataDir())) {
                for (Licenses.LicenseRow r : new Licenses(db).list(tenant)) {
                    out().println(r.licenseId() + "\t" + r.tenant() + "\t" + r.plugin() + "\t" + r.versions() + "\t"
                            + (r.deviceId() == null ? "*" : r.deviceId()) + "\t"
                            + (r.quota() == null ? "unlimited" : "quota=" + r.quota()) + "\t" + r.meter() + "\t"
                            + (r.expires() == null ? "never" : r.expires()) + "\t"
                            + (r.vendorVerified() ? "verified" : "unverified") + "\t"
                            + r.pushes().stream().map(p -> p.deviceId() + ":" + (p.pushedAt() == null ? "pending"
                                    : "pushed")).collect(Collectors.joining(",")));
                }
            }
            return ExitCodes.OK;
        }
    }

    /** {@code license push}. */
    @Command(name = "push", description = {"Queue a known license for a device (an unbound one for any registered "
        + "device; a bound one only for its own device, e.g. to deliver it again). The running service publishes it "
        + "on tollgate/v1/DEVICE/cmd until the broker takes it."})
    public static final class Push extends BillingWork {
        @Mixin
        private LedgerOption ledger;

        @Option(names = "--device", required = true, paramLabel = "D", description = "The device (repeatable).")
        private List<String> devices = new ArrayList<>();

        @Parameters(index = "0", paramLabel = "ID", description = "The license id (license list).")
        private String id;

        @Override
        int work() throws ToolException, LedgerException {
            try (Database db = ledger.open(data.dataDir())) {
                Licenses licenses = new Licenses(db);
                for (String d : devices) {
                    licenses.push(id, d);
                    out().println("queued " + id + " for " + d);
                }
            }
            return ExitCodes.OK;
        }
    }

    /** {@code license revoke-push}. */
    @Command(name = "revoke-push", description = {"Queue a vendor's signed revocation list (*.revocations, "
        + "tollgate-vendor revoke) for devices; each device stops using the revoked licenses of that vendor."})
    public static final class RevokePush extends BillingWork {
        @Mixin
        private LedgerOption ledger;

        @Spec
        private CommandSpec spec;

        @Parameters(index = "0", paramLabel = "FILE.revocations", description = "The revocation list.")
        private Path file;

        @ArgGroup(exclusive = true, multiplicity = "1")
        private Target target;

        static final class Target {
            @Option(names = "--device", paramLabel = "D", description = "A device (repeatable).")
            List<String> devices;

            @Option(names = "--all", description = "Every registered device.")
            boolean all;
        }

        private Path vendor;

        @Option(names = "--vendor", paramLabel = "PUB.pem", description = "The vendor's public key: the list must "
                + "verify with it.")
        private void vendor(String value) {
            vendor = PathValues.nonEmpty(spec, "--vendor", value);
        }

        @Override
        int work() throws ToolException, LedgerException {
            PublicKey key = vendorKey(vendor);
            byte[] b = read(file, "revocation list");
            LicenseFile.ParsedRevocations r;
            try {
                r = LicenseFile.revocations(b, key);
            } catch (IllegalArgumentException e) {
                throw new ToolException(ExitCodes.FAILED, file + " is not a revocation list: " + e.getMessage(), e);
            }
            try (Database db = ledger.open(data.dataDir())) {
                List<String> queued = new Licenses(db).pushRevocations(b, target.all ? List.of() : target.devices);
                for (String d : queued) {
                    out().println("queued " + file.getFileName() + " (" + r.revoked().size() + " revoked) for " + d);
                }
                if (queued.isEmpty()) {
                    err().println("no registered devices: nothing queued");
                }
            }
            return ExitCodes.OK;
        }
    }
}
