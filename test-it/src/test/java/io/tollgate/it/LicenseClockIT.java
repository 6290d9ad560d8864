package io.tollgate.it;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.tollgate.tools.plugin.PluginJar;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.HashMap;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.After;
import org.junit.Before;
import org.junit.Test;

/**
 * Clock roll-back and offline grace on the real distribution (issue 10, "Done means"; docs/licensing.md, "Offline
 * grace and clock roll-back"): the built appliance started with its wall clock turned back or ahead by libfaketime
 * ({@link ApplianceProcess#fakedClock}), as a box whose clock is wrong; real Felix, ONNX Runtime, usage journal, and
 * for the grace a real mosquitto and billing service that come up late. The appliance has no test hook for time.
 */
public class LicenseClockIT {
    private Path tmp;
    private ApplianceProcess appliance;
    private Mosquitto broker;
    private BillingProcess billing;

    @Before
    public void setUp() throws Exception {
        ApplianceProcess.assumeFaketime();
        tmp = Files.createTempDirectory("tollgate-license-clock-it");
        appliance = new ApplianceProcess(tmp.resolve("appliance.log"));
    }

    @After
    public void tearDown() {
        if (appliance == null) {
            return;     // skipped
        }
        appliance.killAll();
        if (billing != null) {
            billing.killQuietly();
        }
        if (broker != null) {
            broker.close();
        }
        ApplianceProcess.keepLogs(tmp, Path.of("target", "license-clock-it-logs"));
        ApplianceProcess.deleteTree(tmp);
    }

    private static String infer() {
        return Http.inferBody("image", new long[] {1, 1, 28, 28}, new float[784]);
    }

    /** A plugin for model {@code name} signed by the test vendor (its license is the test's). */
    private void plugin(Path plugins, String name) throws Exception {
        byte[] model = TestPlugins.exampleEntry("TOLLGATE-INF/model.onnx");
        Path jar = Files.createDirectories(tmp.resolve("made")).resolve(name + ".jar");
        new PluginJar(name, "1.0.0").model("model.onnx", model).maxBatchSize(8).writeTo(jar);
        TestVendor.get().signOnly(jar);
        Files.copy(jar, plugins.resolve(name + ".jar"));
    }

    /** The state the license {@code id} has in GET /admin/licenses, and its reason when it has one. */
    private static JsonNode listed(Http http, String id) throws Exception {
        for (JsonNode l : http.get("/admin/licenses").json().path("licenses")) {
            if (id.equals(l.path("id").asText())) {
                return l;
            }
        }
        throw new AssertionError("GET /admin/licenses does not list " + id);
    }

    private static long metric(String text, String series) {
        Matcher m = Pattern.compile("^" + Pattern.quote(series) + " (\\S+)$", Pattern.MULTILINE).matcher(text);
        if (!m.find()) {
            throw new AssertionError("no series " + series + " in /metrics:\n" + text);
        }
        return (long) Double.parseDouble(m.group(1));
    }

    private Process start(int port, Path data, Path plugins, Path licenses, Map<String, String> env, String... extra)
            throws Exception {
        String[] args = new String[extra.length + 2];
        args[0] = "--licenses";
        args[1] = licenses.toString();
        System.arraycopy(extra, 0, args, 2, extra.length);
        Process p = appliance.run(port, data, plugins, null, env, args);
        appliance.awaitReady(p, port, 180_000);
        return p;
    }

