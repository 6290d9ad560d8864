package io.tollgate.tools.device;

import io.tollgate.tools.DataCommand;
import io.tollgate.tools.ExitCodes;
import picocli.CommandLine.Command;

/** {@code tollgate device init|id|pubkey}: the device identity in {@code DIR/device}. */
@Command(name = "device", description = "The device identity (DIR/device): its id and Ed25519 public key.",
        subcommands = {DeviceCommand.Init.class, DeviceCommand.Id.class, DeviceCommand.Pubkey.class})
public final class DeviceCommand {

    /** {@code device init}. */
    @Command(name = "init", description = {
        "Create the device identity if there is none (as the first start would); print the device id.",
        "Lets a fleet tool register the device with the cloud before the box serves anything."})
    public static final class Init extends DataCommand {
        @Override
        public Integer call() throws Exception {
            out().println(DeviceReports.init(data()));
            return ExitCodes.OK;
        }
    }

    /** {@code device id}. */
    @Command(name = "id", description = "Print the device id (what usage records and the cloud call this box).")
    public static final class Id extends DataCommand {
        @Override
        public Integer call() throws Exception {
            out().println(DeviceReports.id(data()));
            return ExitCodes.OK;
        }
    }

    /** {@code device pubkey}. */
    @Command(name = "pubkey", description = "Print the device public key (PEM), which the cloud registers.")
    public static final class Pubkey extends DataCommand {
        @Override
        public Integer call() throws Exception {
            out().print(DeviceReports.publicKeyPem(data()));
            return ExitCodes.OK;
        }
    }
}
