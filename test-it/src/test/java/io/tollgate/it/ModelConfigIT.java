package io.tollgate.it;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

import com.fasterxml.jackson.databind.JsonNode;
import io.tollgate.tools.plugin.PluginJar;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.After;
import org.junit.Before;
import org.junit.Test;

/**
 * Issue 11, model configuration and repository control, on the built distribution ({@code bin/tollgate run}) with the
 * real Fashion-MNIST plugin, ONNX Runtime and API keys: {@code /config} gives the descriptor's values; a
 * {@code conf/models/fashion-mnist.json} written while the box runs changes {@code /config} and the
 * {@code max_batch_size} enforced within seconds, a malformed one is refused and the old stays; the version policy with
 * two installed versions; unload under concurrent traffic (no request in flight fails, new ones are refused, the index
 * says UNAVAILABLE, the unload survives a restart) and load serving again; load/unload need the admin role.
 */
public class ModelConfigIT {
    private Path tmp;
    private Path conf;
    private Path data;
    private Path plugins;
    private ApplianceProcess appliance;
    private String adminKey;
    private String inferKey;
    private int port;

    @Before
    public void setUp() throws Exception {
        tmp = Files.createTempDirectory("tollgate-config-it");
        appliance = new ApplianceProcess(tmp.resolve("appliance.log"));
        plugins = tmp.resolve("plugins");
        appliance.copyExamplePlugin(plugins);
        data = tmp.resolve("data");
        conf = appliance.copyConf(tmp.resolve("conf"));
        adminKey = key("ops", "admin");
        inferKey = key("acme", "infer");
    }

    @After
    public void tearDown() {
        appliance.killAll();
        ApplianceProcess.keepLogs(tmp, Path.of("target", "config-it-logs"));
        ApplianceProcess.deleteTree(tmp);
    }

    private String key(String tenant, String role) throws Exception {
        ApplianceProcess.Result r = appliance.tool("keys", "add", "--tenant", tenant, "--role", role, "--conf",
                conf.toString());
        assertEquals(r.err(), 0, r.exit());
        return r.out().trim();
    }

    private Process start() throws Exception {
        port = TollgateExam.freePort();
        Process p = appliance.run(port, data, plugins, conf);
        appliance.awaitReady(p, port, 90_000);
        return p;
    }

    private void writeOverride(String json) throws IOException {
        Path dir = conf.resolve("models");
        Files.createDirectories(dir);
        Path part = dir.resolve(".fashion-mnist.json.part");
        Files.writeString(part, json.replace('\'', '"'), StandardCharsets.UTF_8);
        Files.move(part, dir.resolve("fashion-mnist.json"), StandardCopyOption.REPLACE_EXISTING,
                StandardCopyOption.ATOMIC_MOVE);
    }

    private static long await(String what, Callable<Boolean> condition) throws Exception {
        long t0 = System.nanoTime();
        long deadline = System.currentTimeMillis() + 15_000;
        while (!condition.call()) {
            if (System.currentTimeMillis() > deadline) {
                fail("timed out waiting for: " + what);
            }
            Thread.sleep(100);
        }
        return (System.nanoTime() - t0) / 1_000_000;
    }

    private static String body(int batch) {
        return ApplianceProcess.fashionMnistBody(null, batch, 0.5f);
    }

    /** The {@code /admin/plugins} entry of the fashion-mnist plugin of model version {@code version}. */
    private static JsonNode pluginOf(Http admin, String version) throws Exception {
        for (JsonNode p : admin.get("/admin/plugins").json()) {
            if (p.path("model").asText().equals("fashion-mnist") && p.path("model_version").asText().equals(version)) {
                return p;
            }
        }
        return com.fasterxml.jackson.databind.node.MissingNode.getInstance();
    }

    /** The versions of fashion-mnist resident on the accelerators ({@code /admin/accelerators}), sorted. */
    private static List<String> resident(Http admin) throws Exception {
        List<String> out = new ArrayList<>();
        for (JsonNode a : admin.get("/admin/accelerators").json()) {
            for (JsonNode m : a.path("models")) {
                if (m.path("model").asText().equals("fashion-mnist")) {
                    out.add(m.path("version").asText());
                }
            }
        }
        Collections.sort(out);
        return out;
    }

    private List<String> index(Http admin) throws Exception {
        Http.Response r = admin.post("/v2/repository/index", "");
        assertEquals(r.body(), 200, r.status());
        List<String> out = new ArrayList<>();
        for (JsonNode e : r.json()) {
            out.add(e.get("name").asText() + " " + e.get("version").asText() + " " + e.get("state").asText()
                    + (e.get("reason").asText().isEmpty() ? "" : ": " + e.get("reason").asText()));
        }
        return out;
    }

