package io.tollgate.runtime;

import io.tollgate.tools.Tools;
import java.io.PrintStream;

/**
 * Entry point of {@code bin/tollgate}: the tools' command tree (module {@code tools/}) with this module's
 * {@code run} in front of it, so that one parser and one help cover every command.
 */
public final class Main {
    private Main() {
    }

    public static void main(String[] args) {
        System.exit(run(args, System.out, System.err));
    }

    /** Runs one command; returns its exit code (for {@code run}, once the appliance has stopped). */
    static int run(String[] args, PrintStream out, PrintStream err) {
        return Tools.execute(args, out, err, new RunCommand());
    }
}
