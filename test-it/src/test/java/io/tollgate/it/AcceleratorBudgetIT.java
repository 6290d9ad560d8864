package io.tollgate.it;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.tollgate.tools.plugin.PluginJar;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.After;
import org.junit.Before;
import org.junit.Test;

/**
 * Issue 12 on the real distribution and the real CPU: three copies of the example model (packed under other names with
 * {@code bin/tollgate plugin pack}) where only two fit, by {@code memory.budget.cpu.mb} in one test and by
 * {@code max.resident.models} in the other. The least recently used model is evicted (Triton's UNAVAILABLE with
 * the reason), loads again on demand when a request for it arrives, and a loop over all three models answers every
 * request; /admin/accelerators, /admin/plugins and /metrics show it, and every usage record says {@code cpu}.
 */
public class AcceleratorBudgetIT {
    private static final Path FASHION = Paths.get("../plugins/fashion-mnist/src/main/model/model.onnx");
    private static final List<String> MODELS = List.of("fm-a", "fm-b", "fm-c");
    private static final int LOOPS = 10;

    private Path tmp;
    private ApplianceProcess appliance;

    @Before
    public void setUp() throws Exception {
        tmp = Files.createTempDirectory("tollgate-accel-it").toRealPath();
        appliance = new ApplianceProcess(tmp.resolve("appliance.log"));
    }

    @After
    public void tearDown() {
        appliance.killAll();
        ApplianceProcess.keepLogs(tmp, Path.of("target", "accelerator-budget-it-logs"));
        ApplianceProcess.deleteTree(tmp);
    }

    @Test
    public void aCpuMemoryBudgetForTwoOfThreeModelsEvictsTheLeastRecentlyUsedAndReloadsOnDemand() throws Exception {
        // each copy reserves 2 x its 941,719-byte file (1.8 MiB): 4 MiB holds two, not three
        long estimate = 2 * Files.size(FASHION);
        run("memory.budget.cpu.mb=4\nmax.resident.models=0\nmin.residency.ms=0\n", "evicted (memory budget)", 4L << 20, estimate);
    }

    @Test
    public void maxResidentModelsOfTwoEvictsTheLeastRecentlyUsedAndReloadsOnDemand() throws Exception {
        run("memory.budget.cpu.mb=0\nmax.resident.models=2\nmin.residency.ms=0\n", "evicted (max.resident.models)", -1,
                2 * Files.size(FASHION));
    }

    @Test
    public void aBadAcceleratorsConfigurationStopsTheStartNamingTheKey() throws Exception {
        Path conf = appliance.copyConf(tmp.resolve("conf"));
        Files.writeString(conf.resolve("io.tollgate.accelerators.cfg"), "precision=fp8\n", StandardCharsets.UTF_8,
                StandardOpenOption.APPEND);
        ApplianceProcess.Result r = appliance.tool("run", "--port", Integer.toString(TollgateExam.freePort()), "--conf",
                conf.toString(), "--data", tmp.resolve("data").toString(), "--plugins",
                Files.createDirectories(tmp.resolve("plugins")).toString());
        assertEquals(r.toString(), 12, r.exit());
        assertTrue(r.err(), r.err().contains("the accelerators did not start"));
        assertTrue(r.err(), r.err().contains("configuration io.tollgate.accelerators: 'precision' is 'fp8'; expected"
                + " fp32, fp16 or int8"));
    }

