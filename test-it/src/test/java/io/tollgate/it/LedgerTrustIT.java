package io.tollgate.it;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.After;
import org.junit.Before;
import org.junit.Rule;
import org.junit.Test;
import org.junit.rules.TestName;

/**
 * Issue 9 ("Trust") on the real processes — the appliance, mosquitto and {@code bin/tollgate-billing} on H2 — for the
 * two ledger attacks reproduced on main:
 * <ul>
 *   <li>an anonymous MQTT client publishes one unsealed record in a real device's name (the device's next seq,
 *   chained to its last record, 777,777 units): on main it was billed at once and every genuine record after it
 *   was quarantined as a conflict. Now it is never billed, and the device's next 1,000 records are billed
 *   normally;</li>
 *   <li>a device bound to tenant {@code acme} serves requests whose API key names {@code globex}: its correctly
 *   signed records name globex. On main they landed on globex's invoice; now they are quarantined with the reason,
 *   acked (the device's chain goes on), and globex's invoice is empty.</li>
 * </ul>
 */
public class LedgerTrustIT {
    private static final long BILL_TIMEOUT_MS = 120_000;

    @Rule
    public final TestName testName = new TestName();

    private Path tmp;
    private Path plugins;
    private Path billingLog;
    private ApplianceProcess appliance;
    private Mosquitto broker;
    private BillingProcess billing;

    @Before
    public void setUp() throws Exception {
        tmp = Files.createTempDirectory("tollgate-trust-it");
        plugins = tmp.resolve("plugins");
        billingLog = tmp.resolve("billing.log");
        appliance = new ApplianceProcess(tmp.resolve("appliance.log"));
        appliance.copyExamplePlugin(plugins);
        broker = Mosquitto.start(tmp);
    }

    @After
    public void tearDown() throws Exception {
        appliance.killAll();
        if (billing != null) {
            billing.killQuietly();
        }
        if (broker != null) {
            broker.stop();
        }
        ApplianceProcess.keepLogs(tmp, Path.of("target", "trust-it-logs", testName.getMethodName()));
        if (broker != null) {
            broker.close();
        }
        ApplianceProcess.deleteTree(tmp);
    }

    @Test
    public void aForgedUnsealedRecordIsNeverBilledAndTheDevicesNext1000RecordsAre() throws Exception {
        Path data = tmp.resolve("data");
        Path billingData = tmp.resolve("billing");
        String device = appliance.initDevice(data);
        BillingProcess.register(device, data.resolve("device/device.pub.pem"), billingData, null, billingLog);
        String usageTopic = "tollgate/v1/" + device + "/usage";
        Path capture = tmp.resolve("usage-topic.bin");
        Process captureProcess = broker.capture(usageTopic, 1_000_000, 600, capture);
        billing = new BillingProcess("h2", broker.uri(), billingData, null, billingLog).start();
        int port = TollgateExam.freePort();
        Process dev = appliance.run(port, data, plugins, appliance.dist().resolve("conf"), Map.of(), "--mqtt",
                broker.uri(), "--cloud-key", billing.cloudKey().toString());
        appliance.awaitReady(dev, port, 90_000);

        long units = infer(port, "warm-", 20, null);
        awaitBilled(device, null, 20, units);
        // the device is idle: its last record (a seal) is on the usage topic; the forgery chains to it
        Thread.sleep(2_000); // let the appliance's interval seal (seal.every.ms=1000) go out before reading its topic
        captureProcess.destroy();
        captureProcess.waitFor(10, TimeUnit.SECONDS);
        List<UsageBatches.Batch> batches = UsageBatches.decodeAll(Files.readAllBytes(capture));
        List<byte[]> seen = new ArrayList<>();
        batches.forEach(b -> seen.addAll(b.records()));
        byte[] last = seen.stream().max((a, b) -> Long.compare(UsageBatches.seq(a), UsageBatches.seq(b))).orElseThrow();
        byte[] template = seen.stream().filter(r -> UsageBatches.kind(r) == UsageBatches.KIND_USAGE).findFirst()
                .orElseThrow();
        byte[] forged = template.clone();
        long forgedSeq = UsageBatches.seq(last) + 1;
        ByteBuffer.wrap(forged).putLong(2, forgedSeq);
        System.arraycopy(UsageBatches.sha256(last), 0, forged, 26, 32);
        ByteBuffer.wrap(forged).putLong(UsageBatches.quantityOffset(forged), 777_777L);
        Path forgedFile = tmp.resolve("forged.bin");
        Files.write(forgedFile, UsageBatches.encodeRaw(forgedSeq, List.of(forged)));
        long batchesBefore = billing.counters().path("batches").asLong();
        broker.publish(usageTopic, forgedFile); // an anonymous client: mosquitto_pub without credentials
        awaitBatches(batchesBefore);
        assertEquals("the forged record waits for a seal: not billed, not quarantined yet", 0,
                billing.get("/v1/quarantine?device=" + device).path("count").asLong());
        awaitBilled(device, null, 20, units);

        long more = infer(port, "after-", 1000, null);
        awaitBilled(device, null, 1020, units + more);
        JsonNode usage = billing.get("/v1/usage?device=" + device + "&limit=100000");
        for (JsonNode r : usage.path("records")) {
            assertTrue("the forged record is never billed: " + r, r.path("quantity").asLong() < 777_777L);
        }
        JsonNode entry = awaitQuarantined(device, UsageBatches.hex(UsageBatches.sha256(forged)));
        assertEquals(forgedSeq, entry.path("seq").asLong());
        assertTrue(entry.toString(), entry.path("reason").asText().contains("not covered by the device's seal"));
        assertEquals("nothing else quarantined", 1, billing.get("/v1/quarantine?device=" + device).path("count")
                .asLong());
        JsonNode d = billing.get("/v1/devices").path("devices").get(0);
        assertFalse("the device's chain is not broken: " + d, d.has("broken_at_seq"));
        assertEquals(0, exitCode(appliance.stop(dev, 60)));
    }

