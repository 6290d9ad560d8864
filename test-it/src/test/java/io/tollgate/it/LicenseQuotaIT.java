package io.tollgate.it;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

import io.tollgate.tools.plugin.PluginJar;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.After;
import org.junit.Before;
import org.junit.Test;

/**
 * Quotas and expiry on the real distribution (issue 10; docs/licensing.md, "Quotas and expiry on the appliance"):
 * real Felix, real ONNX Runtime, the real usage journal, licenses issued and plugins signed by the test vendor.
 * A quota counts down to 402 naming the license, other models serve, the count survives a restart with the checkpoint
 * file deleted, a top-up license raises it without a restart; a license expiring mid-traffic refuses new requests
 * with the reason while the requests in flight finish (0 failed), then the model unloads.
 */
public class LicenseQuotaIT {
    private Path tmp;
    private Path log;
    private ApplianceProcess appliance;

    @Before
    public void setUp() throws Exception {
        tmp = Files.createTempDirectory("tollgate-license-quota-it");
        log = tmp.resolve("appliance.log");
        appliance = new ApplianceProcess(log);
    }

    @After
    public void tearDown() {
        appliance.killAll();
        ApplianceProcess.keepLogs(tmp, Path.of("target", "license-quota-it-logs"));
        ApplianceProcess.deleteTree(tmp);
    }

    private static String infer(int batch) {
        return Http.inferBody("image", new long[] {batch, 1, 28, 28}, new float[batch * 784]);
    }

    /** A signed plugin (no license) for model {@code name} in {@code plugins}. */
    private Path plugin(Path plugins, String name) throws Exception {
        byte[] model = TestPlugins.exampleEntry("TOLLGATE-INF/model.onnx");
        Path jar = tmp.resolve("made").resolve(name + ".jar");
        Files.createDirectories(jar.getParent());
        new PluginJar(name, "1.0.0").model("model.onnx", model).maxBatchSize(8).writeTo(jar);
        TestVendor.get().signOnly(jar);
        return Files.copy(jar, plugins.resolve(name + ".jar"));
    }

    private static void putAtomically(Path folder, String name, byte[] bytes) throws Exception {
        Path part = folder.resolve("." + name + ".part");
        Files.write(part, bytes);
        Files.move(part, folder.resolve(name), StandardCopyOption.ATOMIC_MOVE);
    }

    private static long metric(String text, String series) {
        Matcher m = Pattern.compile("^" + Pattern.quote(series) + " (\\S+)$", Pattern.MULTILINE).matcher(text);
        if (!m.find()) {
            throw new AssertionError("no series " + series + " in /metrics:\n" + text);
        }
        return (long) Double.parseDouble(m.group(1));
    }

    private Process start(int port, Path data, Path plugins, Path licenses) throws Exception {
        Process p = appliance.run(port, data, plugins, null, Map.of(), "--licenses", licenses.toString());
        appliance.awaitReady(p, port, 120_000);
        return p;
    }

