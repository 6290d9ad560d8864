package io.tollgate.it;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.After;
import org.junit.Before;
import org.junit.Test;

/**
 * Issue 11, "Hybrid overflow", with two real appliances ({@code bin/tollgate run}, the example fashion-mnist plugin,
 * ONNX Runtime, API keys, Chronicle journals): box B has the model and an API key for box A; box A routes to B
 * through {@code conf/models/{m}.json} ({@code route}, its key in a 0600 file).
 * <ol>
 *   <li>A without the model, {@code local-first}: A's metadata and readiness come from B, A's answer equals B's own
 *   answer (a classification too: B's labels), A's journal records it as {@code remote:plant-b}, B's journal under
 *   A's key's tenant; a version segment that is not a version name ({@code %2e%2e}) is 400 and never sent;</li>
 *   <li>A with the model, one instance and a queue of 1, 16 clients: 0 failed requests, some served here and some by
 *   B, one usage record per request on A with the accelerator that served it;</li>
 *   <li>B stopped: A's local-first model still serves here, A's remote-only model fails fast (502 naming the route,
 *   then 503 with the breaker open, in {@code /metrics} once for the route, which both models share), and serves
 *   again once B is back.</li>
 * </ol>
 */
public class HybridOverflowIT {
    private static final int CLIENTS = 16;
    private static final int PER_CLIENT = 10;

    private Path tmp;
    private ApplianceProcess appliance;

    @Before
    public void setUp() throws Exception {
        tmp = Files.createTempDirectory("tollgate-hybrid-it");
        appliance = new ApplianceProcess(tmp.resolve("appliance.log"));
    }

    @After
    public void tearDown() {
        if (appliance != null) {
            appliance.killAll();
        }
        if (tmp != null) {
            ApplianceProcess.keepLogs(tmp, Path.of("target", "hybrid-it-logs"));
            ApplianceProcess.deleteTree(tmp);
        }
    }