    @Test
    public void recordsNamingATenantTheDeviceIsNotBoundToAreQuarantinedNotInvoiced() throws Exception {
        Path data = tmp.resolve("data");
        Path billingData = tmp.resolve("billing");
        String device = appliance.initDevice(data);
        BillingProcess.register(device, data.resolve("device/device.pub.pem"), billingData, null, billingLog, "acme");
        billing = new BillingProcess("h2", broker.uri(), billingData, null, billingLog).start();
        Path conf = tmp.resolve("conf");
        Files.createDirectories(conf);
        try (var files = Files.list(appliance.dist().resolve("conf"))) {
            for (Path f : files.toList()) {
                Files.copy(f, conf.resolve(f.getFileName()));
            }
        }
        String acmeKey = key(conf, "acme");
        String globexKey = key(conf, "globex");
        int port = TollgateExam.freePort();
        Process dev = appliance.run(port, data, plugins, conf, Map.of(), "--mqtt", broker.uri(), "--cloud-key",
                billing.cloudKey().toString());
        appliance.awaitReady(dev, port, 90_000);

        long acmeUnits = infer(port, "acme-", 10, acmeKey);
        long globexUnits = infer(port, "globex-", 10, globexKey);
        long acmeAfter = infer(port, "acme-after-", 10, acmeKey);
        assertTrue(globexUnits > 0);
        awaitBilled(device, "acme", 20, acmeUnits + acmeAfter); // acme's records after globex's: the chain goes on
        JsonNode q = billing.get("/v1/quarantine?device=" + device);
        long deadline = System.currentTimeMillis() + BILL_TIMEOUT_MS;
        while (q.path("count").asLong() < 10 && System.currentTimeMillis() < deadline) {
            Thread.sleep(200);
            q = billing.get("/v1/quarantine?device=" + device);
        }
        assertEquals(q.toString(), 10, q.path("count").asLong());
        for (JsonNode e : q.path("entries")) {
            assertTrue(e.toString(), e.path("reason").asText().contains("tenant 'globex' is not bound to device "
                    + device + " (bound: acme)"));
        }
        String period = java.time.YearMonth.now(java.time.ZoneOffset.UTC).toString();
        JsonNode invoice = billing.get("/v1/invoices?tenant=globex&period=" + period);
        assertEquals("globex's invoice is empty: " + invoice, 0, invoice.path("lines").size());
        assertEquals("0", invoice.path("total").asText().replace(".00", ""));
        assertEquals(0, billing.get("/v1/usage?tenant=globex").path("records").size());
        JsonNode devices = billing.get("/v1/devices").path("devices");
        assertEquals("[\"acme\"]", devices.get(0).path("tenants").toString());
        assertEquals(0, exitCode(appliance.stop(dev, 60)));
    }

