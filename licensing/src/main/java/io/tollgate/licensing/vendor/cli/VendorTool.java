package io.tollgate.licensing.vendor.cli;

import io.tollgate.licensing.LicenseException;

import java.io.IOException;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.NoSuchFileException;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.IExecutionExceptionHandler;
import picocli.CommandLine.IParameterExceptionHandler;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.ParseResult;
import picocli.CommandLine.UnmatchedArgumentException;

/**
 * {@code tollgate-vendor}: the plugin vendor's tool (docs/licensing.md, "The vendor's flow"): {@code keygen},
 * {@code sign-plugin}, {@code encrypt-model}, {@code issue}, {@code inspect}, {@code revoke}. The command-line conventions of
 * {@code bin/tollgate} (docs/architecture.md, "Command line"): exit 0 done, 1 failed, 2 bad command line (one
 * stderr line, never the whole usage), 3 files missing or unreadable.
 */
@Command(name = "tollgate-vendor", mixinStandardHelpOptions = true, versionProvider = VendorTool.Version.class,
        description = "Sign Tollgate plugins and issue licenses for them with a vendor's Ed25519 key.",
        subcommands = {KeygenCommand.class, SignPluginCommand.class, EncryptModelCommand.class, IssueCommand.class, InspectCommand.class,
                RevokeCommand.class, CommandLine.HelpCommand.class})
public final class VendorTool implements Runnable {
    /** Done. */
    public static final int OK = 0;
    /** The command ran and failed (a signature that does not verify, a key already there). */
    public static final int FAILED = 1;
    /** Bad command line. */
    public static final int USAGE = 2;
    /** Files missing or unreadable. */
    public static final int IO_ERROR = 3;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    public static void main(String[] args) {
        System.exit(run(args, System.out, System.err));
    }

    /** Runs one command; returns its exit code. */
    public static int run(String[] args, PrintStream out, PrintStream err) {
        CommandLine cl = new CommandLine(new VendorTool());
        Errors errors = new Errors(err);
        cl.setOut(new PrintWriter(out, true));
        cl.setErr(new PrintWriter(err, true));
        cl.setParameterExceptionHandler(errors);
        cl.setExecutionExceptionHandler(errors);
        return cl.execute(args);
    }

    @Override
    public void run() {
        throw new ParameterException(spec.commandLine(), "missing command; one of: " + names(spec.commandLine()));
    }

    /** A failure the command explains: one stderr line and the exit code. */
    static final class Failure extends Exception {
        private static final long serialVersionUID = 1L;
        final int exitCode;

        Failure(int exitCode, String message) {
            super(message);
            this.exitCode = exitCode;
        }
    }

    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            String v = null;
            try {
                var source = VendorTool.class.getProtectionDomain().getCodeSource();
                if (source != null && source.getLocation().getPath().endsWith(".jar")) {
                    try (var jar = new java.util.jar.JarFile(new java.io.File(source.getLocation().toURI()))) {
                        v = jar.getManifest().getMainAttributes().getValue("Tollgate-Version");
                    }
                }
            } catch (Exception e) {
                v = null;
            }
            return new String[] {"tollgate-vendor " + (v == null ? "(development build)" : v)};
        }
    }

    private static String names(CommandLine cmd) {
        Map<String, CommandLine> subs = cmd.getSubcommands();
        return subs.keySet().stream().filter(n -> !n.equals("help")).collect(Collectors.joining(", "));
    }

    private static final class Errors implements IParameterExceptionHandler, IExecutionExceptionHandler {
        private final PrintStream err;

        Errors(PrintStream err) {
            this.err = err;
        }

        @Override
        public int handleParseException(ParameterException ex, String[] args) {
            CommandLine cmd = ex.getCommandLine();
            String name = cmd.getCommandSpec().qualifiedName();
            List<String> unmatched = ex instanceof UnmatchedArgumentException u ? u.getUnmatched()
                    : cmd.getUnmatchedArguments();
            String reason = ex.getMessage();
            if (!unmatched.isEmpty()) {
                String first = unmatched.get(0);
                reason = first.startsWith("-") ? "unknown option '" + first + "'"
                        : cmd.getSubcommands().isEmpty() ? "unexpected argument '" + first + "'"
                        : "unknown command '" + first + "'; one of: " + names(cmd);
            } else if (String.valueOf(reason).startsWith("Missing required subcommand")) {
                reason = "missing command; one of: " + names(cmd);
            }
            err.println(name + ": " + reason + " (try '" + name + " --help')");
            return USAGE;
        }

        @Override
        public int handleExecutionException(Exception ex, CommandLine cmd, ParseResult parsed) {
            String name = cmd.getCommandSpec().qualifiedName();
            if (ex instanceof ParameterException p) {
                return handleParseException(p, new String[0]);
            }
            if (ex instanceof Failure f) {
                if (f.exitCode == USAGE) {
                    err.println(name + ": " + f.getMessage() + " (try '" + name + " --help')");
                } else {
                    err.println(name + ": " + f.getMessage());
                }
                return f.exitCode;
            }
            if (ex instanceof LicenseException e) {
                err.println(name + ": " + e.getMessage());
                return FAILED;
            }
            if (ex instanceof NoSuchFileException e) {
                err.println(name + ": cannot read " + e.getFile() + (e.getReason() == null ? "" : ": " + e.getReason()));
                return IO_ERROR;
            }
            if (ex instanceof AccessDeniedException e) {
                err.println(name + ": cannot access " + e.getFile() + ": permission denied");
                return IO_ERROR;
            }
            if (ex instanceof IOException || ex instanceof UncheckedIOException) {
                err.println(name + ": " + ex.getMessage());
                return IO_ERROR;
            }
            err.println(name + ": unexpected error: " + ex);
            ex.printStackTrace(err);
            return FAILED;
        }
    }
}