    @Test
    public void quotaExhaustionIs402NamingTheLicenseSurvivesARestartAndATopUpRaisesIt() throws Exception {
        TestVendor vendor = TestVendor.get();
        Path plugins = Files.createDirectories(tmp.resolve("plugins"));
        Path licenses = Files.createDirectories(tmp.resolve("licenses"));
        Path data = tmp.resolve("data");
        plugin(plugins, "quota-model");
        plugin(plugins, "free-model");
        Instant issued = Instant.now().minus(1, ChronoUnit.HOURS);
        Files.write(licenses.resolve("quota.lic"), vendor.issuer().id("lic-quota").plugin("quota-model")
                .quota(5L, "inference").issuedAt(issued).issue());
        Files.write(licenses.resolve("free.lic"), vendor.issuer().id("lic-free").plugin("free-model").issue());

        int port = TollgateExam.freePort();
        Process p = start(port, data, plugins, licenses);
        Http http = new Http(port);
        http.awaitPlugin("tollgate.plugin.quota-model", "READY", 60_000);
        http.awaitPlugin("tollgate.plugin.free-model", "READY", 60_000);

        assertEquals(200, http.post("/v2/models/quota-model/infer", infer(2)).status());
        assertEquals(200, http.post("/v2/models/quota-model/infer", infer(2)).status());
        Http.Response crossing = http.post("/v2/models/quota-model/infer", infer(2));     // 4 + 2 > 5
        assertEquals(crossing.body(), 402, crossing.status());
        String error = crossing.json().path("error").asText();
        assertTrue(error, error.startsWith("quota exhausted: license lic-quota")
                && error.contains("1 of 5 inference left") && error.contains("this request needs 2"));
        assertEquals(200, http.post("/v2/models/quota-model/infer", infer(1)).status());  // the last unit
        Http.Response exhausted = http.post("/v2/models/quota-model/infer", infer(1));
        assertEquals(exhausted.body(), 402, exhausted.status());
        assertTrue(exhausted.body(), exhausted.body().contains("license lic-quota") && exhausted.body().contains("0 of 5"));
        appliance.awaitLogLine(" WARN ", "quota exhausted: license lic-quota", 10_000);
        for (int i = 0; i < 3; i++) {
            assertEquals("other models keep serving", 200, http.post("/v2/models/free-model/infer", infer(8)).status());
        }
        String metrics = http.get("/metrics").body();
        assertEquals(0, metric(metrics, "tollgate_license_quota_remaining{license=\"lic-quota\",plugin=\"quota-model\"}"));
        assertEquals(1, metric(metrics, "tollgate_license_state{license=\"lic-quota\",state=\"exhausted\"}"));
        assertEquals(1, metric(metrics, "tollgate_license_state{license=\"lic-free\",state=\"active\"}"));
        assertEquals(2, metric(metrics,
                "tollgate_inference_requests_total{model=\"quota-model\",outcome=\"payment_required\"}"));
        assertEquals(2, metric(metrics, "tollgate_http_responses_total{code=\"402\"}"));

        // A restart, with the plugins installed again and the one cache file (the totals checkpoint) deleted.
        assertEquals(143, appliance.stop(p, 60));
        Path checkpoint = data.resolve("usage.license-totals");
        assertTrue("the checkpoint beside the journal: " + checkpoint, Files.exists(checkpoint));
        Files.delete(checkpoint);
        p = start(port, data, plugins, licenses);
        http.awaitPlugin("tollgate.plugin.quota-model", "READY", 60_000);
        Http.Response still = http.post("/v2/models/quota-model/infer", infer(1));
        assertEquals(still.body(), 402, still.status());
        assertTrue(still.body(), still.body().contains("license lic-quota") && still.body().contains("0 of 5"));
        assertEquals(200, http.post("/v2/models/free-model/infer", infer(1)).status());

        // A top-up: a new license for the same plugin with a higher quota, arriving while running.
        putAtomically(licenses, "topup.lic", vendor.issuer().id("lic-topup").plugin("quota-model")
                .quota(100L, "inference").issue());
        long deadline = System.currentTimeMillis() + 30_000;
        Http.Response r;
        while ((r = http.post("/v2/models/quota-model/infer", infer(3))).status() != 200) {
            assertEquals(r.body(), 402, r.status());
            if (System.currentTimeMillis() > deadline) {
                fail("the top-up did not raise the quota within 30 s: " + r.body());
            }
            Thread.sleep(100);
        }
        metrics = http.get("/metrics").body();
        assertEquals(97, metric(metrics, "tollgate_license_quota_remaining{license=\"lic-topup\",plugin=\"quota-model\"}"));
        assertEquals(1, metric(metrics, "tollgate_license_state{license=\"lic-topup\",state=\"active\"}"));
        assertEquals(0, metric(metrics, "tollgate_license_quota_remaining{license=\"lic-quota\",plugin=\"quota-model\"}"));
    }

