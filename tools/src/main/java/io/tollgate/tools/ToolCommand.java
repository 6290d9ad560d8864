package io.tollgate.tools;

import java.io.PrintStream;
import java.util.concurrent.Callable;

/**
 * A command of a Tollgate tool. It writes through the tool's streams ({@link #out()}, {@link #err()}), which the
 * command tree hands over when it creates the command ({@link CommandLines}), so tests run commands on captured
 * streams. Returns one of {@link ExitCodes}; throws {@link ToolException} for a failure with its own code.
 */
public abstract class ToolCommand implements Callable<Integer> {
    private ToolOutput io;

    /** Called once, right after the command is created. */
    final void output(ToolOutput output) {
        this.io = output;
    }

    protected final PrintStream out() {
        return io.out();
    }

    protected final PrintStream err() {
        return io.err();
    }

    protected final ToolOutput io() {
        return io;
    }
}