    @Test
    public void withTheDefaultMinimumResidencyAJustUsedModelIsNotEvictedAndTheOtherGets503WithRetryAfter()
            throws Exception {
        // no min.residency.ms here: the default (30 s, also in the detected profile); 4 MiB holds two of the three
        int port = start("memory.budget.cpu.mb=4\nmax.resident.models=0\n");
        Http http = new Http(port);
        appliance.awaitLogLine("", "cannot be loaded now", 30_000);
        Map<String, JsonNode> index = awaitIndex(http, 2, 30_000);
        String waiting = index.values().stream().filter(e -> "UNAVAILABLE".equals(e.path("state").asText()))
                .findFirst().orElseThrow(() -> new AssertionError("no UNAVAILABLE model in " + index)).path("name")
                .asText();
        java.net.http.HttpResponse<String> r = java.net.http.HttpClient.newHttpClient().send(
                java.net.http.HttpRequest.newBuilder(java.net.URI.create("http://127.0.0.1:" + port + "/v2/models/"
                        + waiting + "/infer")).header("Content-Type", "application/json")
                        .POST(java.net.http.HttpRequest.BodyPublishers.ofString(
                                ApplianceProcess.fashionMnistBody("r-" + waiting, 1, 0.5f))).build(),
                java.net.http.HttpResponse.BodyHandlers.ofString());
        assertEquals(r.body(), 503, r.statusCode());
        long retryAfter = Long.parseLong(r.headers().firstValue("Retry-After").orElse("-1"));
        assertTrue("Retry-After " + retryAfter, retryAfter >= 1 && retryAfter <= 30);
        assertTrue(r.body(), r.body().contains("cannot be loaded now") && r.body().contains("min.residency.ms=30000"));
        // nothing was evicted for it: the two resident models stay READY, and so do their answers
        Map<String, JsonNode> after = awaitIndex(http, 2, 5_000);
        assertEquals(after.toString(), "UNAVAILABLE", after.get(waiting).path("state").asText());
        String metadata = http.get("/v2/models/" + waiting).body();
        assertTrue(metadata, metadata.contains("the next infer request for it"));
        String metrics = http.get("/metrics").body();
        assertTrue(metrics, metrics.contains("tollgate_accelerator_evictions_total 0\n"));
    }

    private int start(String settings) throws Exception {
        Path plugins = Files.createDirectories(tmp.resolve("plugins"));
        Path packed = Files.createDirectories(tmp.resolve("packed"));
        for (String name : MODELS) {
            Path jar = packed.resolve(PluginJar.symbolicName(name) + ".jar");
            ApplianceProcess.Result r = appliance.tool("plugin", "pack", "--model", FASHION.toString(), "--name", name,
                    "--version", "1.0.0", "--output", jar.toString());
            assertEquals(r.toString(), 0, r.exit());
            ApplianceProcess.drop(jar, plugins);
        }
        Path conf = appliance.copyConf(tmp.resolve("conf"));
        Files.writeString(conf.resolve("io.tollgate.accelerators.cfg"), settings, StandardCharsets.UTF_8,
                StandardOpenOption.APPEND);
        Path data = tmp.resolve("data");
        int port = TollgateExam.freePort();
        Process p = appliance.run(port, data, plugins, conf);
        appliance.awaitReady(p, port, 120_000);
        this.process = p;
        return port;
    }

    private Process process;

