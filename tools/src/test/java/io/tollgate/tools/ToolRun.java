package io.tollgate.tools;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;

/** One run of the command tree on captured streams: its exit code, stdout and stderr. */
public record ToolRun(int code, String out, String err) {
    /** Runs {@code args} through {@link Tools#execute}, with {@code first} commands added before the tools' own. */
    public static ToolRun of(Object[] first, String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int code = Tools.execute(args, new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8), first);
        return new ToolRun(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    public static ToolRun of(String... args) {
        return of(new Object[0], args);
    }

    @Override
    public String toString() {
        return "exit " + code + "\n--- out\n" + out + "--- err\n" + err;
    }
}
