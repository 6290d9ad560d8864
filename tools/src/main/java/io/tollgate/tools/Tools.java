package io.tollgate.tools;

import io.tollgate.tools.device.DeviceCommand;
import io.tollgate.tools.keys.KeysCommand;
import io.tollgate.tools.licenses.LicenseCommand;
import io.tollgate.tools.licenses.VendorCommand;
import io.tollgate.tools.plugin.PluginCommand;
import io.tollgate.tools.profile.ProfileCommand;
import io.tollgate.tools.sync.SyncCommand;
import io.tollgate.tools.usage.UsageCommand;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import picocli.CommandLine;

/**
 * The command line of {@code bin/tollgate}: one picocli command tree for every command, one way to report errors
 * and one set of exit codes ({@link CommandLines}). The runtime's launcher adds {@code run}
 * (it needs the framework, which this module must not depend on) and executes the tree.
 *
 * <p>A new command group (e.g. {@code keys}, {@code vendor}, {@code profile}) is a class annotated {@code @Command}
 * with its subcommands, added to {@link #COMMANDS}; help, errors and the tests that walk the tree cover it with
 * no further code.
 */
public final class Tools {
    /** Command groups and commands, in the order the help lists them (after those the caller adds first). */
    static final List<Class<?>> COMMANDS = List.of(PluginCommand.class, UsageCommand.class, DeviceCommand.class,
            SyncCommand.class, KeysCommand.class, VendorCommand.class, LicenseCommand.class, ProfileCommand.class, VersionCommand.class,
            HelpCommand.class);

    private Tools() {
    }

    /**
     * The command tree, writing to {@code out} and {@code err}.
     *
     * @param first commands listed before the tools' own (the launcher's {@code run}); instances or classes
     */
    public static CommandLine commandLine(PrintStream out, PrintStream err, Object... first) {
        ToolOutput io = new ToolOutput(out, err);
        List<Object> commands = new ArrayList<>(Arrays.asList(first));
        commands.addAll(COMMANDS);
        return CommandLines.create(new TollgateCommand(), io, commands);
    }

    /** Parses and runs {@code args}; returns the exit code ({@link ExitCodes}). */
    public static int execute(String[] args, PrintStream out, PrintStream err, Object... first) {
        return commandLine(out, err, first).execute(args);
    }
}
