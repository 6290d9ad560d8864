package io.tollgate.tools.device;

import io.tollgate.tools.DataDirOption;
import io.tollgate.tools.ExitCodes;
import io.tollgate.tools.ToolOutput;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

/** {@code tollgate device init|id|pubkey}: the device identity in {@code DIR/device}. */
@Command(name = "device", description = "The device identity (DIR/device): its id and Ed25519 public key.",
        subcommands = {DeviceCommand.Init.class, DeviceCommand.Id.class, DeviceCommand.Pubkey.class})
public final class DeviceCommand {

    /** {@code device init}. */
    @Command(name = "init", description = {
        "Create the device identity if there is none (as the first start would); print the device id.",
        "Lets a fleet tool register the device with the cloud before the box serves anything."})
    public static final class Init implements Callable<Integer> {
        @Mixin
        private DataDirOption data;

        private final ToolOutput io;

        public Init(ToolOutput io) {
            this.io = io;
        }

        @Override
        public Integer call() throws Exception {
            io.out().println(DeviceReports.init(data.resolve()));
            return ExitCodes.OK;
        }
    }

    /** {@code device id}. */
    @Command(name = "id", description = "Print the device id (what usage records and the cloud call this box).")
    public static final class Id implements Callable<Integer> {
        @Mixin
        private DataDirOption data;

        private final ToolOutput io;

        public Id(ToolOutput io) {
            this.io = io;
        }

        @Override
        public Integer call() throws Exception {
            io.out().println(DeviceReports.id(data.resolve()));
            return ExitCodes.OK;
        }
    }

    /** {@code device pubkey}. */
    @Command(name = "pubkey", description = "Print the device public key (PEM), which the cloud registers.")
    public static final class Pubkey implements Callable<Integer> {
        @Mixin
        private DataDirOption data;

        private final ToolOutput io;

        public Pubkey(ToolOutput io) {
            this.io = io;
        }

        @Override
        public Integer call() throws Exception {
            io.out().print(DeviceReports.publicKeyPem(data.resolve()));
            return ExitCodes.OK;
        }
    }
}
