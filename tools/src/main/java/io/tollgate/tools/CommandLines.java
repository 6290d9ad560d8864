package io.tollgate.tools;

import java.io.PrintWriter;
import java.util.List;
import picocli.CommandLine;
import picocli.CommandLine.Model.UsageMessageSpec;

/**
 * Builds a command tree the Tollgate way: commands ({@link ToolCommand}) get the tool's streams, the top-level help lists every
 * command by its full name ({@link CommandList}), and {@link ErrorReporter} turns parse errors and failures into
 * one line and an exit code ({@link ExitCodes}). Used by {@code bin/tollgate} ({@link Tools}) and by
 * {@code tollgate-billing} (module {@code cloud/}), so both behave alike.
 */
public final class CommandLines {
    private CommandLines() {
    }

    /**
     * @param top         the root command, e.g. a {@link RootCommand}
     * @param subcommands its commands in help order: instances, or classes picocli creates
     */
    public static CommandLine create(Object top, ToolOutput io, List<?> subcommands) {
        if (top instanceof ToolCommand command) {
            command.output(io);
        }
        CommandLine cl = new CommandLine(top, new ToolFactory(io));
        for (Object c : subcommands) {
            cl.addSubcommand(c);
        }
        // After the subcommands: these settings propagate to the commands present.
        cl.getHelpSectionMap().put(UsageMessageSpec.SECTION_KEY_COMMAND_LIST, new CommandList());
        ErrorReporter errors = new ErrorReporter(io.err());
        cl.setOut(new PrintWriter(io.out(), true));
        cl.setErr(new PrintWriter(io.err(), true));
        cl.setParameterExceptionHandler(errors);
        cl.setExecutionExceptionHandler(errors);
        cl.setCaseInsensitiveEnumValuesAllowed(true);
        return cl;
    }
}
