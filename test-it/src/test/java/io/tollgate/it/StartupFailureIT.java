package io.tollgate.it;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.KeyPairGenerator;
import java.util.Base64;
import org.junit.After;
import org.junit.Before;
import org.junit.Test;

/**
 * Issue 8, "Fail safe", start-up: on the built distribution, a start that cannot give a working appliance ends
 * {@code bin/tollgate run} with a distinct exit code and the reason on stderr (and in {@code logs/tollgate.log}), and
 * never logs "Tollgate ... started"; an optional part that cannot start (the uplink, from conf) leaves a serving
 * appliance that says so. docs/operations.md, "Start-up failures and exit codes".
 */
public class StartupFailureIT {
    private ApplianceProcess dist;
    private Path work;

    @Before
    public void setUp() throws Exception {
        work = Files.createTempDirectory("tollgate-startup-it");
        dist = new ApplianceProcess(work.resolve("tollgate.log"));
    }

    @After
    public void tearDown() {
        dist.killAll();
        ApplianceProcess.keepLogs(work, Path.of("target/startup-it-logs"));
        ApplianceProcess.deleteTree(work);
    }

    @Test
    public void aSecondApplianceOnTheSameDataFolderExits10WithTheFirstOnesPid() throws Exception {
        Path data = work.resolve("data");
        Path plugins = Files.createDirectories(work.resolve("plugins"));
        int port = TollgateExam.freePort();
        Process first = dist.run(port, data, plugins, null);
        dist.awaitReady(first, port, 60_000);

        ApplianceProcess.Result second = run("--port", Integer.toString(TollgateExam.freePort()), "--data",
                data.toString(), "--plugins", plugins.toString());
        assertEquals(second.toString(), 10, second.exit());
        assertTrue(second.err(), second.err().contains("tollgate run: data directory " + data + " in use by pid "
                + first.pid() + " (another Tollgate)"));
        notStarted(second);
        assertTrue("the first one serves on", first.isAlive());
        assertEquals(200, new Http(port).get("/v2/health/ready").status());
    }

    @Test
    public void anInvalidJournalSettingExits12WithTheReasonOnStderrAndInLogs() throws Exception {
        Path conf = dist.copyConf(work.resolve("conf"));
        append(conf.resolve("io.tollgate.metering.journal.cfg"), "roll.cycle=NOPE\n");
        int port = TollgateExam.freePort();
        ApplianceProcess.Result r = run("--port", Integer.toString(port), "--conf", conf.toString(), "--data",
                work.resolve("data").toString(), "--plugins", work.resolve("plugins").toString());
        assertEquals(r.toString(), 12, r.exit());
        String reason = "the usage journal did not start: roll.cycle 'NOPE' is not a Chronicle RollCycles name";
        assertTrue(r.err(), r.err().contains("tollgate run: " + reason));
        notStarted(r);
        assertFalse("nothing listens on " + port, listening(port));
        // logs/: the same ERROR line, written by logback next to stderr
        String logFile = Files.readString(dist.dist().resolve("logs/tollgate.log"), StandardCharsets.UTF_8);
        assertTrue("logs/tollgate.log has the reason", logFile.lines().anyMatch(l -> l.contains(" ERROR ")
                && l.contains(reason)));
    }

    @Test
    public void anEndpointKeyTheEndpointRefusesExits12() throws Exception {
        Path conf = dist.copyConf(work.resolve("conf"));
        append(conf.resolve("io.tollgate.endpoint.cfg"), "max.body.byte=1000\n");
        ApplianceProcess.Result r = run("--port", Integer.toString(TollgateExam.freePort()), "--conf", conf.toString(),
                "--data", work.resolve("data").toString(), "--plugins", work.resolve("plugins").toString());
        assertEquals(r.toString(), 12, r.exit());
        assertTrue(r.err(), r.err().contains("tollgate run: the HTTP endpoint did not start: configuration "
                + "io.tollgate.endpoint has an unknown key 'max.body.byte' (did you mean 'max.body.bytes'?)"));
        notStarted(r);
    }