    @Test
    public void overflowsToAnotherApplianceMetersHereAndBreaksTheCircuitWhenItIsGone() throws Exception {
        // ---- box B: the model, a key for box A and one for direct calls
        Path confB = appliance.copyConf(tmp.resolve("b/conf"));
        String keyForA = key(confB, "box-a");
        String directKey = key(confB, "direct");
        Path pluginsB = tmp.resolve("b/plugins");
        appliance.copyExamplePlugin(pluginsB);
        Path dataB = tmp.resolve("b/data");
        int portB = TollgateExam.freePort();
        Process b = appliance.run(portB, dataB, pluginsB, confB);
        appliance.awaitReady(b, portB, 90_000);
        Http direct = new Http(portB, directKey);

        // ---- box A: no model; fashion-mnist local-first to B, fashion-remote always to B (breaker: 2 failures, 1.5 s)
        Path confA = appliance.copyConf(tmp.resolve("a/conf"));
        Path keyFile = confA.resolve("plant-b.key");
        Files.writeString(keyFile, keyForA + "\n", StandardCharsets.US_ASCII);
        Files.setPosixFilePermissions(keyFile, PosixFilePermissions.fromString("rw-------"));
        String route = "'route':{'mode':'%s','name':'plant-b','url':'http://127.0.0.1:" + portB + "',"
                + "'api_key_file':'plant-b.key','timeout_ms':5000,'model':'fashion-mnist',"
                + "'circuit_breaker':{'failure_threshold':2,'open_ms':1500}}";
        write(confA, "fashion-mnist", "{" + String.format(route, "local-first") + "}");
        write(confA, "fashion-remote", "{" + String.format(route, "remote") + "}");
        Path pluginsA = Files.createDirectories(tmp.resolve("a/plugins"));
        Path dataA = tmp.resolve("a/data");
        int portA = TollgateExam.freePort();
        Process a = appliance.run(portA, dataA, pluginsA, confA);
        appliance.awaitReady(a, portA, 90_000);
        Http boxA = new Http(portA);

        // (a) the model only on B: metadata, readiness and the answer through A
        boxA.await("/v2/models/fashion-mnist/ready", 200, 15_000);
        JsonNode metadata = boxA.get("/v2/models/fashion-mnist").json();
        assertEquals(metadata.toString(), "image", metadata.path("inputs").get(0).path("name").asText());
        assertEquals(direct.get("/v2/models/fashion-mnist").json().path("outputs"), metadata.path("outputs"));
        String body = ApplianceProcess.fashionMnistBody("via-a-1", 2, 0.25f);
        Http.Response viaA = boxA.post("/v2/models/fashion-mnist/infer", body);
        assertEquals(viaA.body(), 200, viaA.status());
        Http.Response onB = direct.post("/v2/models/fashion-mnist/infer", body.replace("via-a-1", "direct-1"));
        assertEquals(onB.body(), 200, onB.status());
        assertEquals("A's answer equals B's", onB.json().path("outputs"), viaA.json().path("outputs"));
        assertEquals("via-a-1", viaA.json().path("id").asText());
        assertEquals("remote:plant-b", viaA.json().path("parameters").path("accelerator").asText());
        int remoteServed = 1;
        // issue 11: its configuration is the remote's (nothing was refused); its statistics are A's of what it routed
        Http.Response config = boxA.get("/v2/models/fashion-mnist/config");
        assertEquals(config.body(), 404, config.status());
        assertTrue(config.body(), config.body().contains("is not installed here: it is served through route 'plant-b',"
                + " so its configuration is the remote server's") && !config.body().contains("refused"));
        Http.Response stats = boxA.get("/v2/models/fashion-mnist/stats");
        assertEquals(stats.body(), 200, stats.status());
        JsonNode routed = stats.json().path("model_stats").path(0);
        assertEquals(stats.body(), "fashion-mnist", routed.path("name").asText());
        assertEquals(stats.body(), 1, routed.path("inference_count").asInt());
        assertTrue(stats.body(), routed.path("inference_stats").path("success").path("ns").asLong() > 0);
        // a classification through A equals B's own (B's labels: the classification is asked of B)
        String classify = ",\"outputs\":[{\"name\":\"probs\",\"parameters\":{\"classification\":3}}]}";
        String classBody = ApplianceProcess.fashionMnistBody("via-a-2", 2, 0.5f);
        classBody = classBody.substring(0, classBody.length() - 1) + classify;
        Http.Response classViaA = boxA.post("/v2/models/fashion-mnist/infer", classBody);
        assertEquals(classViaA.body(), 200, classViaA.status());
        Http.Response classOnB = direct.post("/v2/models/fashion-mnist/infer", classBody.replace("via-a-2",
                "direct-2"));
        assertEquals(classOnB.body(), 200, classOnB.status());
        assertEquals("A's classification equals B's", classOnB.json().path("outputs"),
                classViaA.json().path("outputs"));
        assertEquals(classViaA.body(), 3, classViaA.json().path("outputs").path(0).path("data").path(0).asText()
                .split(":").length);
        remoteServed += 1;
        // a version segment that is not a version name never reaches B's URL
        for (String version : List.of("%2e%2e", "..", "%2E", "a%2Fb")) {
            Http.Response bad = boxA.post("/v2/models/fashion-remote/versions/" + version + "/infer", body);
            if (!version.contains("%2F")) {   // a%2Fb decodes to two segments here: no such route (404)
                assertEquals(version + ": " + bad.body(), 400, bad.status());
                assertTrue(bad.body(), bad.body().contains("nothing was sent to route 'plant-b'"));
            } else {
                assertEquals(version + ": " + bad.body(), 404, bad.status());
            }
        }

        // (b) the model on A too, one instance, a queue of 1: 16 clients overflow into B with 0 failures
        ApplianceProcess.drop(appliance.dist().resolve("plugins/fashion-mnist-1.0.0.jar"), pluginsA);
        write(confA, "fashion-mnist", "{'dynamic_batching':{'max_queue_delay_microseconds':0,"
                + "'default_queue_policy':{'max_queue_size':1}},'instance_group':[{'count':1}],"
                + String.format(route, "local-first") + "}");
        await("fashion-mnist loaded on A with one instance", () -> {
            Http.Response c = boxA.get("/v2/models/fashion-mnist/config");
            return c.status() == 200 && c.json().path("instance_group").path(0).path("count").asInt() == 1
                    && c.json().has("dynamic_batching");
        });
        Map<String, String> servedBy = new ConcurrentHashMap<>();
        List<String> failures = Collections.synchronizedList(new ArrayList<>());
        List<Thread> clients = new ArrayList<>();
        for (int c = 0; c < CLIENTS; c++) {
            int client = c;
            Thread t = new Thread(() -> {
                Http own = new Http(portA);
                for (int i = 0; i < PER_CLIENT; i++) {
                    String id = "load-" + client + "-" + i;
                    try {
                        Http.Response r = own.post("/v2/models/fashion-mnist/infer",
                                ApplianceProcess.fashionMnistBody(id, 1, (client * PER_CLIENT + i) / 255f));
                        if (r.status() != 200) {
                            failures.add(id + ": " + r.status() + " " + r.body());
                        } else {
                            servedBy.put(id, r.json().path("parameters").path("accelerator").asText());
                        }
                    } catch (Exception e) {
                        failures.add(id + ": " + e);
                    }
                }
            }, "client-" + c);
            clients.add(t);
            t.start();
        }
        for (Thread t : clients) {
            t.join(180_000);
        }
        assertTrue("failed requests: " + failures, failures.isEmpty());
        assertEquals(CLIENTS * PER_CLIENT, servedBy.size());
        long remote = servedBy.values().stream().filter("remote:plant-b"::equals).count();
        long local = servedBy.values().stream().filter("cpu"::equals).count();
        System.out.println("HybridOverflowIT: " + servedBy.size() + " requests, " + local + " served on A, " + remote
                + " overflowed to B, 0 failed");
        assertTrue("some served here: " + local, local > 0);
        assertTrue("some overflowed to B: " + remote, remote > 0);
        assertEquals("every answer is from A's cpu or from B", servedBy.size(), local + remote);
        remoteServed += (int) remote;

        // (c) B gone: local-first serves here, remote-only fails fast naming the route, the breaker opens
        appliance.stop(b, 60);
        Http.Response here = boxA.post("/v2/models/fashion-mnist/infer", ApplianceProcess.fashionMnistBody("here",
                1, 0.5f));
        assertEquals(here.body(), 200, here.status());
        assertEquals("cpu", here.json().path("parameters").path("accelerator").asText());
        List<Integer> statuses = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            long t0 = System.nanoTime();
            Http.Response r = boxA.post("/v2/models/fashion-remote/infer", ApplianceProcess.fashionMnistBody(
                    "gone-" + i, 1, 0.5f));
            long ms = (System.nanoTime() - t0) / 1_000_000;
            statuses.add(r.status());
            assertTrue(r.body(), r.body().contains("route 'plant-b'"));
            assertTrue("fails fast: " + ms + " ms", ms < 3_000);
        }
        assertEquals("2 failures (connection refused), then the open circuit", List.of(502, 502, 503), statuses);
        String metrics = boxA.get("/metrics").body();
        // one breaker per route name (issue 11 defect 4): B is down for fashion-mnist's route too, one series
        assertTrue(metrics, metrics.contains("tollgate_route_breaker_state{route=\"plant-b\",state=\"open\"} 1"));
        assertTrue(metrics, metrics.contains(
                "tollgate_route_failures_total{model=\"fashion-remote\",route=\"plant-b\"} 2"));
        assertFalse(metrics, metrics.contains("tollgate_route_breaker_state{model="));

