package io.tollgate.cloud.cli;

import io.tollgate.tools.ProductVersion;
import io.tollgate.tools.RootCommand;
import picocli.CommandLine.Command;

/** {@code tollgate-billing}: the top of the billing tool's command tree. */
@Command(name = "tollgate-billing",
        description = "The Tollgate cloud billing endpoint: receives devices' usage over MQTT, verifies it, keeps the "
                + "ledger, prices it.",
        synopsisSubcommandLabel = "<command>",
        versionProvider = ProductVersion.class,
        commandListHeading = "%nCommands (tollgate-billing <command> --help for its options):%n",
        footerHeading = "%nExit codes:%n",
        footer = {"  0    done",
            "  1    failed (ledger, broker or key problem; the message says which)",
            "  2    bad command line (unknown command or option, missing or bad value)",
            "  3    files missing or unreadable (a --data file, no ledger to read)",
            "  143  run stopped by SIGTERM: a clean stop (systemd: SuccessExitStatus=143)"})
public final class BillingCommand extends RootCommand {
}
