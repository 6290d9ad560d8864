package io.tollgate.tools;

import java.util.concurrent.Callable;
import picocli.CommandLine.Command;

/** {@code tollgate version}. */
@Command(name = "version", description = "Print the version (the same string GET /v2 and tollgate-billing report).")
public final class VersionCommand implements Callable<Integer> {
    private final ToolOutput io;

    public VersionCommand(ToolOutput io) {
        this.io = io;
    }

    @Override
    public Integer call() {
        io.out().println(new ProductVersion().getVersion()[0]);
        return ExitCodes.OK;
    }
}