    @Test
    public void expiryMidTrafficDrainsWithNoFailedInFlightRequestsThenUnloads() throws Exception {
        TestVendor vendor = TestVendor.get();
        Path plugins = Files.createDirectories(tmp.resolve("plugins"));
        Path licenses = Files.createDirectories(tmp.resolve("licenses"));
        Path data = tmp.resolve("data");
        plugin(plugins, "expiring-model");
        plugin(plugins, "lasting-model");
        Files.write(licenses.resolve("lasting.lic"), vendor.issuer().id("lic-lasting").plugin("lasting-model").issue());
        int port = TollgateExam.freePort();
        start(port, data, plugins, licenses);
        Http http = new Http(port);
        http.awaitPlugin("tollgate.plugin.lasting-model", "READY", 60_000);

        // The license arrives once the box runs, and expires 12 s later, in the middle of the traffic below.
        Instant expires = Instant.now().plusSeconds(12).truncatedTo(ChronoUnit.SECONDS);
        putAtomically(licenses, "expiring.lic", vendor.issuer().id("lic-expiring").plugin("expiring-model")
                .expires(expires).issue());
        http.awaitPlugin("tollgate.plugin.expiring-model", "READY", 30_000);
        assertTrue("the license expired before the model loaded; the machine is too slow for this test",
                Instant.now().isBefore(expires.minusSeconds(3)));

        // 4 clients send batches of 8 back to back until 3 s after the expiry.
        AtomicBoolean stop = new AtomicBoolean();
        Map<Integer, AtomicInteger> statuses = new ConcurrentHashMap<>();
        List<String> failures = new CopyOnWriteArrayList<>();
        AtomicInteger servedAfterExpiry = new AtomicInteger();
        List<Thread> clients = new ArrayList<>();
        for (int c = 0; c < 4; c++) {
            Thread t = new Thread(() -> {
                Http client = new Http(port);
                while (!stop.get()) {
                    try {
                        Instant sent = Instant.now();
                        Http.Response r = client.post("/v2/models/expiring-model/infer", infer(8));
                        statuses.computeIfAbsent(r.status(), s -> new AtomicInteger()).incrementAndGet();
                        if (r.status() == 200 && sent.isAfter(expires.plusMillis(500))) {
                            servedAfterExpiry.incrementAndGet();
                        }
                        if (r.status() == 403) {
                            if (!r.body().contains("expired: ") || !r.body().contains("lic-expiring")) {
                                failures.add("403 without the reason: " + r.body());
                            }
                        } else if (r.status() != 200) {
                            failures.add(r.status() + " " + r.body());
                        }
                    } catch (Exception e) {
                        failures.add(e.toString());
                    }
                }
            }, "client-" + c);
            clients.add(t);
            t.start();
        }
        while (Instant.now().isBefore(expires.plusSeconds(3))) {
            Thread.sleep(100);
        }
        stop.set(true);
        for (Thread t : clients) {
            t.join(60_000);
        }
        assertTrue("failed requests (in flight at the expiry or after it): " + failures, failures.isEmpty());
        assertTrue("served before the expiry: " + statuses, statuses.getOrDefault(200, new AtomicInteger()).get() > 0);
        assertTrue("refused after the expiry: " + statuses, statuses.getOrDefault(403, new AtomicInteger()).get() > 0);
        assertEquals("nothing sent after the expiry was served", 0, servedAfterExpiry.get());

        // then the model unloads: its engine session is closed and the version reports why
        appliance.awaitLogLine(" INFO ", "model 'expiring-model' 1.0.0 from plugin tollgate.plugin.expiring-model 1.0.0 closed",
                30_000);
        appliance.awaitLogLine(" WARN ", "expired: ", 10_000);
        Http.Response after = http.post("/v2/models/expiring-model/infer", infer(1));
        assertEquals(after.body(), 403, after.status());
        assertTrue(after.body(), after.body().contains("expired"));
        String metrics = http.get("/metrics").body();
        assertTrue(metrics, !metrics.contains("tollgate_model_ready{model=\"expiring-model\",version=\"1.0.0\"} 1"));
        assertTrue("not ready", http.get("/v2/models/expiring-model/ready").status() != 200);
        assertEquals(1, metric(metrics, "tollgate_license_state{license=\"lic-expiring\",state=\"expired\"}"));
        assertEquals(expires.getEpochSecond(), metric(metrics,
                "tollgate_license_expires_seconds{license=\"lic-expiring\",plugin=\"expiring-model\"}"));
        assertEquals("the other model serves on", 200, http.post("/v2/models/lasting-model/infer", infer(1)).status());
    }
}
