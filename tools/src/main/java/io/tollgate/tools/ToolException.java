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

    /**
     * A value the user gave, for a message: a JSON string literal ({@code "bad\nid"}), so that quotes and control
     * characters are visible and the message stays on its one line.
     */
    public static String quote(String value) {
        StringBuilder q = new StringBuilder("\"");
        for (char c : String.valueOf(value).toCharArray()) {
            switch (c) {
                case '"': q.append("\\\""); break;
                case '\\': q.append("\\\\"); break;
                case '\n': q.append("\\n"); break;
                case '\r': q.append("\\r"); break;
                case '\t': q.append("\\t"); break;
                default:
                    if (c < 0x20 || c == 0x7f || c == '\u2028' || c == '\u2029') {
                        q.append(String.format("\\u%04x", (int) c));
                    } else {
                        q.append(c);
                    }
            }
        }
        return q.append('"').toString();
    }

    /** One of {@link ExitCodes}. */
    public int exitCode() {
        return exitCode;
    }
}