    @Test
    public void configComesFromTheDescriptorAndAnOverrideAppliesWithoutARestart() throws Exception {
        start();
        Http infer = new Http(port, inferKey);
        Http admin = new Http(port, adminKey);
        Http.Response r = infer.get("/v2/models/fashion-mnist/config");
        assertEquals(r.body(), 200, r.status());
        JsonNode c = r.json();
        assertEquals("fashion-mnist", c.get("name").asText());
        assertEquals("onnxruntime_onnx", c.get("platform").asText());
        assertEquals("onnxruntime", c.get("backend").asText());
        assertTrue(c.get("max_batch_size").isInt());
        assertEquals("the descriptor's", 256, c.get("max_batch_size").intValue());
        assertEquals(Http.JSON.readTree("[{\"name\":\"image\",\"data_type\":\"TYPE_FP32\",\"dims\":[1,28,28]}]"),
                c.get("input"));
        assertEquals("TYPE_FP32", c.get("output").get(0).get("data_type").asText());
        assertEquals("the default: two CPU instances", 2, c.get("instance_group").get(0).get("count").intValue());
        assertFalse(c.has("dynamic_batching"));
        assertEquals("{\"all\":{}}", c.get("version_policy").toString());
        assertEquals(c, infer.get("/v2/models/fashion-mnist/versions/1.0.0/config").json());
        assertEquals(404, infer.get("/v2/models/nope/config").status());
        // Triton's model_warmup: the default sample ran before READY, not metered and not counted as inference
        assertEquals(Http.JSON.readTree("[{\"name\":\"tollgate_default_zero\",\"batch_size\":1,\"inputs\":{\"image\":"
                + "{\"data_type\":\"TYPE_FP32\",\"dims\":[1,28,28],\"zero_data\":true}},\"count\":10}]"),
                c.get("model_warmup"));
        assertTrue(Files.readString(tmp.resolve("appliance.log")).contains("model 'fashion-mnist' 1.0.0: warm-up"
                + " 'tollgate_default_zero' ran 20 times"));
        JsonNode stats = infer.get("/v2/models/fashion-mnist/stats").json().get("model_stats").get(0);
        assertEquals("warm-up runs are not inferences", 0, stats.get("inference_count").intValue());
        assertEquals(0, stats.get("execution_count").intValue());
        // the endpoint's warm-up (warmup.ms, issue 11) ran its synthetic requests through the HTTP pipeline before
        // ready, and none of them shows: no model of its own, no inference counted, nothing served
        String log = Files.readString(tmp.resolve("appliance.log"));
        assertTrue(log, log.matches("(?s).*endpoint warm-up: [1-9][0-9]* synthetic infer requests .*"));
        String metrics = admin.get("/metrics").body();
        assertFalse(metrics, metrics.contains("tollgate-warmup"));
        assertFalse(metrics, metrics.contains("tollgate_inference_requests_total{"));
        assertFalse(metrics, metrics.contains("check=\"endpoint\""));
        assertEquals(200, infer.post("/v2/models/fashion-mnist/infer", body(3)).status());

        writeOverride("{'max_batch_size':2,'dynamic_batching':{'max_queue_delay_microseconds':100},"
                + "'instance_group':[{'count':2}]}");
        long ms = await("max_batch_size 2 in /config",
                () -> infer.get("/v2/models/fashion-mnist/config").json().get("max_batch_size").intValue() == 2);
        assertTrue("applied within 5 s of the write, took " + ms + " ms", ms < 5_000);
        System.out.println("ModelConfigIT: conf/models/fashion-mnist.json applied " + ms + " ms after it was written");
        c = infer.get("/v2/models/fashion-mnist/config").json();
        assertEquals(100, c.get("dynamic_batching").get("max_queue_delay_microseconds").intValue());
        assertEquals(2, c.get("instance_group").get(0).get("count").intValue());
        r = infer.post("/v2/models/fashion-mnist/infer", body(3));
        assertEquals(r.body(), 400, r.status());
        assertTrue(r.body(), r.body().contains("takes at most 2 per request"));
        assertEquals(200, infer.post("/v2/models/fashion-mnist/infer", body(2)).status());

        writeOverride("{'max_batch_size': 1,");       // malformed: refused, the old stays
        await("the refusal in /admin/plugins", () -> admin.get("/admin/plugins").body().contains("config_error"));
        JsonNode plugin = admin.get("/admin/plugins").json().get(0);
        String why = plugin.get("config_error").asText();
        assertTrue(why, why.contains("fashion-mnist.json is refused") && why.contains("not valid JSON"));
        assertEquals(2, infer.get("/v2/models/fashion-mnist/config").json().get("max_batch_size").intValue());
        writeOverride("{'max_batch_sise': 1}");
        await("the typo named", () -> admin.get("/admin/plugins").body().contains("max_batch_sise"));
        assertEquals(2, infer.get("/v2/models/fashion-mnist/config").json().get("max_batch_size").intValue());
        assertTrue(appliance.tail(400), appliance.tail(400).contains("fashion-mnist.json is refused (field"
                + " 'max_batch_sise')"));

        // explicit model control is for the admin role
        Http anonymous = new Http(port);
        assertEquals(401, anonymous.post("/v2/repository/models/fashion-mnist/unload", "").status());
        assertEquals(401, anonymous.get("/v2/models/fashion-mnist/config").status());
        r = infer.post("/v2/repository/models/fashion-mnist/unload", "");
        assertEquals(r.body(), 403, r.status());
        assertEquals(403, infer.post("/v2/repository/models/fashion-mnist/load", "").status());
        assertEquals(403, infer.post("/v2/repository/index", "").status());
        assertEquals("nothing was unloaded", 200, infer.post("/v2/models/fashion-mnist/infer", body(1)).status());
    }

