package io.tollgate.tools;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import java.io.PrintStream;
import java.io.OutputStream;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import org.junit.Test;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * The parser's contract for every command, enumerated from the command tree (a new command is covered without
 * touching this test): {@code --help} exits 0, the top-level help lists it, an unknown option is one line on
 * stderr and exit 2, never the whole usage.
 */
public class CommandLineTest {
    /** Stands in for the launcher's {@code run}, which the runtime adds in front of the tools' commands. */
    @Command(name = "serve", description = "A command added by the caller, like the launcher's run.")
    public static final class Serve implements Callable<Integer> {
        @Option(names = "--port", paramLabel = "N", description = "A port.")
        private int port;

        @Override
        public Integer call() {
            return 0;
        }
    }

    private static final Object[] WITH_SERVE = {new Serve()};

    /** Every command path below the top ("usage", "usage export", ...), groups included, in tree order. */
    private static List<List<String>> paths() {
        List<List<String>> out = new ArrayList<>();
        PrintStream nowhere = new PrintStream(OutputStream.nullOutputStream());
        walk(Tools.commandLine(nowhere, nowhere, WITH_SERVE), new ArrayList<>(), out);
        return out;
    }

    private static void walk(CommandLine cmd, List<String> prefix, List<List<String>> out) {
        for (Map.Entry<String, CommandLine> e : cmd.getSubcommands().entrySet()) {
            List<String> path = new ArrayList<>(prefix);
            path.add(e.getKey());
            out.add(path);
            walk(e.getValue(), path, out);
        }
    }

    private static boolean isLeaf(List<String> path) {
        PrintStream nowhere = new PrintStream(OutputStream.nullOutputStream());
        CommandLine c = Tools.commandLine(nowhere, nowhere, WITH_SERVE);
        for (String p : path) {
            c = c.getSubcommands().get(p);
        }
        return c.getSubcommands().isEmpty();
    }

    private static boolean isHidden(List<String> path) {
        PrintStream nowhere = new PrintStream(OutputStream.nullOutputStream());
        CommandLine c = Tools.commandLine(nowhere, nowhere, WITH_SERVE);
        for (String p : path) {
            c = c.getSubcommands().get(p);
        }
        return c.getCommandSpec().usageMessage().hidden();
    }

    private static String[] args(List<String> path, String... more) {
        List<String> all = new ArrayList<>(path);
        all.addAll(Arrays.asList(more));
        return all.toArray(new String[0]);
    }

    @Test
    public void theTreeHoldsEveryCommand() {
        List<String> names = paths().stream().map(p -> String.join(" ", p)).toList();
        for (String expected : List.of("serve", "plugin pack", "plugin inspect", "usage verify", "usage summary",
                "usage export", "device init", "device id", "device pubkey", "sync status", "vendor trust", "vendor list",
                "vendor remove", "license install", "license list", "license remove", "version", "help")) {
            assertTrue(expected + " in " + names, names.contains(expected));
        }
    }

    @Test
    public void everyCommandAnswersHelpWithExitZero() {
        for (List<String> path : paths()) {
            for (String flag : List.of("--help", "-h")) {
                ToolRun r = ToolRun.of(WITH_SERVE, args(path, flag));
                String name = "tollgate " + String.join(" ", path);
                assertEquals(name + " " + flag + ": " + r, 0, r.code());
                assertTrue(name + ": " + r, r.out().startsWith("Usage: " + name));
                assertEquals(name + ": " + r, "", r.err());
            }
        }
        ToolRun top = ToolRun.of(WITH_SERVE, "--help");
        assertEquals(0, top.code());
        assertTrue(top.out(), top.out().startsWith("Usage: tollgate "));
    }

    @Test
    public void theTopLevelHelpListsEveryCommandByItsFullName() {
        ToolRun top = ToolRun.of(WITH_SERVE, "--help");
        for (List<String> path : paths()) {
            String name = String.join(" ", path);
            if (isLeaf(path) && !isHidden(path)) {
                assertTrue(name + " missing from:\n" + top.out(), top.out().contains("\n  " + name + " "));
            } else if (isHidden(path)) {
                assertTrue(name + " is for scripts, not listed:\n" + top.out(), !top.out().contains("  " + name + " "));
            }
        }
        assertTrue("the caller's command comes first:\n" + top.out(),
                top.out().indexOf("  serve ") < top.out().indexOf("  plugin pack "));
    }

    @Test
    public void helpCommandShowsTheSameHelp() {
        assertEquals(ToolRun.of("usage", "export", "--help").out(), ToolRun.of("help", "usage", "export").out());
        assertEquals(ToolRun.of("--help").out(), ToolRun.of("help").out());
        ToolRun unknown = ToolRun.of("help", "frob");
        assertEquals(ExitCodes.USAGE, unknown.code());
        assertOneLine(unknown, "tollgate help: unknown command 'frob' (try 'tollgate help --help')");
    }

