package io.tollgate.cloud.cli;

import io.tollgate.cloud.auth.MqttPasswords;
import io.tollgate.cloud.ledger.Database;
import io.tollgate.cloud.ledger.DeviceInfo;
import io.tollgate.cloud.ledger.Ledger;
import io.tollgate.cloud.ledger.LedgerException;
import io.tollgate.tools.ExitCodes;
import io.tollgate.tools.PathValues;
import io.tollgate.tools.ToolException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeSet;
import java.util.regex.Pattern;
import picocli.CommandLine.Command;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.TypeConversionException;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/** {@code tollgate-billing device register|list}: the devices the ledger accepts usage from. */
@Command(name = "device", description = "The devices the ledger accepts usage from.",
        subcommands = {DeviceCommand.Register.class, DeviceCommand.ListDevices.class})
public final class DeviceCommand {
    /**
     * The appliance's own rule for a device id (bundles/metering's {@code Ed25519DeviceKey}: derived {@code tg-<hex>}
     * or configured): an id the appliance cannot have is refused here, and {@code device list}'s tab-separated lines
     * stay one line per device.
     */
    static final Pattern DEVICE_ID = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._:-]{0,63}");

    /** {@code device register}. */
    @Command(name = "register", description = {
        "Register a device and its Ed25519 public key (bin/tollgate device init|id|pubkey on the device).",
        "Prints 'registered ID', then 'mqtt-password PASSWORD': the device's new broker password (username = ID), "
            + "shown only now; run broker-config afterwards."})
    public static final class Register extends BillingWork {
        @Mixin
        private LedgerOption ledger;

        @Spec
        private CommandSpec spec;

        private String id;
        private Path publicKey;

        @Option(names = "--id", required = true, paramLabel = "ID", description = "The device id, e.g. "
                + "tg-06e3fd8fda29bb60 (bin/tollgate device id): 1-64 of A-Z a-z 0-9 . _ : -, starting with a letter "
                + "or digit.")
        private void id(String value) {
            if (!DEVICE_ID.matcher(value).matches()) {
                throw new ParameterException(spec.commandLine(), "--id " + ToolException.quote(value) + " is not a device "
                        + "id: 1 to 64 characters from A-Z a-z 0-9 . _ : - starting with a letter or digit");
            }
            id = value;
        }

        @Option(names = "--public-key", required = true, paramLabel = "FILE.pem",
                description = "The device's public key (device.pub.pem).")
        private void publicKey(String value) {
            publicKey = PathValues.nonEmpty(spec, "--public-key", value);
        }

        @Option(names = "--tenant", paramLabel = "T", converter = TenantName.class, description = "A tenant the "
                + "device may bill (repeatable; default: default). Usage records naming another tenant are "
                + "quarantined, never billed.")
        private List<String> tenants = new ArrayList<>();

        @Override
        int work() throws ToolException, LedgerException, IOException {
            String pem;
            try {
                pem = Files.readString(publicKey, StandardCharsets.US_ASCII);
            } catch (IOException e) {
                throw new ToolException(ExitCodes.IO_ERROR, "cannot read --public-key " + publicKey + ": "
                        + PathValues.reason(e), e);
            }
            try (Database db = ledger.open(data.dataDir())) {
                new Ledger(db).registerDevice(id, pem, new TreeSet<>(tenants));
            }
            out().println("registered " + id);
            if (MqttPasswords.usable(id)) {
                // second line: the device's broker password, shown only now (its hash is in DATA/auth/mqtt-passwd)
                out().println("mqtt-password " + MqttPasswords.issue(data.dataDir(), id));
            } else {
                err().println("no broker password for " + id + ": mosquitto's password file cannot hold a username "
                        + "with ':'");
            }
            return ExitCodes.OK;
        }
    }

    /** A {@code --tenant} value: {@link Ledger#TENANT}, else a bad command line (exit 2). */
    static final class TenantName implements ITypeConverter<String> {
        @Override
        public String convert(String value) {
            if (!Ledger.TENANT.matcher(value).matches()) {
                throw new TypeConversionException(ToolException.quote(value) + " is not a tenant name: 1 to 63 "
                        + "characters from a-z 0-9 . _ - starting with a letter or digit");
            }
            return value;
        }
    }

    /** {@code device list}. */
    @Command(name = "list", description = "List the registered devices with their acked and sealed seqs.")
    public static final class ListDevices extends BillingWork {
        @Mixin
        private LedgerOption ledger;

        @Override
        int work() throws ToolException, LedgerException {
            try (Database db = ledger.openExisting(data.dataDir())) {
                for (DeviceInfo d : new Ledger(db).devices()) {
                    out().println(d.id() + "\ttenants=" + String.join(",", d.tenants()) + "\tacked_seq=" + d.headSeq()
                            + "\tsealed_seq=" + d.sealedSeq()
                            + (d.brokenAtSeq() > 0 ? "\tBROKEN at " + d.brokenAtSeq() + ": " + d.brokenReason() : "")
                            + (d.cloned() ? "\tCLONED since " + d.clonedAt().toInstant() + ": " + d.clonedReason()
                            : ""));
                }
            }
            return ExitCodes.OK;
        }
    }
}
