package io.tollgate.cloud.cli;

import io.tollgate.cloud.CloudKey;
import io.tollgate.tools.ExitCodes;
import java.io.IOException;
import picocli.CommandLine.Command;

/** {@code tollgate-billing cloud pubkey}: the key the cloud signs acks with. */
@Command(name = "cloud", description = "The cloud's own key.", subcommands = CloudCommand.Pubkey.class)
public final class CloudCommand {

    /** {@code cloud pubkey}. */
    @Command(name = "pubkey", description = {
        "Print the cloud's public key (PEM) for the devices' configuration; creates the key pair on first use."})
    public static final class Pubkey extends BillingWork {
        @Override
        int work() throws IOException {
            out().print(CloudKey.loadOrCreate(data.dataDir()).publicPem());
            return ExitCodes.OK;
        }
    }
}