    private void run(String settings, String reason, long budget, long estimate) throws Exception {
        int port = start(settings);
        Process p = process;
        Path data = tmp.resolve("data");
        Http http = new Http(port);

        // the three loaded in turn; the third to be placed evicted the least recently used one
        appliance.awaitLogLine("", reason, 30_000);
        Map<String, JsonNode> index = awaitIndex(http, 2, 30_000);
        JsonNode evicted = index.values().stream().filter(e -> "UNAVAILABLE".equals(e.path("state").asText()))
                .findFirst().orElseThrow(() -> new AssertionError("no UNAVAILABLE model in " + index));
        assertTrue(evicted.toString(), evicted.path("reason").asText().startsWith(reason));

        JsonNode accelerators = http.get("/admin/accelerators").json();
        JsonNode cpu = accelerators.get(accelerators.size() - 1);
        assertEquals("cpu", cpu.path("id").asText());
        assertEquals(2, cpu.path("models").size());
        assertEquals(2 * estimate, cpu.path("used_bytes").asLong());
        if (budget > 0) {
            assertEquals(budget, cpu.path("budget_bytes").asLong());
            assertEquals(budget - 2 * estimate, cpu.path("free_bytes").asLong());
        }

        // round robin over all three: every request is served; each one for the evicted model loads it again
        List<String> failures = new ArrayList<>();
        int served = 0;
        for (int i = 0; i < LOOPS; i++) {
            for (String name : MODELS) {
                Http.Response r = http.post("/v2/models/" + name + "/infer",
                        ApplianceProcess.fashionMnistBody("r" + i + "-" + name, 1, 0.5f));
                if (r.status() == 200 && name.equals(r.json().path("model_name").asText())) {
                    served++;
                } else {
                    failures.add(name + " " + r.status() + " " + r.body());
                }
            }
        }
        assertEquals(failures.toString(), List.of(), failures);
        assertEquals(LOOPS * MODELS.size(), served);
        // with room for two, a round robin over three evicts at every request after the first two
        String log = Files.readString(tmp.resolve("appliance.log"));
        long reloads = log.lines().filter(l -> l.contains("a request for evicted model")).count();
        assertTrue("reloads on demand: " + reloads, reloads >= LOOPS * MODELS.size() - 2);

        Map<String, JsonNode> after = awaitIndex(http, 2, 30_000);
        assertEquals("fm-c was asked last: it is READY", "READY", after.get("fm-c").path("state").asText());
        assertEquals("fm-a is the least recently used: evicted", "UNAVAILABLE", after.get("fm-a").path("state").asText());

        JsonNode pluginList = http.get("/admin/plugins").json();
        int placed = 0;
        for (JsonNode plugin : pluginList) {
            if ("READY".equals(plugin.path("state").asText())) {
                assertEquals(plugin.toString(), "cpu", plugin.path("placement").path("accelerator").asText());
                // the detected x86-cpu profile's placement.order is cpu: its first choice, no fallback
                assertEquals(plugin.toString(), "", plugin.path("placement").path("reason").asText());
                assertFalse(plugin.toString(), plugin.path("placement").path("fallback").asBoolean());
                placed++;
            } else if ("fm-a".equals(plugin.path("model").asText())) {
                assertEquals(plugin.toString(), "UNLOADED", plugin.path("state").asText());
                assertEquals(plugin.toString(), reason, plugin.path("error").asText());
            }
        }
        assertEquals(pluginList.toString(), 2, placed);

        String metrics = http.get("/metrics").body();
        assertTrue(metrics, metrics.contains("tollgate_accelerator_models{accelerator=\"cpu\",kind=\"cpu\"} 2\n"));
        // every evicted instance placed again counts (the log counts requests that started a load: close, not equal)
        long reloadsTotal = counter(metrics, "tollgate_accelerator_reloads_total");
        assertTrue(metrics, reloadsTotal >= LOOPS * MODELS.size() - 2);
        assertTrue(metrics, counter(metrics, "tollgate_accelerator_evictions_total") >= reloadsTotal);
        // x86-cpu (detected here) places on the cpu first: no fallback (TensorRtFallbackIT forces x86-nvidia for one)
        assertTrue(metrics, metrics.contains("tollgate_accelerator_fallback_models{accelerator=\"cpu\",kind=\"cpu\"} 0\n"));
        assertTrue(metrics, metrics.contains("tollgate_accelerator_memory_used_bytes{accelerator=\"cpu\",kind=\"cpu\"} "
                + 2 * estimate + "\n"));
        if (budget > 0) {
            assertTrue(metrics, metrics.contains("tollgate_accelerator_budget_bytes{accelerator=\"cpu\",kind=\"cpu\"} "
                    + budget + "\n"));
        }

        assertEquals("a clean stop (SIGTERM)", 143, appliance.stop(p, 30));
        List<JsonNode> records = appliance.exportAll(data);
        int usage = 0;
        for (JsonNode rec : records) {
            if (MODELS.contains(rec.path("model").asText())) {
                assertEquals(rec.toString(), "cpu", rec.path("accelerator").asText());
                usage++;
            }
        }
        assertEquals(LOOPS * MODELS.size(), usage);
    }

    /** The repository index by model name, once {@code ready} models are READY and the others UNAVAILABLE. */
    private static Map<String, JsonNode> awaitIndex(Http http, int ready, long timeoutMs) throws Exception {
        long end = System.currentTimeMillis() + timeoutMs;
        Map<String, JsonNode> byName = new TreeMap<>();
        while (System.currentTimeMillis() < end) {
            byName.clear();
            for (JsonNode e : http.post("/v2/repository/index", "{}").json()) {
                byName.put(e.path("name").asText(), e);
            }
            long r = byName.values().stream().filter(e -> "READY".equals(e.path("state").asText())).count();
            long u = byName.values().stream().filter(e -> "UNAVAILABLE".equals(e.path("state").asText())).count();
            if (byName.keySet().containsAll(MODELS) && r == ready && u == MODELS.size() - ready) {
                return byName;
            }
            Thread.sleep(100);
        }
        throw new AssertionError("the index did not settle at " + ready + " READY: " + byName);
    }

    private static long counter(String metrics, String name) {
        return metrics.lines().filter(l -> l.startsWith(name + " ")).mapToLong(l -> Long.parseLong(l.substring(
                name.length() + 1).strip())).findFirst().orElseThrow(() -> new AssertionError("no " + name));
    }
}
