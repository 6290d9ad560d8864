package io.tollgate.it;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.After;
import org.junit.Before;
import org.junit.Test;

/**
 * The disk budget on the real distribution: with {@code disk.budget.bytes} at 1 MiB the appliance serves
 * until the journal is full, then answers 503 "metering unavailable: usage journal is at its disk budget"
 * (and /metrics says so); the operator raises the budget in {@code conf/io.tollgate.metering.journal.cfg}
 * and restarts, and service resumes. No request that got a 200 lacks its record, no refused request has one,
 * and {@code usage verify} accepts the journal.
 *
 * <p>Budget arithmetic: the journal counts metadata.cq4t plus, per journal file, the offset of the end of its
 * last record, which includes the index area Chronicle writes at the start of each file (together about
 * 190 KiB before the first usage record). 1 MiB (the smallest budget the journal accepts) therefore holds
 * about 850 KiB of records; with 128-byte request ids (the longest allowed) each usage record is ~320 bytes,
 * about 2700 requests.
 */
public class DiskBudgetIT {
    private static final long SMALL_BUDGET = 1L << 20;
    private static final long LARGER_BUDGET = 4L << 20;
    private static final int CLIENTS = 4;
    private static final int MAX_REQUESTS = 20_000;
    private static final String JOURNAL_CFG = "io.tollgate.metering.journal.cfg";

    private Path tmp;
    private ApplianceProcess appliance;
    private Mosquitto broker;
    @org.junit.Rule
    public final org.junit.rules.TestName testName = new org.junit.rules.TestName();
    private BillingProcess billing;
    private final Map<String, Boolean> served = new ConcurrentHashMap<>();
    private final Set<String> refused = ConcurrentHashMap.newKeySet();
    private final List<String> unexpected = java.util.Collections.synchronizedList(new ArrayList<>());

    @Before
    public void setUp() throws IOException {
        tmp = Files.createTempDirectory("tollgate-budget-it");
        appliance = new ApplianceProcess(tmp.resolve("appliance.log"));
        appliance.copyExamplePlugin(tmp.resolve("plugins"));
        Path conf = Files.createDirectories(tmp.resolve("conf"));
        try (DirectoryStream<Path> cfgs = Files.newDirectoryStream(appliance.dist().resolve("conf"), "*.cfg")) {
            for (Path f : cfgs) {
                Files.copy(f, conf.resolve(f.getFileName()));
            }
        }
    }

    @After
    public void tearDown() throws Exception {
        if (appliance != null) {
            appliance.killAll();
        }
        if (billing != null) {
            billing.killQuietly();
        }
        if (broker != null) {
            broker.stop();
            broker.close();
        }
        ApplianceProcess.keepLogs(tmp, Path.of("target", "it-logs", "DiskBudgetIT-" + testName.getMethodName()));
        ApplianceProcess.deleteTree(tmp);
    }

    private void writeBudget(long bytes) throws IOException {
        Path cfg = tmp.resolve("conf").resolve(JOURNAL_CFG);
        List<String> lines = new ArrayList<>();
        if (Files.exists(cfg)) {
            for (String line : Files.readAllLines(cfg)) {
                if (!line.trim().startsWith("disk.budget.bytes")) {
                    lines.add(line);
                }
            }
        }
        lines.add("disk.budget.bytes=" + bytes);
        Files.write(cfg, lines);
    }