    @Test
    public void versionPolicyAndUnloadUnderTrafficThenLoad() throws Exception {
        Path v12 = tmp.resolve("fashion-mnist-1.2.0.jar");
        new PluginJar("fashion-mnist", "1.2.0").model("model.onnx", TestPlugins.exampleEntry("TOLLGATE-INF/model.onnx"))
                .maxBatchSize(256).writeTo(v12);
        ApplianceProcess.drop(v12, plugins);
        Process p = start();
        Http infer = new Http(port, inferKey);
        Http admin = new Http(port, adminKey);
        infer.await("/v2/models/fashion-mnist/versions/1.2.0/ready", 200, 60_000);
        assertEquals(List.of("fashion-mnist 1.0.0 READY", "fashion-mnist 1.2.0 READY"), index(admin));

        writeOverride("{'version_policy':{'latest':{'num_versions':1}}}");
        await("latest 1", () -> index(admin).get(0).contains("UNAVAILABLE"));
        assertEquals(List.of("fashion-mnist 1.0.0 UNAVAILABLE: not selected by the version policy (version_policy"
                + " latest 1)", "fashion-mnist 1.2.0 READY"), index(admin));
        Http.Response r = infer.post("/v2/models/fashion-mnist/versions/1.0.0/infer", body(1));
        assertEquals(r.body(), 404, r.status());
        assertTrue(r.body(), r.body().contains("not selected by the version policy"));
        assertEquals(503, infer.get("/v2/models/fashion-mnist/versions/1.0.0/ready").status());
        assertEquals("1.2.0", infer.post("/v2/models/fashion-mnist/infer", body(1)).json().get("model_version").asText());
        // as Triton: the version the policy does not select is unloaded, its ORT session closed and its memory
        // released; its plugin says why
        await("1.0.0 unloaded", () -> pluginOf(admin, "1.0.0").path("state").asText().equals("UNLOADED"));
        assertTrue(pluginOf(admin, "1.0.0").toString(), pluginOf(admin, "1.0.0").path("error").asText()
                .contains("not selected by the version policy (version_policy latest 1)"));
        await("1.0.0's session closed", () -> appliance.tail(400).lines().anyMatch(l -> l.contains(
                "model 'fashion-mnist' 1.0.0 from plugin") && l.endsWith(" closed (UNLOADED)")));
        await("only 1.2.0 resident on the accelerators", () -> resident(admin).equals(List.of("1.2.0")));

        writeOverride("{'version_policy':{'specific':{'versions':['1.0.0']}}}");
        // 1.0.0 loads again, then 1.2.0 unloads (it serves until then)
        await("specific 1.0.0", () -> index(admin).equals(List.of("fashion-mnist 1.0.0 READY", "fashion-mnist 1.2.0"
                + " UNAVAILABLE: not selected by the version policy (version_policy specific [1.0.0])")));
        assertEquals("1.0.0", infer.post("/v2/models/fashion-mnist/infer", body(1)).json().get("model_version").asText());
        assertEquals(404, infer.post("/v2/models/fashion-mnist/versions/1.2.0/infer", body(1)).status());

        writeOverride("{'version_policy':{'all':{}},'default_model_version':'1.0.0'}");
        await("all", () -> index(admin).stream().allMatch(s -> s.endsWith("READY")));
        assertEquals("default_model_version", "1.0.0",
                infer.post("/v2/models/fashion-mnist/infer", body(1)).json().get("model_version").asText());
        assertEquals(200, infer.post("/v2/models/fashion-mnist/versions/1.2.0/infer", body(1)).status());
        Files.delete(conf.resolve("models/fashion-mnist.json"));
        await("back to the newest", () -> "1.2.0".equals(infer.post("/v2/models/fashion-mnist/infer", body(1)).json()
                .path("model_version").asText()));

        // unload under concurrent traffic: every answer is 200 (admitted before) or 404 "unloaded" (after)
        AtomicBoolean running = new AtomicBoolean(true);
        AtomicBoolean unloadStarted = new AtomicBoolean();
        AtomicBoolean unloaded = new AtomicBoolean();
        List<String> bad = Collections.synchronizedList(new ArrayList<>());
        List<Integer> okBefore = Collections.synchronizedList(new ArrayList<>());
        List<Integer> refusedAfter = Collections.synchronizedList(new ArrayList<>());
        List<Thread> clients = new ArrayList<>();
        for (int t = 0; t < 4; t++) {
            Thread c = new Thread(() -> {
                while (running.get()) {
                    try {
                        boolean sentBefore = !unloadStarted.get();
                        boolean sentAfter = unloaded.get();
                        Http.Response a = infer.post("/v2/models/fashion-mnist/infer", body(4));
                        if (a.status() == 200 && !sentAfter) {
                            okBefore.add(1);       // admitted before (or while) the unload: served in full
                        } else if (a.status() == 404 && a.body().contains("is unloaded") && !sentBefore) {
                            refusedAfter.add(1);
                        } else {
                            bad.add((sentAfter ? "after: " : sentBefore ? "before: " : "during: ") + a.status() + " "
                                    + a.body());
                        }
                    } catch (Exception e) {
                        bad.add(e.toString());
                    }
                }
            }, "it-client-" + t);
            c.start();
            clients.add(c);
        }
        Thread.sleep(1_500);
        long t0 = System.nanoTime();
        unloadStarted.set(true);
        r = admin.post("/v2/repository/models/fashion-mnist/unload", "");
        unloaded.set(true);
        long unloadMs = (System.nanoTime() - t0) / 1_000_000;
        assertEquals(r.body(), 200, r.status());
        Thread.sleep(1_000);
        running.set(false);
        for (Thread c : clients) {
            c.join(60_000);
        }
        System.out.println("ModelConfigIT: unload under load: " + okBefore.size() + " served before, "
                + refusedAfter.size() + " refused after, " + bad.size() + " failed; the unload call took " + unloadMs
                + " ms");
        assertEquals("no request failed: " + bad.subList(0, Math.min(5, bad.size())), 0, bad.size());
        assertTrue("served before the unload: " + okBefore.size(), okBefore.size() > 10);
        assertTrue("refused after the unload: " + refusedAfter.size(), refusedAfter.size() > 10);
        await("index UNAVAILABLE", () -> index(admin).stream().allMatch(s -> s.contains("UNAVAILABLE: the model is"
                + " unloaded by an operator")));
        assertEquals(2, index(admin).size());
        assertFalse("not ready once unloaded", infer.get("/v2/models/fashion-mnist/ready").status() == 200);
        // installed but unloaded is not "not installed": as Triton (404 "has no available versions"), with how to load
        for (String path : List.of("/v2/models/fashion-mnist", "/v2/models/fashion-mnist/versions/1.0.0",
                "/v2/models/fashion-mnist/ready", "/v2/models/fashion-mnist/versions/1.2.0/ready",
                "/v2/models/fashion-mnist/config", "/v2/models/fashion-mnist/stats")) {
            Http.Response u = infer.get(path);
            assertEquals(path + ": " + u.body(), 404, u.status());
            assertTrue(path + ": " + u.body(), u.body().contains("model 'fashion-mnist' is unloaded: an operator"
                    + " unloaded it, so it has no available versions (POST /v2/repository/models/fashion-mnist/load"
                    + " serves it again)"));
        }
        assertTrue(infer.get("/v2/models/nope").body().contains("is not installed"));

        // the unload survives a restart
        int exit = appliance.stop(p, 60);
        assertEquals("a clean stop (143: SIGTERM)", 0, exit == 143 ? 0 : exit);
        assertTrue(Files.readString(data.resolve("repository/unloaded.json")).contains("\"fashion-mnist\""));
        p = start();
        Http infer2 = new Http(port, inferKey);
        Http admin2 = new Http(port, adminKey);
        r = infer2.post("/v2/models/fashion-mnist/infer", body(1));
        assertEquals(r.body(), 404, r.status());
        assertTrue(r.body(), r.body().contains("is unloaded"));
        assertTrue(index(admin2).toString(), index(admin2).stream().allMatch(s -> s.contains("UNAVAILABLE")));

        r = admin2.post("/v2/repository/models/fashion-mnist/load", "");
        assertEquals(r.body(), 200, r.status());
        assertEquals("load returns once it serves", 200, infer2.post("/v2/models/fashion-mnist/infer", body(1)).status());
        assertEquals(List.of("fashion-mnist 1.0.0 READY", "fashion-mnist 1.2.0 READY"), index(admin2));
        assertEquals(404, admin2.post("/v2/repository/models/nope/load", "").status());
    }
}
