package io.tollgate.tools;

/**
 * A command could not do its work. The message says what was wrong and what to do; it is printed as one line
 * after the command's name, and the process exits with {@link #exitCode()}.
 */
public class ToolException extends Exception {
    private static final long serialVersionUID = 1L;

    private final int exitCode;

    /** A failure with {@link ExitCodes#FAILED}. */
    public ToolException(String message) {
        this(ExitCodes.FAILED, message, null);
    }

    public ToolException(int exitCode, String message) {
        this(exitCode, message, null);
    }

    public ToolException(int exitCode, String message, Throwable cause) {
        super(message, cause);
        this.exitCode = exitCode;
    }

    /** One of {@link ExitCodes}. */
    public int exitCode() {
        return exitCode;
    }
}
