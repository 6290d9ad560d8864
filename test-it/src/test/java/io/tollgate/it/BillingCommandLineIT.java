package io.tollgate.it;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertTrue;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.After;
import org.junit.Before;
import org.junit.Test;

/**
 * {@code bin/tollgate-billing} as built (its script, its lib/ and conf/): one logging binding, log lines on stderr only
 * (a command's stdout is its result, fit for a pipe), the level from TOLLGATE_LOG_LEVEL, and bad values refused
 * with one line before anything connects.
 */
public class BillingCommandLineIT {
    private Path work;
    private final List<Process> started = new ArrayList<>();

    record Result(int exit, String out, String err) {
    }

    @Before
    public void setUp() throws Exception {
        work = Files.createTempDirectory("tollgate-billing-cli-it");
    }

    @After
    public void tearDown() {
        started.forEach(Process::destroyForcibly);
        ApplianceProcess.deleteTree(work);
    }

    @Test
    public void resultsOnStdoutCarryNoLogLines() throws Exception {
        ApplianceProcess appliance = new ApplianceProcess(work.resolve("tollgate.log"));
        Path device = work.resolve("device");
        String id = appliance.initDevice(device);
        Path data = work.resolve("billing");
        Result registered = billing(Map.of(), 60, "device", "register", "--id", id, "--public-key",
                device.resolve("device/device.pub.pem").toString(), "--data", data.toString());
        assertEquals(registered.toString(), 0, registered.exit());
        assertEquals("", registered.err());
        assertTrue("the device's broker password on a second line: " + registered.out(),
                registered.out().matches("registered " + java.util.regex.Pattern.quote(id)
                        + "\nmqtt-password [A-Za-z0-9_-]{43}\n"));
        Result token = billing(Map.of(), 60, "token", "create", "--role", "reader", "--tenant", "acme", "--name", "bi",
                "--data", data.toString());
        assertEquals(token.toString(), 0, token.exit());
        assertTrue("the token alone on stdout: " + token.out(), token.out().matches("tgb_[A-Za-z0-9_-]{43}\n"));
        Result tokens = billing(Map.of(), 60, "token", "list", "--data", data.toString());
        assertTrue(tokens.out(), tokens.out().matches("[0-9a-f]{12}\tbi\treader\tacme\t\\S+Z\n"));
        assertFalse("never the token", tokens.out().contains(token.out().trim()));
        Result listed = billing(Map.of("TOLLGATE_LOG_LEVEL", "debug"), 60, "device", "list", "--data", data.toString());
        assertEquals(listed.toString(), 0, listed.exit());
        assertEquals(id + "\ttenants=default\tacked_seq=0\tsealed_seq=0\n", listed.out());
        assertEquals("not even SLF4J's complaint about two bindings", "", listed.err());
        Result pubkey = billing(Map.of(), 60, "cloud", "pubkey", "--data", data.toString());
        assertTrue(pubkey.out(), pubkey.out().startsWith("-----BEGIN PUBLIC KEY-----\n"));
        assertEquals("", pubkey.err());
    }

    @Test
    public void runLogsOnStderrAtTheLevelOfTollgateLogLevel() throws Exception {
        Result info = runBriefly("info");
        assertEquals(info.toString(), "", info.out());
        assertTrue(info.err(), info.err().contains(" INFO io.tollgate.cloud.BillingService - Tollgate billing started"));
        assertFalse(info.err(), info.err().contains("SLF4J"));
        assertEquals("143 after SIGTERM: the JVM's code for a clean stop on that signal", 143, info.exit());
        Result warn = runBriefly("warn");
        assertEquals(warn.toString(), "", warn.out());
        assertFalse(warn.err(), warn.err().contains(" INFO "));
    }

    @Test
    public void badValuesAreOneLineBeforeAnythingConnects() throws Exception {
        Result port = billing(Map.of(), 60, "run", "--http-port", "99999", "--mqtt", "tcp://127.0.0.1:1", "--data",
                work.resolve("b").toString());
        assertEquals(port.toString(), 2, port.exit());
        assertEquals("tollgate-billing run: --http-port must be from 0 to 65535, or -1 for no HTTP API, not 99999 "
                + "(try 'tollgate-billing run --help')\n", port.err());
        Path file = Files.writeString(work.resolve("afile"), "x");
        Result list = billing(Map.of(), 60, "device", "list", "--data", file.toString());
        assertEquals(list.toString(), new Result(3, "", "tollgate-billing device list: --data " + file
                + " is a file, not a directory\n"), list);
    }

    /** {@code run} with no broker and a free HTTP port until it has started, then SIGTERM. */
    private Result runBriefly(String level) throws Exception {
        Path data = work.resolve("run-" + level);
        File out = work.resolve("run-" + level + ".out").toFile();
        File err = work.resolve("run-" + level + ".err").toFile();
        ProcessBuilder pb = new ProcessBuilder(script().toString(), "run", "--mqtt", "none", "--http-host", "127.0.0.1",
                "--http-port", "0", "--data", data.toString()).redirectOutput(out).redirectError(err);
        pb.environment().put("TOLLGATE_LOG_LEVEL", level);
        pb.environment().put("TOLLGATE_BILLING_JAVA_OPTS", "-Xmx256m");
        Process p = pb.start();
        started.add(p);
        // started once the ledger file is there and the schema is in (the HTTP port is random: nothing to poll)
        long end = System.currentTimeMillis() + 60_000;
        while (System.currentTimeMillis() < end && p.isAlive() && !Files.exists(data.resolve("cloud/cloud.pub.pem"))) {
            Thread.sleep(100);
        }
        Thread.sleep(1_500);
        // the ledger is not on the network (no H2 AUTO_SERVER): a command that opens it is told who holds it
        Result list = billing(Map.of(), 60, "device", "list", "--data", data.toString());
        assertEquals(list.toString(), new Result(1, "", "tollgate-billing device list: the ledger is in use by a "
                + "running tollgate-billing; stop it or use its HTTP API (the file lock on "
                + data.toAbsolutePath().normalize().resolve("ledger.mv.db") + " is held)\n"), list);
        p.destroy();   // SIGTERM
        assertTrue("stopped within 30 s", p.waitFor(30, TimeUnit.SECONDS));
        return new Result(p.exitValue(), Files.readString(out.toPath()), Files.readString(err.toPath()));
    }

    private Result billing(Map<String, String> env, int timeoutSeconds, String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(script().toString()));
        cmd.addAll(Arrays.asList(args));
        File out = Files.createTempFile(work, "billing", ".out").toFile();
        File err = Files.createTempFile(work, "billing", ".err").toFile();
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectOutput(out).redirectError(err);
        pb.environment().putAll(env);
        Process p = pb.start();
        started.add(p);
        if (!p.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
            throw new AssertionError(String.join(" ", cmd) + " did not finish within " + timeoutSeconds + " s");
        }
        return new Result(p.exitValue(), Files.readString(out.toPath()), Files.readString(err.toPath()));
    }

    private static Path script() {
        return BillingProcess.home().resolve("bin/tollgate-billing");
    }
}
