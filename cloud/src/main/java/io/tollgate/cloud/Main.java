package io.tollgate.cloud;

import io.tollgate.cloud.cli.BillingCommand;
import io.tollgate.cloud.cli.BrokerConfigCommand;
import io.tollgate.cloud.cli.CloudCommand;
import io.tollgate.cloud.cli.DeviceCommand;
import io.tollgate.cloud.cli.LicenseCommand;
import io.tollgate.cloud.cli.RunCommand;
import io.tollgate.cloud.cli.TokenCommand;
import io.tollgate.cloud.http.ApiServer;
import io.tollgate.tools.CommandLines;
import io.tollgate.tools.HelpCommand;
import io.tollgate.tools.ToolOutput;
import io.tollgate.tools.VersionCommand;
import java.io.PrintStream;
import java.util.List;

/**
 * {@code bin/tollgate-billing}: run the endpoint, register devices, API tokens, the broker configuration, the cloud
 * public key, the version.
 * The same command line as {@code bin/tollgate} (picocli, through {@link CommandLines}): {@code --help} on every
 * command, one stderr line and exit 2 for a bad command line, exit 1 for a failure.
 */
public final class Main {
    private Main() {
    }

    public static void main(String[] args) {
        ApiServer.requestTimeLimitDefault(); // before anything loads the JDK's HttpServer configuration
        System.exit(run(args, System.out, System.err));
    }

    /** Runs one command; returns its exit code (for {@code run}, once the service has stopped). */
    static int run(String[] args, PrintStream out, PrintStream err) {
        ToolOutput io = new ToolOutput(out, err);
        return CommandLines.create(new BillingCommand(), io, List.of(RunCommand.class, DeviceCommand.class,
                TokenCommand.class, LicenseCommand.class, BrokerConfigCommand.class, CloudCommand.class, VersionCommand.class,
                HelpCommand.class)).execute(args);
    }
}