    @Test
    public void aConfigurationFileNoComponentReadsExits12() throws Exception {
        Path conf = dist.copyConf(work.resolve("conf"));
        Files.writeString(conf.resolve("io.tollgate.metering.jornal.cfg"), "disk.budget.bytes=1000000\n");
        ApplianceProcess.Result r = run("--port", Integer.toString(TollgateExam.freePort()), "--conf", conf.toString(),
                "--data", work.resolve("data").toString(), "--plugins", work.resolve("plugins").toString());
        assertEquals(r.toString(), 12, r.exit());
        assertTrue(r.err(), r.err().contains("io.tollgate.metering.jornal.cfg configures nothing: no component reads the"
                + " configuration PID io.tollgate.metering.jornal (a misspelled file name?)"));
        assertTrue(r.err(), r.err().contains("io.tollgate.metering.journal"));
        notStarted(r);
    }

    @Test
    public void aValueOfTheWrongTypeExits12NamingTheKey() throws Exception {
        Path conf = dist.copyConf(work.resolve("conf"));
        // a port with a letter in it (the launcher's own port check leaves it to the endpoint), a queue of "abc"
        Files.writeString(conf.resolve("io.tollgate.endpoint.cfg"), Files.readString(conf.resolve(
                "io.tollgate.endpoint.cfg")).replace("port=8000", "port=8000x"));
        append(conf.resolve("io.tollgate.serving.cfg"), "max.queue.per.model=abc\n");
        ApplianceProcess.Result r = run("--conf", conf.toString(), "--data", work.resolve("data").toString(),
                "--plugins", work.resolve("plugins").toString());
        assertEquals(r.toString(), 12, r.exit());
        assertTrue(r.err(), r.err().contains("configuration io.tollgate.endpoint: 'port' is '8000x'; expected a whole"
                + " number") || r.err().contains("configuration io.tollgate.serving: 'max.queue.per.model' is 'abc';"
                + " expected a whole number"));
        assertTrue(r.err(), !r.err().contains("NumberFormatException"));
        notStarted(r);
    }

    /** --mqtt on the command line makes the uplink required: a URL it refuses is exit 12, not a silent offline box. */
    @Test
    public void anMqttUrlTheUplinkRefusesExits12() throws Exception {
        Path conf = dist.copyConf(work.resolve("conf"));
        Path cloudKey = cloudKey();
        append(conf.resolve("io.tollgate.sync.cfg"), "tls.ca.file=" + cloudKey + "\n");
        ApplianceProcess.Result r = run("--port", Integer.toString(TollgateExam.freePort()), "--conf", conf.toString(),
                "--data", work.resolve("data").toString(), "--plugins", work.resolve("plugins").toString(),
                "--mqtt", "tcp://127.0.0.1:1883", "--cloud-key", cloudKey.toString());
        assertEquals(r.toString(), 12, r.exit());
        assertTrue(r.err(), r.err().contains("tollgate run: the usage uplink (sync) did not start: tls.* files are set "
                + "but broker.url 'tcp://127.0.0.1:1883' is plain tcp://; use ssl://"));
        notStarted(r);
    }

