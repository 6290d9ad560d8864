package io.tollgate.tools;

import java.io.PrintStream;

/**
 * Where a command writes: results to {@code out}, diagnostics to {@code err}. Commands get it through their
 * constructor ({@link Tools} creates them), so tests run them on captured streams.
 */
public record ToolOutput(PrintStream out, PrintStream err) {
}
