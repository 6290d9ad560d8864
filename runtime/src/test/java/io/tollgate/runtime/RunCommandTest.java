package io.tollgate.runtime;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
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

    /** A home's profiles folder holds one profile that matches any box (no conditions), as detection needs one. */
    @org.junit.Before
    public void anyBoxProfile() throws Exception {
        Files.createDirectories(tmp.getRoot().toPath().resolve("profiles"));
        Files.writeString(tmp.getRoot().toPath().resolve("profiles/any.profile"), "description=any box\n");
    }

    /** Issue 12: a profile that is missing or malformed stops run with exit 14 and the reason, before anything starts. */
    @Test
    public void anUnknownOrMalformedProfileExits14WithTheReason() throws Exception {
        String home = tmp.getRoot().toString();
        assertEquals(err, 0, main("run", "--home", home, "--check", "--profile", "any"));
        assertEquals(14, main("run", "--home", home, "--check", "--profile", "x86-gpu"));
        assertTrue(err, err.startsWith("tollgate run: firmware profile 'x86-gpu' (--profile) is not in "
                + tmp.getRoot().toPath().resolve("profiles") + "; the profiles are [any]"));
        Files.writeString(tmp.getRoot().toPath().resolve("profiles/broken.profile"), "description=x\nmatch.gpu=1\n");
        assertEquals(14, main("run", "--home", home, "--check"));
        assertTrue(err, err.startsWith("tollgate run: firmware profile " + tmp.getRoot().toPath()
                .resolve("profiles/broken.profile") + " is malformed: unknown key 'match.gpu'"));
        Files.delete(tmp.getRoot().toPath().resolve("profiles/broken.profile"));
        Files.createDirectories(tmp.getRoot().toPath().resolve("conf"));
        Files.writeString(tmp.getRoot().toPath().resolve("conf/io.tollgate.profile.cfg"), "name=nano\n");
        assertEquals(14, main("run", "--home", home, "--check"));
        assertTrue(err, err.startsWith("tollgate run: firmware profile 'nano' (" + tmp.getRoot().toPath()
                .resolve("conf/io.tollgate.profile.cfg") + ") is not in "));
    }

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
        for (String option : new String[] {"--port", "--plugins", "--licenses", "--data", "--conf", "--mqtt", "--cloud-key",
            "--demo", "--start-timeout"}) {
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
        assertTrue(err, err.contains("ssl://broker:8883") && err.lines().count() == 1);
        assertEquals(2, main("run", "--prot", "9000"));
        assertEquals("tollgate run: unknown option '--prot' (try 'tollgate run --help')\n", err);
        assertEquals(2, main("run", "--demo"));
        assertTrue(err, err.contains("bin/tollgate run --demo"));
        for (String bad : new String[] {"0", "-5", "3601", "soon"}) {
            assertEquals(bad, 2, main("run", "--start-timeout", bad));
            assertEquals("tollgate run: --start-timeout must be a number of seconds from 1 to 3600, not '" + bad
                    + "' (try 'tollgate run --help')\n", err);
        }
    }

    /** A cloud public key PEM (the header is what run checks; sync parses the key itself). */
    private String cloudKey() throws Exception {
        Path pem = tmp.getRoot().toPath().resolve("cloud.pub.pem");
        if (!Files.exists(pem)) {
            Files.writeString(pem, "-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VwAyEAGb9ECWmEzf6FQbrBZ9w7lshQhqowtrbLDFw4rXAxZuE=\n"
                    + "-----END PUBLIC KEY-----\n");
        }
        return pem.toString();
    }

    @Test
    public void withABrokerTheCloudKeyIsRequiredBeforeAnythingStarts() throws Exception {
        String home = tmp.getRoot().toString();
        assertEquals(1, main("run", "--home", home, "--check", "--mqtt", "tcp://127.0.0.1:1883"));
        assertTrue(err, err.startsWith("tollgate run: usage would go to tcp://127.0.0.1:1883, but no cloud key is "
                + "configured and acks must be verified: run bin/tollgate device enroll --billing URL --token T"));
        assertEquals(err, 1, err.lines().count());
        // started for real (not --check), it stops at the same line: nothing starts, no "started"
        assertEquals(1, main("run", "--home", home, "--port", "0", "--mqtt", "tcp://127.0.0.1:1883"));
        assertTrue(err, err.contains("no cloud key is configured") && err.lines().count() == 1);

        Path missing = tmp.getRoot().toPath().resolve("nope.pem");
        assertEquals(3, main("run", "--home", home, "--check", "--mqtt", "tcp://127.0.0.1:1883", "--cloud-key",
                missing.toString()));
        assertEquals("tollgate run: cannot read the cloud key " + missing + " (cloud.public.key.file): no such file "
                + "or directory\n", err);
        Path notPem = tmp.newFile("not.pem").toPath();
        assertEquals(3, main("run", "--home", home, "--check", "--mqtt", "tcp://127.0.0.1:1883", "--cloud-key",
                notPem.toString()));
        assertTrue(err, err.contains("holds no \"-----BEGIN PUBLIC KEY-----\" PEM"));
        assertEquals(err, 0, main("run", "--home", home, "--check", "--mqtt", "tcp://127.0.0.1:1883", "--cloud-key",
                cloudKey()));

        // the same from the configuration: broker.url and cloud.public.key.file (placeholders resolved)
        Path conf = tmp.newFolder("conf").toPath();
        Files.writeString(conf.resolve("io.tollgate.sync.cfg"), "broker.url=tcp://127.0.0.1:1883\n");
        assertEquals(1, main("run", "--home", home, "--check"));
        Files.copy(Path.of(cloudKey()), conf.resolve("cloud.pub.pem"));
        Files.writeString(conf.resolve("io.tollgate.sync.cfg"), "broker.url=tcp://127.0.0.1:1883\n"
                + "cloud.public.key.file=${tollgate.conf}/cloud.pub.pem\n");
        assertEquals(err, 0, main("run", "--home", home, "--check"));
        // without a broker no key is needed (the shipped configuration)
        Files.writeString(conf.resolve("io.tollgate.sync.cfg"), "broker.url=\ncloud.public.key.file=\n");
        assertEquals(err, 0, main("run", "--home", home, "--check"));
    }

    @Test
    public void theMqttUrlFollowsSyncsRuleBeforeAnythingStarts() throws Exception {
        String home = tmp.getRoot().toString();
        assertEquals(2, main("run", "--home", home, "--check", "--mqtt", "tcp://example.com:1883"));
        assertEquals("tollgate run: --mqtt tcp://example.com:1883 is plain TCP to a host that is not loopback: usage "
                + "records would cross the network unencrypted; use ssl://example.com:8883 (CA in tls.ca.file of "
                + "conf/io.tollgate.sync.cfg), or set allow.plain=true there (try 'tollgate run --help')\n", err);
        for (String bad : new String[] {"ws://broker:80", "broker:1883", "ssl://broker:8883/path", "tcp://"}) {
            assertEquals(bad, 2, main("run", "--home", home, "--check", "--mqtt", bad));
            assertTrue(err, err.contains("must look like ssl://broker:8883") && err.lines().count() == 1);
        }
        for (String badPort : new String[] {"ssl://host:99999", "ssl://host:0", "tcp://127.0.0.1:65536"}) {
            assertEquals(badPort, 2, main("run", "--home", home, "--check", "--mqtt", badPort));
            assertTrue(err, err.contains("; a port is 1 to 65535") && err.lines().count() == 1);
        }
        for (String good : new String[] {"ssl://example.com:8883", "SSL://10.0.0.7:8883", "tcp://127.0.0.1:1883",
            "tcp://localhost:1883", "tcp://[::1]:1883", "tcp://127.0.0.2:1883"}) {
            assertEquals(good + ": " + err, 0, main("run", "--home", home, "--check", "--mqtt", good, "--cloud-key",
                    cloudKey()));
        }
        // allow.plain=true in the sync configuration lets plain TCP out, as sync itself does
        Path conf = tmp.newFolder("conf").toPath();
        Files.writeString(conf.resolve("io.tollgate.sync.cfg"), "allow.plain = true\ncloud.public.key.file = "
                + cloudKey() + "\n");
        assertEquals(err, 0, main("run", "--home", home, "--check", "--mqtt", "tcp://example.com:1883"));
    }

    @Test
    public void emptyPathsAreUsageErrors() {
        for (String option : new String[] {"--data", "--conf", "--plugins", "--licenses"}) {
            assertEquals(option, 2, main("run", "--home", tmp.getRoot().toString(), "--check", option, ""));
            assertEquals("tollgate run: " + option + " must not be empty (try 'tollgate run --help')\n", err);
        }
    }

    @Test
    public void foldersThatAreMissingOrFilesAreRefusedWithTheReason() throws Exception {
        String home = tmp.getRoot().toString();
        Path file = tmp.newFile("afile").toPath();
        Path missing = tmp.getRoot().toPath().resolve("nonexistent");
        assertEquals(3, main("run", "--home", home, "--check", "--conf", missing.toString()));
        assertEquals("tollgate run: --conf " + missing + ": no such directory\n", err);
        for (String option : new String[] {"--conf", "--data", "--plugins", "--licenses"}) {
            assertEquals(option, 3, main("run", "--home", home, "--check", option, file.toString()));
            assertEquals("tollgate run: " + option + " " + file + " is a file, not a directory\n", err);
        }
        // missing data and plugins folders are created at start; the distribution's conf/ may be absent
        assertEquals(err, 0, main("run", "--home", home, "--check", "--data", missing.toString(), "--plugins",
                missing.toString()));
        assertEquals("--check starts nothing and creates nothing", false, Files.exists(missing));
    }

    @Test
    public void aDistributionWithoutBundlesFailsWithExitOne() throws Exception {
        Path home = tmp.getRoot().toPath();
        assertEquals(1, main("run", "--home", home.toString(), "--port", "0"));
        assertTrue(err, err.startsWith("tollgate run: no bundles folder at " + home.resolve("system")));
    }
}