    @Test
    public void refusesMeteredWorkAtTheBudgetAndResumesOnceTheBudgetIsRaised() throws Exception {
        Path data = tmp.resolve("data");
        Path plugins = tmp.resolve("plugins");
        Path conf = tmp.resolve("conf");
        writeBudget(SMALL_BUDGET);

        int port = TollgateExam.freePort();
        Process p = appliance.run(port, data, plugins, conf);
        appliance.awaitReady(p, port, 90_000);
        assertEquals(SMALL_BUDGET, metric(port, "tollgate_usage_disk_budget_bytes"));
        assertEquals(0, metric(port, "tollgate_usage_disk_warning"));

        String firstRefusal = fillUntilRefused(port);
        assertTrue(firstRefusal, firstRefusal.contains("metering unavailable: usage journal is at its disk budget ("));
        assertTrue(firstRefusal, firstRefusal.contains("of " + SMALL_BUDGET + " bytes)"));
        assertTrue(firstRefusal, firstRefusal.contains("raise disk.budget.bytes in configuration"
                + " io.tollgate.metering.journal"));
        assertTrue(firstRefusal, firstRefusal.endsWith("the request was not served"));
        int servedBeforeBudget = served.size();
        assertTrue("only " + servedBeforeBudget + " requests fit in 1 MiB", servedBeforeBudget > 500);

        // still refusing, and /metrics shows why
        HttpResponse<String> again = infer(HttpClient.newHttpClient(), port, "after-budget", 1);
        assertEquals(again.body(), 503, again.statusCode());
        refused.add("after-budget");
        assertEquals(1, metric(port, "tollgate_usage_refusing"));
        assertEquals(1, metric(port, "tollgate_usage_disk_warning"));
        assertTrue(metric(port, "tollgate_usage_disk_bytes") >= SMALL_BUDGET);
        assertTrue(metric(port, "tollgate_inference_requests_total{model=\"fashion-mnist\",outcome=\"metering_unavailable\"}")
                >= 1);
        String log = appliance.tail(100_000);
        assertTrue("no 80% warning in the log", log.contains("byte disk budget (>= 80%)"));
        appliance.stop(p, 30);

        // the operator raises the budget and restarts
        writeBudget(LARGER_BUDGET);
        port = TollgateExam.freePort();
        p = appliance.run(port, data, plugins, conf);
        appliance.awaitReady(p, port, 90_000);
        assertEquals(LARGER_BUDGET, metric(port, "tollgate_usage_disk_budget_bytes"));
        assertEquals(0, metric(port, "tollgate_usage_refusing"));
        HttpClient client = HttpClient.newHttpClient();
        for (int i = 0; i < 50; i++) {
            String id = "resumed-" + i;
            HttpResponse<String> r = infer(client, port, id, 2);
            assertEquals(r.body(), 200, r.statusCode());
            served.put(id, true);
        }
        assertEquals(0, metric(port, "tollgate_usage_disk_warning"));
        appliance.stop(p, 30);

        ApplianceProcess.Result verify = appliance.tool("usage", "verify", "--data", data.toString());
        assertEquals("usage verify: " + verify.out() + verify.err(), 0, verify.exit());
        Map<String, Integer> recordsPerId = new HashMap<>();
        for (JsonNode r : appliance.exportAll(data)) {
            if ("usage".equals(r.get("kind").asText())) {
                recordsPerId.merge(r.get("request_id").asText(), 1, Integer::sum);
            }
        }
        assertTrue("unexpected answers: " + unexpected, unexpected.isEmpty());
        for (String id : served.keySet()) {
            assertEquals("records of served request " + id, Integer.valueOf(1), recordsPerId.get(id));
        }
        for (String id : refused) {
            assertEquals("refused request " + id + " was metered", null, recordsPerId.get(id));
        }
        assertEquals("no record without a served request", served.size(), recordsPerId.size());
        System.out.printf("DiskBudgetIT: %d requests served within the %d byte budget, %d refused with 503, %d served"
                + " after raising it to %d; %s%n", servedBeforeBudget, SMALL_BUDGET, refused.size(),
                served.size() - servedBeforeBudget, LARGER_BUDGET, verify.out().lines().findFirst().orElse(""));
    }