    private String key(Path conf, String tenant) throws Exception {
        ApplianceProcess.Result r = appliance.tool("keys", "add", "--tenant", tenant, "--role", "infer", "--conf",
                conf.toString());
        assertEquals("keys add: " + r.err(), 0, r.exit());
        return r.out().trim();
    }

    /** Sends {@code n} inferences (batch 1–3) with 4 clients; all must be answered 200. Returns the units. */
    private static long infer(int port, String prefix, int n, String apiKey) throws Exception {
        AtomicInteger next = new AtomicInteger();
        AtomicInteger units = new AtomicInteger();
        List<Throwable> failures = java.util.Collections.synchronizedList(new ArrayList<>());
        List<Thread> threads = new ArrayList<>();
        for (int c = 0; c < 4; c++) {
            Thread t = new Thread(() -> {
                HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
                        .connectTimeout(Duration.ofSeconds(5)).build();
                for (int i = next.getAndIncrement(); i < n; i = next.getAndIncrement()) {
                    int batch = 1 + i % 3;
                    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port
                                    + "/v2/models/fashion-mnist/infer")).timeout(Duration.ofSeconds(30))
                            .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(
                                    ApplianceProcess.fashionMnistBody(prefix + i, batch, 0.25f)));
                    if (apiKey != null) {
                        b.header("Authorization", "Bearer " + apiKey);
                    }
                    try {
                        HttpResponse<String> r = http.send(b.build(), HttpResponse.BodyHandlers.ofString());
                        if (r.statusCode() != 200) {
                            failures.add(new AssertionError(prefix + i + ": " + r.statusCode() + " " + r.body()));
                            return;
                        }
                        units.addAndGet(batch);
                    } catch (Exception e) {
                        failures.add(e);
                        return;
                    }
                }
            });
            threads.add(t);
            t.start();
        }
        for (Thread t : threads) {
            t.join(300_000);
        }
        assertTrue("inferences failed: " + failures, failures.isEmpty());
        return units.get();
    }

    /** Waits until the ledger bills exactly {@code requests} records with {@code units} for the device (and tenant). */
    private void awaitBilled(String device, String tenant, long requests, long units) throws Exception {
        long deadline = System.currentTimeMillis() + BILL_TIMEOUT_MS;
        long billedRequests = 0;
        long billedUnits = 0;
        while (System.currentTimeMillis() < deadline) {
            JsonNode totals = billing.get("/v1/usage?device=" + device + (tenant == null ? "" : "&tenant=" + tenant)
                    + "&limit=1").path("totals");
            billedRequests = 0;
            billedUnits = 0;
            for (JsonNode t : totals) {
                billedRequests += t.path("requests").asLong();
                billedUnits += t.path("quantity").asLong();
            }
            if (billedRequests >= requests) {
                break;
            }
            Thread.sleep(250);
        }
        assertEquals("billed requests of " + device + "; billing log: " + BillingProcess.tail(billingLog), requests,
                billedRequests);
        assertEquals("billed units of " + device, units, billedUnits);
    }

    /** Waits until the billing service has taken one more batch than {@code before}. */
    private void awaitBatches(long before) throws Exception {
        long deadline = System.currentTimeMillis() + 30_000;
        while (billing.counters().path("batches").asLong() <= before) {
            if (System.currentTimeMillis() > deadline) {
                throw new AssertionError("the billing service did not take the forged batch: " + billing.counters());
            }
            Thread.sleep(100);
        }
    }

    private JsonNode awaitQuarantined(String device, String hash) throws Exception {
        long deadline = System.currentTimeMillis() + 30_000;
        JsonNode q = billing.get("/v1/quarantine?device=" + device);
        while (System.currentTimeMillis() < deadline) {
            for (JsonNode e : q.path("entries")) {
                if (hash.equals(e.path("hash").asText())) {
                    return e;
                }
            }
            Thread.sleep(200);
            q = billing.get("/v1/quarantine?device=" + device);
        }
        throw new AssertionError("record " + hash + " not quarantined: " + q);
    }

    private static int exitCode(int exit) {
        return exit == 143 ? 0 : exit;
    }
}
