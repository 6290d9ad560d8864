package io.tollgate.cloud.cli;

import io.tollgate.cloud.ledger.Database;
import io.tollgate.cloud.ledger.DeviceInfo;
import io.tollgate.cloud.ledger.Ledger;
import io.tollgate.cloud.ledger.LedgerException;
import io.tollgate.tools.ExitCodes;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code tollgate-billing device register|list}: the devices the ledger accepts usage from. */
@Command(name = "device", description = "The devices the ledger accepts usage from.",
        subcommands = {DeviceCommand.Register.class, DeviceCommand.ListDevices.class})
public final class DeviceCommand {

    /** {@code device register}. */
    @Command(name = "register", description = {
        "Register a device and its Ed25519 public key (bin/tollgate device init|id|pubkey on the device)."})
    public static final class Register extends BillingWork {
        @Mixin
        private LedgerOption ledger;

        @Option(names = "--id", required = true, paramLabel = "ID", description = "The device id, e.g. tg-06e3fd8fda29bb60.")
        private String id;

        @Option(names = "--public-key", required = true, paramLabel = "FILE.pem",
                description = "The device's public key (device.pub.pem).")
        private Path publicKey;

        @Override
        int work() throws LedgerException, IOException {
            String pem = Files.readString(publicKey, StandardCharsets.US_ASCII);
            try (Database db = Database.open(ledger.jdbcUrl(data.dataDir()))) {
                new Ledger(db).registerDevice(id, pem);
            }
            out().println("registered " + id);
            return ExitCodes.OK;
        }
    }

    /** {@code device list}. */
    @Command(name = "list", description = "List the registered devices with their acked and sealed seqs.")
    public static final class ListDevices extends BillingWork {
        @Mixin
        private LedgerOption ledger;

        @Override
        int work() throws LedgerException {
            try (Database db = Database.open(ledger.jdbcUrl(data.dataDir()))) {
                for (DeviceInfo d : new Ledger(db).devices()) {
                    out().println(d.id() + "\tacked_seq=" + d.headSeq() + "\tsealed_seq=" + d.sealedSeq()
                            + (d.brokenAtSeq() > 0 ? "\tBROKEN at " + d.brokenAtSeq() + ": " + d.brokenReason() : ""));
                }
            }
            return ExitCodes.OK;
        }
    }
}