    /** The same refusal from conf/ (the box's standing configuration): optional, so the box serves and says so. */
    @Test
    public void anUplinkRefusedFromConfIsOptionalTheApplianceServesAndReportsIt() throws Exception {
        Path conf = dist.copyConf(work.resolve("conf"));
        Path cloudKey = cloudKey();
        append(conf.resolve("io.tollgate.sync.cfg"), "broker.url=tcp://127.0.0.1:1883\ncloud.public.key.file="
                + cloudKey + "\ntls.ca.file=" + cloudKey + "\n");
        Path plugins = work.resolve("plugins");
        dist.copyExamplePlugin(plugins);
        int port = TollgateExam.freePort();
        Process p = dist.run(port, work.resolve("data"), plugins, conf);
        Http http = new Http(port);
        http.await("/v2/models/fashion-mnist/ready", 200, 60_000);
        String warn = dist.awaitLogLine(" WARN ", "optional part not ready (uplink)", 10_000);
        assertTrue(warn, warn.contains("the usage uplink (sync) did not start: tls.* files are set"));
        dist.awaitLogLine(" INFO ", "started: ", 10_000);
        Http.Response infer = http.post("/v2/models/fashion-mnist/infer", ApplianceProcess.fashionMnistBody("s1", 1, 0f));
        assertEquals(infer.body(), 200, infer.status());
        // an optional part does not make the box unready: ready within 20 s (the endpoint's warm-up holds ready for
        // up to warmup.ms after the endpoint opens, which on a loaded box can be after the model answers ready)
        Http.Response ready = http.await("/v2/health/ready", 200, 20_000);
        JsonNode checks = ready.json().get("checks");
        assertTrue(ready.body(), checks != null);
        {
            JsonNode uplink = null;
            for (JsonNode c : checks) {
                if ("uplink".equals(c.path("name").asText())) {
                    uplink = c;
                }
            }
            assertTrue(ready.body(), uplink != null && !uplink.path("required").asBoolean(true)
                    && !uplink.path("ready").asBoolean(true)
                    && uplink.path("reason").asText().contains("tls.* files are set"));
        }
        assertEquals(143, dist.stop(p, 60));
    }

    /** A data folder copied from another box (install tree with a demo's state): its key is refused, exit 11. */
    @Test
    public void aDeviceKeyCreatedOnAnotherHostExits11() throws Exception {
        Path data = work.resolve("data");
        dist.initDevice(data);
        Path host = data.resolve("device/host");
        assertTrue("device init records the host next to the key", Files.readString(host).startsWith("machine-id ")
                || Files.readString(host).startsWith("hostname "));
        Files.writeString(host, "machine-id 0123456789abcdef0123456789abcdef\n");   // what a copy from there carries
        ApplianceProcess.Result r = run("--port", Integer.toString(TollgateExam.freePort()), "--data", data.toString(),
                "--plugins", work.resolve("plugins").toString());
        assertEquals(r.toString(), 11, r.exit());
        assertTrue(r.err(), r.err().contains("tollgate run: the device key in " + data.resolve("device") + " was created "
                + "on another host (machine-id 0123456789abcdef0123456789abcdef; this host is "));
        assertTrue(r.err(), r.err().contains("bin/tollgate device init --data " + data));
        notStarted(r);
        assertFalse("refused before the framework touched the data folder", Files.exists(data.resolve("felix-cache")));
    }

    private ApplianceProcess.Result run(String... args) throws Exception {
        String[] cmd = new String[args.length + 1];
        cmd[0] = "run";
        System.arraycopy(args, 0, cmd, 1, args.length);
        return dist.tool(cmd);
    }

    private static void notStarted(ApplianceProcess.Result r) {
        assertFalse("never logs that it started:\n" + r.err(), r.err().lines().anyMatch(l -> l.contains("Tollgate ")
                && l.contains(" started: ")));
    }

    private static void append(Path file, String text) throws Exception {
        Files.writeString(file, "\n" + text, StandardCharsets.UTF_8, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
    }

    private Path cloudKey() throws Exception {
        byte[] der = KeyPairGenerator.getInstance("Ed25519").generateKeyPair().getPublic().getEncoded();
        Path f = work.resolve("cloud.pub.pem");
        Files.writeString(f, "-----BEGIN PUBLIC KEY-----\n" + Base64.getMimeEncoder(64, new byte[] {'\n'})
                .encodeToString(der) + "\n-----END PUBLIC KEY-----\n", StandardCharsets.US_ASCII);
        return f;
    }

    private static boolean listening(int port) {
        try (Socket s = new Socket("127.0.0.1", port)) {
            return true;
        } catch (java.io.IOException e) {
            return false;
        }
    }
}