    @Test
    public void clockRollBackStopsLicensedServingAndItResumesWhenTheClockCatchesUp() throws Exception {
        TestVendor vendor = TestVendor.get();
        Path plugins = Files.createDirectories(tmp.resolve("plugins"));
        Path licenses = Files.createDirectories(tmp.resolve("licenses"));
        Path data = tmp.resolve("data");
        plugin(plugins, "term-model");
        plugin(plugins, "free-model");
        // valid from a week ago, so a clock one day back is still inside the licenses' own window: what stops the
        // term license is the roll-back, not "not yet valid"
        Instant weekAgo = Instant.now().minus(7, ChronoUnit.DAYS);
        Files.write(licenses.resolve("term.lic"), vendor.issuer().id("lic-term").plugin("term-model")
                .notBefore(weekAgo).expires(Instant.now().plus(30, ChronoUnit.DAYS)).issue());
        Files.write(licenses.resolve("free.lic"), vendor.issuer().id("lic-free").plugin("free-model")
                .notBefore(weekAgo).issue());

        // 1. at the real time: both serve; the usage records carry the time
        int port = TollgateExam.freePort();
        Process p = start(port, data, plugins, licenses, Map.of());
        Http http = new Http(port);
        http.awaitPlugin("tollgate.plugin.term-model", "READY", 60_000);
        http.awaitPlugin("tollgate.plugin.free-model", "READY", 60_000);
        for (int i = 0; i < 3; i++) {
            assertEquals(200, http.post("/v2/models/term-model/infer", infer()).status());
            assertEquals(200, http.post("/v2/models/free-model/infer", infer()).status());
        }
        assertEquals("valid", listed(http, "lic-term").path("state").asText());
        assertEquals(143, appliance.stop(p, 60));

        // 2. restarted with the clock a day back: the time-limited license is refused, saying so; the free one serves
        p = start(port, data, plugins, licenses, ApplianceProcess.fakedClock("-1d"));
        http.awaitPlugin("tollgate.plugin.term-model", "READY", 120_000);
        http.awaitPlugin("tollgate.plugin.free-model", "READY", 120_000);
        Http.Response back = http.post("/v2/models/term-model/infer", infer());
        assertEquals(back.body(), 403, back.status());
        String error = back.json().path("error").asText();
        assertTrue(error, error.startsWith("model 'term-model' 1.0.0 is not licensed on this box: clock rolled back: "
                + "the wall clock reads ") && error.contains(" behind ") && error.contains("(the last usage record)")
                && error.contains("set the system clock to the right time")
                && error.contains("license lic-term serves again once the clock is past that time"));
        Matcher reads = Pattern.compile("the wall clock reads (\\S+), ").matcher(error);
        assertTrue(error, reads.find());
        long behindHours = ChronoUnit.HOURS.between(Instant.parse(reads.group(1)), Instant.now());
        assertTrue("the appliance's clock is a day back: " + error, behindHours >= 23 && behindHours <= 25);
        assertEquals("a license that neither expires nor limits grace does not depend on the clock", 200,
                http.post("/v2/models/free-model/infer", infer()).status());
        JsonNode term = listed(http, "lic-term");
        assertEquals(term.toString(), "clock rolled back", term.path("state").asText());
        assertTrue(term.toString(), term.path("reason").asText().startsWith("clock rolled back: the wall clock reads"));
        assertEquals("valid", listed(http, "lic-free").path("state").asText());
        String metrics = http.get("/metrics").body();
        assertEquals(1, metric(metrics, "tollgate_license_state{license=\"lic-term\",state=\"clock_rolled_back\"}"));
        assertEquals(0, metric(metrics, "tollgate_license_state{license=\"lic-term\",state=\"active\"}"));
        assertEquals(1, metric(metrics, "tollgate_license_state{license=\"lic-free\",state=\"active\"}"));
        appliance.awaitLogLine(" WARN ", "clock rolled back: the wall clock reads", 60_000);
        assertEquals("the model stays loaded", 200, http.get("/v2/models/term-model/ready").status());
        assertEquals(143, appliance.stop(p, 60));

        // 3. restarted at the real time: it serves again
        p = start(port, data, plugins, licenses, Map.of());
        http.awaitPlugin("tollgate.plugin.term-model", "READY", 60_000);
        Http.Response again = http.post("/v2/models/term-model/infer", infer());
        assertEquals(again.body(), 200, again.status());
        assertEquals("valid", listed(http, "lic-term").path("state").asText());
        assertEquals(1, metric(http.get("/metrics").body(),
                "tollgate_license_state{license=\"lic-term\",state=\"active\"}"));
        assertEquals(143, appliance.stop(p, 60));

        // every answered request has its usage record, with the time the box read (a day back in run 2)
        int termRecords = 0;
        int free = 0;
        for (JsonNode r : appliance.exportAll(data)) {
            if ("usage".equals(r.path("kind").asText())) {
                if ("term-model".equals(r.path("model").asText())) {
                    termRecords++;
                    assertEquals("lic-term", r.path("license_id").asText());
                } else if ("free-model".equals(r.path("model").asText())) {
                    free++;
                }
            }
        }
        assertEquals("3 served before, 0 while the clock was back, 1 after", 4, termRecords);
        assertEquals(4, free);
    }