    /**
     * Issue 8: the budget fills while the cloud is away; once the billing endpoint is up and acknowledges every
     * record, service resumes without a restart (the journal rolls to a new file and deletes the acknowledged one).
     * The ledger bills each served request once and no refused one, and the device's chain verifies.
     */
    @Test
    public void resumesWithoutARestartOnceTheCloudAcknowledgesEverything() throws Exception {
        Path data = tmp.resolve("data");
        Path plugins = tmp.resolve("plugins");
        Path conf = tmp.resolve("conf");
        writeBudget(SMALL_BUDGET);
        Path sync = conf.resolve("io.tollgate.sync.cfg");
        Files.writeString(sync, Files.readString(sync).replaceAll("(?m)^ack\\.timeout\\.ms=.*$", "ack.timeout.ms=5000"));
        broker = Mosquitto.start(tmp);
        Path billingData = tmp.resolve("billing");
        Path billingLog = tmp.resolve("billing.log");
        String device = appliance.initDevice(data);
        BillingProcess.register(device, data.resolve("device/device.pub.pem"), billingData, null, billingLog);
        billing = new BillingProcess("h2", broker.uri(), billingData, null, billingLog).start();   // makes its key
        billing.stop();

        int port = TollgateExam.freePort();
        Process p = appliance.run(port, data, plugins, conf, Map.of(), "--mqtt", broker.uri(), "--cloud-key",
                BillingProcess.cloudKey(billingData).toString());
        appliance.awaitReady(p, port, 90_000);
        String firstRefusal = fillUntilRefused(port);   // the cloud is away: nothing is acknowledged
        assertTrue(firstRefusal, firstRefusal.contains("metering unavailable: usage journal is at its disk budget ("));
        assertEquals(1, metric(port, "tollgate_usage_refusing"));
        // /v2/health/ready is 503 with the metering check's reason
        Http.Response ready = new Http(port).get("/v2/health/ready");
        assertEquals(ready.body(), 503, ready.status());
        assertTrue(ready.body(), ready.body().contains("usage journal is at its disk budget"));

        billing.start();
        long cloudUpAt = System.nanoTime();
        HttpClient client = HttpClient.newHttpClient();
        long resumedMs = -1;
        for (int i = 0; resumedMs < 0; i++) {
            String id = "after-ack-" + i;
            HttpResponse<String> r = infer(client, port, id, 1);
            if (r.statusCode() == 200) {
                served.put(id, true);
                resumedMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - cloudUpAt);
            } else {
                assertEquals(r.body(), 503, r.statusCode());
                refused.add(id);
                if (System.nanoTime() - cloudUpAt > TimeUnit.SECONDS.toNanos(120)) {
                    throw new AssertionError("still refusing 120 s after the cloud came back: " + r.body()
                            + "; released seq " + metric(port, "tollgate_usage_released_seq") + ", last seq "
                            + metric(port, "tollgate_usage_last_seq"));
                }
                Thread.sleep(200);
            }
        }
        String acceptingAgain = appliance.awaitLogLine("INFO", "Usage journal below its disk budget again", 5_000);
        for (int i = 0; i < 50; i++) {
            String id = "resumed-" + i;
            HttpResponse<String> r = infer(client, port, id, 2);
            assertEquals(r.body(), 200, r.statusCode());
            served.put(id, true);
        }
        assertEquals(0, metric(port, "tollgate_usage_refusing"));
        // the file the cloud acknowledged is deleted once the journal has rolled past it (the roll comes with the
        // first records after the refusal ended; the deletion follows on the journal's own thread)
        long firstSeqDeadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (metric(port, "tollgate_usage_first_seq") <= 1 && System.nanoTime() < firstSeqDeadline) {
            Thread.sleep(100);
        }
        assertTrue("the acknowledged file was deleted", metric(port, "tollgate_usage_first_seq") > 1);
        assertTrue(metric(port, "tollgate_usage_disk_bytes") < SMALL_BUDGET);
        long lastSeq = metric(port, "tollgate_usage_last_seq");
        long t0 = System.nanoTime();
        while (metric(port, "tollgate_usage_released_seq") < lastSeq
                && System.nanoTime() - t0 < TimeUnit.SECONDS.toNanos(60)) {
            Thread.sleep(200);
        }
        appliance.stop(p, 60);

