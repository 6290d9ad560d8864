package io.tollgate.tools;

import java.io.PrintStream;

/** Where a tool writes: results to {@code out}, diagnostics to {@code err} (see {@link ToolCommand}). */
public record ToolOutput(PrintStream out, PrintStream err) {
}
