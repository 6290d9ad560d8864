package io.tollgate.runtime;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import org.junit.Rule;
import org.junit.Test;
import org.junit.rules.TemporaryFolder;

/** {@code run} on the tools' command line: its options, their checks, and its place in the top-level help. */
public class RunCommandTest {
    @Rule
    public TemporaryFolder tmp = new TemporaryFolder();

    private String out;
    private String err;

    private int main(String... args) {
        ByteArrayOutputStream o = new ByteArrayOutputStream();
        ByteArrayOutputStream e = new ByteArrayOutputStream();
        int code = Main.run(args, new PrintStream(o, true, StandardCharsets.UTF_8),
                new PrintStream(e, true, StandardCharsets.UTF_8));
        out = o.toString(StandardCharsets.UTF_8);
        err = e.toString(StandardCharsets.UTF_8);
        return code;
    }

    @Test
    public void theTopLevelHelpListsRunFirstAndEveryToolsCommand() {
        assertEquals(0, main("--help"));
        assertTrue(out, out.contains("\n  run "));
        assertTrue(out, out.indexOf("\n  run ") < out.indexOf("\n  plugin pack "));
        for (String command : new String[] {"usage export", "device init", "sync status", "version"}) {
            assertTrue(command + " in\n" + out, out.contains("\n  " + command + " "));
        }
    }

    @Test
    public void runAnswersHelpWithEveryOption() {
        assertEquals(0, main("run", "--help"));
        for (String option : new String[] {"--port", "--plugins", "--data", "--conf", "--mqtt", "--demo"}) {
            assertTrue(option + " in\n" + out, out.contains(option));
        }
        assertTrue("--home is for the script, not the user:\n" + out, !out.contains("--home"));
    }

    @Test
    public void badOptionsAreOneLineAndExitTwoBeforeAnythingStarts() {
        assertEquals(2, main("run", "--port", "http"));
        assertEquals("tollgate run: --port must be a number from 0 to 65535, not 'http' (try 'tollgate run --help')\n",
                err);
        assertEquals(2, main("run", "--port", "70000"));
        assertEquals(2, main("run", "--mqtt", "localhost:1883"));
        assertTrue(err, err.contains("tcp://host:1883") && err.lines().count() == 1);
        assertEquals(2, main("run", "--prot", "9000"));
        assertEquals("tollgate run: unknown option '--prot' (try 'tollgate run --help')\n", err);
        assertEquals(2, main("run", "--demo"));
        assertTrue(err, err.contains("bin/tollgate run --demo"));
    }

    @Test
    public void aDistributionWithoutBundlesFailsWithExitOne() throws Exception {
        Path home = tmp.getRoot().toPath();
        assertEquals(1, main("run", "--home", home.toString(), "--port", "0"));
        assertTrue(err, err.startsWith("tollgate run: no bundles folder at " + home.resolve("system")));
    }
}