    @Test
    public void anUnknownOptionIsOneLineAndExitTwoOnEveryCommand() {
        for (List<String> path : paths()) {
            String name = "tollgate " + String.join(" ", path);
            ToolRun r = ToolRun.of(WITH_SERVE, args(path, "--bogus"));
            assertEquals(name + ": " + r, ExitCodes.USAGE, r.code());
            if (isLeaf(path)) {
                assertOneLine(r, name + ": unknown option '--bogus' (try '" + name + " --help')");
            } else {
                assertEquals(name + ": " + r, 1, r.err().lines().count());
            }
        }
    }

    @Test
    public void unknownCommandsListTheKnownOnes() {
        assertOneLine(ToolRun.of("frob"), "tollgate: unknown command 'frob'; one of: plugin, usage, device, sync, "
                + "keys, vendor, license, profile, version, help (try 'tollgate --help')");
        assertOneLine(ToolRun.of("usage", "frobnicate"), "tollgate usage: unknown command 'frobnicate'; one of: "
                + "verify, summary, export (try 'tollgate usage --help')");
        assertOneLine(ToolRun.of("device"), "tollgate device: missing command; one of: init, id, pubkey, wrap-key, enroll "
                + "(try 'tollgate device --help')");
    }

    @Test
    public void missingAndBadValuesAreUsageErrors() {
        assertOneLine(ToolRun.of("usage", "export"), "tollgate usage export: Missing required option: "
                + "'--format=jsonl|csv' (try 'tollgate usage export --help')");
        assertOneLine(ToolRun.of("usage", "export", "--format", "xml"), "tollgate usage export: Invalid value for "
                + "option '--format': expected one of [jsonl, csv] (case-insensitive) but was 'xml' "
                + "(try 'tollgate usage export --help')");
        assertOneLine(ToolRun.of("usage", "summary", "--from", "yesterday"), "tollgate usage summary: Invalid value "
                + "for option '--from': 'yesterday' is not an ISO instant, offset date-time or date "
                + "(e.g. 2026-11-23T10:00:00Z or 2026-11-23) (try 'tollgate usage summary --help')");
        assertOneLine(ToolRun.of("usage", "verify", "--data"), "tollgate usage verify: Missing required parameter "
                + "for option '--data' (DIR) (try 'tollgate usage verify --help')");
        assertOneLine(ToolRun.of("plugin", "inspect"), "tollgate plugin inspect: Missing required parameter: "
                + "'FILE.jar' (try 'tollgate plugin inspect --help')");
        assertOneLine(ToolRun.of("usage", "verify", "extra"), "tollgate usage verify: unexpected argument 'extra' "
                + "(try 'tollgate usage verify --help')");
        assertOneLine(ToolRun.of(WITH_SERVE, "serve", "--port", "http"), "tollgate serve: Invalid value for option "
                + "'--port': 'http' is not an int (try 'tollgate serve --help')");
    }

    @Test
    public void noCommandPrintsTheHelpAndExitsTwo() {
        ToolRun r = ToolRun.of();
        assertEquals(ExitCodes.USAGE, r.code());
        assertEquals(ToolRun.of("--help").out(), r.out());
    }

    @Test
    public void versionCommandAndOptionPrintTheProductVersion() {
        String expected = "tollgate " + System.getProperty("tollgate.project.version") + "\n";
        assertEquals(new ToolRun(0, expected, ""), ToolRun.of("version"));
        assertEquals(new ToolRun(0, expected, ""), ToolRun.of("--version"));
    }

    static void assertOneLine(ToolRun r, String expectedErr) {
        assertEquals(r.toString(), ExitCodes.USAGE, r.code());
        assertEquals(r.toString(), expectedErr + "\n", r.err());
        assertEquals(r.toString(), "", r.out());
    }

    /** The exit code table in the top-level help names each of {@link ExitCodes}. */
    @Test
    public void theHelpDocumentsTheExitCodes() {
        String help = ToolRun.of("--help").out();
        for (String line : List.of("  " + ExitCodes.OK + "    done", "  " + ExitCodes.FAILED + "    failed",
                "  " + ExitCodes.USAGE + "    bad command line", "  " + ExitCodes.IO_ERROR + "    files missing",
                "  143  run stopped by SIGTERM")) {
            assertTrue(line + " in\n" + help, help.contains(line));
        }
        String table = help.substring(help.indexOf("Exit codes:"));
        for (String line : table.lines().skip(1).toList()) {
            assertTrue("indented, not wrapped by picocli: '" + line + "' in\n" + table, line.startsWith("  "));
        }
    }

    @Test
    public void theHelpCommandNamesTheToolItBelongsTo() {
        String help = ToolRun.of("--help").out().replaceAll("\\s+", " ");
        assertTrue(help, help.contains("Show the help of tollgate or of one of its commands, e.g. 'tollgate help"));
        assertTrue(help, !help.contains("${"));
        String own = ToolRun.of("help", "help").out();
        assertTrue(own, own.contains("Show the help of tollgate or of one of its commands"));
    }
}
