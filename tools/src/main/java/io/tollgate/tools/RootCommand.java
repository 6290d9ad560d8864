package io.tollgate.tools;

import java.util.concurrent.Callable;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ScopeType;
import picocli.CommandLine.Spec;

/**
 * The top of a command tree: {@code --help}/{@code -h}, inherited by every command below, and {@code --version}.
 * Without a command it prints the help and exits {@link ExitCodes#USAGE} (a script that forgot its command should
 * notice). Subclasses carry the {@code @Command} annotation with the tool's name and description.
 */
public abstract class RootCommand implements Callable<Integer> {
    @Option(names = {"-h", "--help"}, usageHelp = true, scope = ScopeType.INHERIT, description = "Show this help and exit.")
    private boolean help;

    @Option(names = {"-V", "--version"}, versionHelp = true, description = "Print the version and exit.")
    private boolean version;

    @Spec
    private CommandSpec spec;

    private final ToolOutput io;

    protected RootCommand(ToolOutput io) {
        this.io = io;
    }

    @Override
    public Integer call() {
        spec.commandLine().usage(io.out());
        return ExitCodes.USAGE;
    }
}