        ApplianceProcess.Result verify = appliance.tool("usage", "verify", "--data", data.toString());
        assertEquals("usage verify: " + verify.out() + verify.err(), 0, verify.exit());
        Map<String, Integer> billed = new HashMap<>();
        long deadline = System.currentTimeMillis() + 60_000;
        do {
            billed.clear();
            for (JsonNode r : billing.get("/v1/usage?device=" + device + "&limit=100000000").path("records")) {
                billed.merge(r.path("request_id").asText(), 1, Integer::sum);
            }
        } while (!billed.keySet().containsAll(served.keySet()) && System.currentTimeMillis() < deadline
                && sleep(500));
        for (String id : served.keySet()) {
            assertEquals("ledger records of served request " + id, Integer.valueOf(1), billed.get(id));
        }
        for (String id : refused) {
            assertEquals("refused request " + id + " was billed", null, billed.get(id));
        }
        assertEquals("nothing billed that was not served", served.size(), billed.size());
        for (JsonNode d : billing.get("/v1/devices").path("devices")) {
            assertTrue("device chain not broken: " + d, !d.has("broken_at_seq"));
        }
        assertTrue("unexpected answers: " + unexpected, unexpected.isEmpty());
        System.out.printf("DiskBudgetIT: %d served, refused at the budget; the cloud came back and service resumed "
                + "%d ms later without a restart (%s); %d served in all, %d refused, all billed once; %s%n",
                served.size() - 51, resumedMs, acceptingAgain.trim(), served.size(), refused.size(),
                verify.out().lines().findFirst().orElse(""));
    }

    private static boolean sleep(long ms) throws InterruptedException {
        Thread.sleep(ms);
        return true;
    }

    /** Sends requests from several threads until one is refused; returns the first refusal's error message. */
    private String fillUntilRefused(int port) throws Exception {
        AtomicBoolean full = new AtomicBoolean();
        List<String> refusals = java.util.Collections.synchronizedList(new ArrayList<>());
        List<Thread> threads = new ArrayList<>();
        java.util.concurrent.atomic.AtomicInteger sent = new java.util.concurrent.atomic.AtomicInteger();
        for (int c = 0; c < CLIENTS; c++) {
            int client = c;
            Thread t = new Thread(() -> {
                HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
                while (!full.get() && sent.incrementAndGet() <= MAX_REQUESTS) {
                    // long ids make records bigger, so the budget fills with fewer requests
                    String id = String.format("budget-c%d-%06d-", client, sent.get()) + "x".repeat(111);   // 128 characters
                    try {
                        HttpResponse<String> r = infer(http, port, id, 1);
                        if (r.statusCode() == 200) {
                            served.put(id, true);
                        } else if (r.statusCode() == 503) {
                            refused.add(id);
                            refusals.add(Http.JSON.readTree(r.body()).get("error").asText());
                            full.set(true);
                        } else {
                            unexpected.add(r.statusCode() + " " + r.body());
                            full.set(true);
                        }
                    } catch (IOException e) {
                        unexpected.add(e.toString());
                        full.set(true);
                    } catch (InterruptedException e) {
                        return;
                    }
                }
            }, "budget-client-" + c);
            threads.add(t);
            t.start();
        }
        for (Thread t : threads) {
            t.join(300_000);
        }
        assertTrue("unexpected answers while filling the budget: " + unexpected, unexpected.isEmpty());
        assertTrue("no 503 after " + MAX_REQUESTS + " requests", !refusals.isEmpty());
        return refusals.get(0);
    }

    private static HttpResponse<String> infer(HttpClient http, int port, String id, int batch)
            throws IOException, InterruptedException {
        return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port
                        + "/v2/models/fashion-mnist/infer")).timeout(Duration.ofSeconds(30))
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(ApplianceProcess.fashionMnistBody(id, batch, 0.25f)))
                .build(), HttpResponse.BodyHandlers.ofString());
    }

    /** One client per port: a new one per call would leave its connection open (the endpoint allows 128). */
    private static final Map<Integer, Http> METRICS = new ConcurrentHashMap<>();

    private static long metric(int port, String series) throws Exception {
        String text = METRICS.computeIfAbsent(port, Http::new).get("/metrics").body();
        Matcher m = Pattern.compile("^" + Pattern.quote(series) + " (\\S+)$", Pattern.MULTILINE).matcher(text);
        if (!m.find()) {
            throw new AssertionError("no " + series + " in /metrics:\n" + text);
        }
        return (long) Double.parseDouble(m.group(1));
    }
}