    @Test
    public void offlineGraceStopsAndResumesWithoutARestartWhenSyncReachesTheCloud() throws Exception {
        TestVendor vendor = TestVendor.get();
        Path data = tmp.resolve("data");
        Path billingData = tmp.resolve("billing");
        Path billingLog = tmp.resolve("billing.log");
        String device = appliance.initDevice(data);
        // the cloud's key and the device's registration exist, but neither the broker nor the billing service runs
        BillingProcess.cli(billingLog, "cloud", "pubkey", "--data", billingData.toString());
        BillingProcess.register(device, data.resolve("device/device.pub.pem"), billingData, null, billingLog);
        broker = Mosquitto.start(tmp);
        broker.stop();

        Path plugins = Files.createDirectories(tmp.resolve("plugins"));
        Path licenses = Files.createDirectories(tmp.resolve("licenses"));
        plugin(plugins, "grace-model");
        plugin(plugins, "free-model");
        Instant weekAgo = Instant.now().minus(7, ChronoUnit.DAYS);
        Files.write(licenses.resolve("grace.lic"), vendor.issuer().id("lic-grace").plugin("grace-model")
                .notBefore(weekAgo).graceDays(1L).issue());
        Files.write(licenses.resolve("free.lic"), vendor.issuer().id("lic-free").plugin("free-model")
                .notBefore(weekAgo).issue());
        String[] sync = {"--mqtt", broker.uri(), "--cloud-key", BillingProcess.cloudKey(billingData).toString()};

        // 1. at the real time, the cloud unreachable: it serves (the records are minutes old), nothing is acked
        int port = TollgateExam.freePort();
        Process p = start(port, data, plugins, licenses, Map.of(), sync);
        Http http = new Http(port);
        http.awaitPlugin("tollgate.plugin.grace-model", "READY", 60_000);
        http.awaitPlugin("tollgate.plugin.free-model", "READY", 60_000);
        for (int i = 0; i < 3; i++) {
            assertEquals(200, http.post("/v2/models/grace-model/infer", infer()).status());
        }
        assertEquals(0, metric(http.get("/metrics").body(), "tollgate_sync_acked_seq"));
        assertEquals(143, appliance.stop(p, 60));

        // 2. two days later (the clock moved ahead), still offline: the grace license is refused, saying how long
        Map<String, String> twoDaysLater = new HashMap<>(ApplianceProcess.fakedClock("+2d"));
        p = start(port, data, plugins, licenses, twoDaysLater, sync);
        long pid = p.pid();
        http.awaitPlugin("tollgate.plugin.grace-model", "READY", 120_000);
        http.awaitPlugin("tollgate.plugin.free-model", "READY", 120_000);
        Http.Response refused = http.post("/v2/models/grace-model/infer", infer());
        assertEquals(refused.body(), 403, refused.status());
        String error = refused.json().path("error").asText();
        assertTrue(error, error.startsWith("model 'grace-model' 1.0.0 is not licensed on this box: offline grace "
                + "expired: license lic-grace allows 1 day without a verified cloud ack, and the oldest usage record "
                + "the cloud has not acknowledged is 2 days old") && error.contains("once usage sync reaches the cloud")
                && error.contains("check the uplink"));
        assertEquals("a license without a grace limit serves on", 200,
                http.post("/v2/models/free-model/infer", infer()).status());
        JsonNode grace = listed(http, "lic-grace");
        assertEquals(grace.toString(), "offline grace expired", grace.path("state").asText());
        String metrics = http.get("/metrics").body();
        assertEquals(1, metric(metrics, "tollgate_license_state{license=\"lic-grace\",state=\"grace_expired\"}"));
        assertTrue(metrics, metric(metrics, "tollgate_sync_oldest_unacked_age_seconds") >= 2 * 86_400 - 600);

        // 3. the broker and the billing service come up: acks arrive and it serves again, without a restart
        broker.start();
        billing = new BillingProcess("h2", broker.uri(), billingData, null, billingLog).start();
        long cloudUp = System.nanoTime();
        long end = System.currentTimeMillis() + 240_000;
        Http.Response r = http.post("/v2/models/grace-model/infer", infer());
        while (r.status() != 200 && System.currentTimeMillis() < end) {
            assertEquals(r.body(), 403, r.status());
            Thread.sleep(250);
            r = http.post("/v2/models/grace-model/infer", infer());
        }
        assertEquals("serves again once the cloud acknowledged the records: " + r.body(), 200, r.status());
        assertTrue("the same process: no restart", p.isAlive() && p.pid() == pid);
        System.out.printf("LicenseClockIT: offline grace (1 day) expired at +2 days; served again %d ms after the "
                + "billing service was up, without a restart%n", (System.nanoTime() - cloudUp) / 1_000_000);
        assertEquals("valid", listed(http, "lic-grace").path("state").asText());
        metrics = http.get("/metrics").body();
        assertEquals(1, metric(metrics, "tollgate_license_state{license=\"lic-grace\",state=\"active\"}"));
        assertTrue("the cloud's signed time is two days behind the box's clock: that is the box ahead, not a "
                + "roll-back:\n" + appliance.tail(80), !Files.readString(tmp.resolve("appliance.log"))
                .contains("clock rolled back"));

        // 4. every usage record billed (3 before, 1 of free-model while refused, 1 after; the last seal is stored
        // with the next one, so the backlog need not reach 0): the billed ledger equals the journal, record by record
        end = System.currentTimeMillis() + 120_000;
        while (billing.get("/v1/usage?device=" + device + "&limit=100").path("records").size() < 5
                && System.currentTimeMillis() < end) {
            Thread.sleep(250);
        }
        assertEquals(143, appliance.stop(p, 60));
        ApplianceProcess.JournalView journal = appliance.journal(data);
        Map<Long, String> billed = new java.util.TreeMap<>();
        for (JsonNode rec : billing.get("/v1/usage?device=" + device + "&limit=100000000").path("records")) {
            billed.put(rec.path("seq").asLong(), rec.path("hash").asText());
        }
        assertEquals("3 before, 1 of free-model while refused, 1 after: " + billed, 5, billed.size());
        // retention deletes a journal file once the cloud acknowledged all of it (the first run's hourly file, two
        // days "ago"): what the journal still holds is billed with the same hash, the rest lies below it
        Map<Long, String> stillBilled = new java.util.TreeMap<>(billed);
        stillBilled.keySet().removeIf(journal::deletedAfterAck);
        assertEquals("the ledger bills exactly the journal's usage records (seq and hash)", journal.usage(),
                stillBilled);
    }
}