        // B back on its port: after open_ms one trial request closes the circuit
        Process b2 = appliance.run(portB, dataB, pluginsB, confB);
        appliance.awaitReady(b2, portB, 90_000);
        AtomicInteger recovered = new AtomicInteger();
        await("fashion-remote served again", () -> {
            Http.Response r = boxA.post("/v2/models/fashion-remote/infer", ApplianceProcess.fashionMnistBody(
                    "back-" + recovered.get(), 1, 0.5f));
            if (r.status() == 200) {
                recovered.incrementAndGet();
                return true;
            }
            return false;
        });
        remoteServed += 1;
        String after = boxA.get("/metrics").body();
        assertTrue(after, after.contains("tollgate_route_breaker_state{route=\"plant-b\",state=\"closed\"} 1"));

        // the journals: A holds one record per answer with the accelerator that served it; B has A's under box-a
        int exitA = appliance.stop(a, 60);
        assertTrue("exit code after SIGTERM is 0 or 143, not " + exitA, exitA == 0 || exitA == 143);
        int remoteRecords = 0;
        int localRecords = 0;
        for (JsonNode r : appliance.exportAll(dataA)) {
            if (!"usage".equals(r.path("kind").asText())) {
                continue;
            }
            String id = r.path("request_id").asText();
            String acc = r.path("accelerator").asText();
            if (servedBy.containsKey(id)) {
                assertEquals("usage record of " + id, servedBy.get(id), acc);
            }
            if (id.startsWith("gone-")) {
                fail("a failed remote request was metered: " + r);
            }
            if ("remote:plant-b".equals(acc)) {
                remoteRecords++;
                assertEquals(r.toString(), id.startsWith("via-a-") ? 2 : 1, r.path("quantity").asLong());
            } else {
                localRecords++;
            }
        }
        assertEquals("remote records on A", remoteServed, remoteRecords);
        assertEquals("local records on A", local + 1, localRecords);
        int exitB = appliance.stop(b2, 60);
        assertTrue("exit code after SIGTERM is 0 or 143, not " + exitB, exitB == 0 || exitB == 143);
        int onBForA = 0;
        for (JsonNode r : appliance.exportAll(dataB)) {
            if ("usage".equals(r.path("kind").asText()) && "box-a".equals(r.path("tenant").asText())) {
                onBForA++;
            }
        }
        assertEquals("B metered what A sent it under A's key's tenant", remoteServed, onBForA);
    }

    /**
     * Probe 2026-12-03: a route that leads back to its own box (here: the model routed to the box's own port, with a
     * key of its own) recursed 125 times until the per-client connection limit stopped it, then locked local clients
     * out for a minute. Now the request comes back once, is refused 508 there (its Via names the box), and the caller
     * gets 508 naming the loop at once; nothing is billed, the breaker stays closed, and the box serves on.
     */
    @Test
    public void aRouteLeadingBackToItsOwnBoxIsRefused508AfterOneHop() throws Exception {
        Path conf = appliance.copyConf(tmp.resolve("c/conf"));
        String self = key(conf, "self");
        String opsKey = key(conf, "ops", "metrics");
        Path keyFile = conf.resolve("self.key");
        Files.writeString(keyFile, self + "\n", StandardCharsets.US_ASCII);
        Files.setPosixFilePermissions(keyFile, PosixFilePermissions.fromString("rw-------"));
        int port = TollgateExam.freePort();
        write(conf, "fashion-mnist", "{'route':{'mode':'remote','name':'self','url':'http://127.0.0.1:" + port + "',"
                + "'api_key_file':'self.key','timeout_ms':5000,'circuit_breaker':{'failure_threshold':2,"
                + "'open_ms':60000}}}");
        Path plugins = tmp.resolve("c/plugins");
        appliance.copyExamplePlugin(plugins);
        Path data = tmp.resolve("c/data");
        Process c = appliance.run(port, data, plugins, conf);
        appliance.awaitReady(c, port, 90_000);
        Http box = new Http(port, self);
        Http ops = new Http(port, opsKey);
        for (int i = 0; i < 5; i++) {
            Http.Response r = box.post("/v2/models/fashion-mnist/infer",
                    ApplianceProcess.fashionMnistBody("loop-" + i, 1, 0.25f));
            assertEquals(r.body(), 508, r.status());
            assertTrue(r.body(), r.body().contains("route 'self': route loop: request loop-" + i + " for model"
                    + " 'fashion-mnist' came back to this box (Via: 1.1 tollgate-"));
        }
        String metrics = ops.get("/metrics").body();
        assertTrue("one hop per request: " + metrics, metrics.contains(
                "tollgate_route_requests_total{model=\"fashion-mnist\",route=\"self\"} 5"));
        assertTrue(metrics, metrics.contains("tollgate_route_breaker_state{route=\"self\",state=\"closed\"} 1"));
        assertEquals("the box serves its other routes", 200, box.get("/v2/health/ready").status());
        int exit = appliance.stop(c, 60);
        assertTrue("exit code after SIGTERM is 0 or 143, not " + exit, exit == 0 || exit == 143);
        for (JsonNode r : appliance.exportAll(data)) {
            assertFalse("a request refused as a loop was billed: " + r, "usage".equals(r.path("kind").asText()));
        }
    }

    private String key(Path conf, String tenant) throws Exception {
        return key(conf, tenant, "infer");
    }

    private String key(Path conf, String tenant, String role) throws Exception {
        ApplianceProcess.Result r = appliance.tool("keys", "add", "--tenant", tenant, "--role", role, "--conf",
                conf.toString());
        assertEquals(r.err(), 0, r.exit());
        return r.out().trim();
    }

    private static void write(Path conf, String model, String json) throws IOException {
        Path dir = Files.createDirectories(conf.resolve("models"));
        Path part = dir.resolve("." + model + ".json.part");
        Files.writeString(part, json.replace('\'', '"'), StandardCharsets.UTF_8);
        Files.move(part, dir.resolve(model + ".json"), StandardCopyOption.REPLACE_EXISTING,
                StandardCopyOption.ATOMIC_MOVE);
    }

    private static void await(String what, Callable<Boolean> condition) throws Exception {
        long deadline = System.currentTimeMillis() + 30_000;
        while (!condition.call()) {
            if (System.currentTimeMillis() > deadline) {
                fail("timed out waiting for: " + what);
            }
            Thread.sleep(200);
        }
    }
}
