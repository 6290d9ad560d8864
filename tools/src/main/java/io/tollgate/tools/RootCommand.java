package io.tollgate.tools;

import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ScopeType;
import picocli.CommandLine.Spec;

/**
 * The top of a command tree: {@code --help}/{@code -h}, inherited by every command below, and {@code --version}.
 * Without a command it prints the help and exits {@link ExitCodes#USAGE} (a script that forgot its command should
 * notice). Subclasses carry the {@code @Command} annotation with the tool's name and description.
 */
public abstract class RootCommand extends ToolCommand {
    @Option(names = {"-h", "--help"}, usageHelp = true, scope = ScopeType.INHERIT, description = "Show this help and exit.")
    private boolean help;

    @Option(names = {"-V", "--version"}, versionHelp = true, description = "Print the version and exit.")
    private boolean version;

    @Spec
    private CommandSpec spec;

    @Override
    public Integer call() {
        spec.commandLine().usage(out());
        return ExitCodes.USAGE;
    }
}
