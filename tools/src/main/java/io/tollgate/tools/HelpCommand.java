package io.tollgate.tools;

import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code tollgate help [COMMAND...]}: the same help as {@code tollgate [COMMAND...] --help}. (Picocli's own help
 * command declares a {@code -h} of its own, which clashes with the {@code --help} every command inherits.)
 */
@Command(name = "help", description = "Show the help of ${ROOT-COMMAND-NAME} or of one of its commands, e.g. "
        + "'${ROOT-COMMAND-NAME} help COMMAND'.")
public final class HelpCommand extends ToolCommand {
    @Parameters(paramLabel = "COMMAND", arity = "0..*", description = "A command, as many words as it has "
            + "(e.g. device init).")
    private List<String> path = new ArrayList<>();

    @Spec
    private CommandSpec spec;

    @Override
    public Integer call() throws ToolException {
        CommandLine target = spec.parent().commandLine();
        for (String name : path) {
            CommandLine sub = target.getSubcommands().get(name);
            if (sub == null) {
                throw new ToolException(ExitCodes.USAGE, "unknown command '" + String.join(" ", path) + "'");
            }
            target = sub;
        }
        target.usage(out());
        return ExitCodes.OK;
    }
}
