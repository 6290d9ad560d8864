package io.tollgate.tools;

/** The exit codes of every {@code bin/tollgate} command (tools/README.md lists them per command). */
public final class ExitCodes {
    /** Done. */
    public static final int OK = 0;
    /** The command ran but failed: a journal that does not verify, a model ONNX Runtime cannot load, a port in use. */
    public static final int FAILED = 1;
    /** The command line was wrong: unknown command or option, a missing or bad value. */
    public static final int USAGE = 2;
    /** Files missing or unreadable (usage, device and sync commands). */
    public static final int IO_ERROR = 3;

    private ExitCodes() {
    }
}
