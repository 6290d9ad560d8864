package io.tollgate.tools;

import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.util.List;
import java.nio.file.NoSuchFileException;
import java.util.Map;
import java.util.stream.Collectors;
import picocli.CommandLine;
import picocli.CommandLine.IExecutionExceptionHandler;
import picocli.CommandLine.IParameterExceptionHandler;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.ParseResult;
import picocli.CommandLine.UnmatchedArgumentException;

/**
 * Turns what went wrong into one line on stderr and an exit code: a bad command line is one line naming the
 * command, the reason and where to read more (exit 2, never the whole usage); a failure is one line with what was
 * wrong (exit 1, or 3 for files missing or unreadable). Only an unexpected exception also prints its stack trace.
 */
final class ErrorReporter implements IParameterExceptionHandler, IExecutionExceptionHandler {
    private final PrintStream err;

    ErrorReporter(PrintStream err) {
        this.err = err;
    }

    @Override
    public int handleParseException(ParameterException ex, String[] args) {
        CommandLine cmd = ex.getCommandLine();
        usageError(cmd, reason(ex));
        return ExitCodes.USAGE;
    }

    @Override
    public int handleExecutionException(Exception ex, CommandLine cmd, ParseResult parsed) {
        String name = cmd.getCommandSpec().qualifiedName();
        if (ex instanceof ToolException t) {
            if (t.exitCode() == ExitCodes.USAGE) {
                usageError(cmd, t.getMessage());
            } else {
                err.println(name + ": " + t.getMessage());
            }
            return t.exitCode();
        }
        if (ex instanceof NoSuchFileException e) {
            err.println(name + ": cannot read " + e.getFile() + (e.getReason() == null ? "" : ": " + e.getReason()));
            return ExitCodes.IO_ERROR;
        }
        if (ex instanceof IOException || ex instanceof UncheckedIOException) {
            err.println(name + ": " + ex.getMessage());
            return ExitCodes.IO_ERROR;
        }
        err.println(name + ": unexpected error: " + ex);
        ex.printStackTrace(err);
        return ExitCodes.FAILED;
    }

    private void usageError(CommandLine cmd, String reason) {
        String name = cmd.getCommandSpec().qualifiedName();
        err.println(name + ": " + reason + " (try '" + name + " --help')");
    }

    /**
     * Picocli's reason, except for arguments it could not place: those are named first (picocli would rather report
     * a missing required option than the misspelt one the user typed), and a misspelt command lists the commands.
     */
    private static String reason(ParameterException ex) {
        CommandLine cmd = ex.getCommandLine();
        Map<String, CommandLine> subs = cmd.getSubcommands();
        List<String> unmatched = ex instanceof UnmatchedArgumentException u ? u.getUnmatched()
                : cmd.getUnmatchedArguments();
        if (!unmatched.isEmpty()) {
            String first = unmatched.get(0);
            if (first.startsWith("-")) {
                return "unknown option '" + first + "'";
            }
            return subs.isEmpty() ? "unexpected argument '" + first + "'"
                    : "unknown command '" + first + "'; one of: " + names(subs);
        }
        if (!subs.isEmpty() && String.valueOf(ex.getMessage()).startsWith("Missing required subcommand")) {
            return "missing command; one of: " + names(subs);
        }
        return ex.getMessage();
    }

    private static String names(Map<String, CommandLine> subs) {
        return subs.entrySet().stream().filter(e -> e.getKey().equals(e.getValue().getCommandName()))
                .map(Map.Entry::getKey).collect(Collectors.joining(", "));
    }
}
