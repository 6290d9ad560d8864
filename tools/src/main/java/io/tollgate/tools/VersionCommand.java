package io.tollgate.tools;

import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/** {@code tollgate version}. */
@Command(name = "version", description = "Print the version (the same string as GET /v2 and the other tool).")
public final class VersionCommand implements Callable<Integer> {
    @Spec
    private CommandSpec spec;

    private final ToolOutput io;

    public VersionCommand(ToolOutput io) {
        this.io = io;
    }

    @Override
    public Integer call() {
        io.out().println(spec.root().name() + " " + ProductVersion.current());
        return ExitCodes.OK;
    }
}
