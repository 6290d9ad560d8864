package io.tollgate.tools;

import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/** {@code tollgate version}. */
@Command(name = "version", description = "Print the version (the same string as GET /v2 and the other tool).")
public final class VersionCommand extends ToolCommand {
    @Spec
    private CommandSpec spec;

    @Override
    public Integer call() {
        out().println(spec.root().name() + " " + ProductVersion.current());
        return ExitCodes.OK;
    }
}
