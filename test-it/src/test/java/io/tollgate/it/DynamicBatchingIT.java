package io.tollgate.it;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.tollgate.tools.plugin.PluginJar;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.junit.After;
import org.junit.Before;
import org.junit.Test;

/**
 * Issue 11, dynamic batching on the real distribution ({@code bin/tollgate run}): fashion-mnist packed with
 * {@code dynamic_batching} (preferred 8/16, 20 ms delay) and two instances in its descriptor, 16 concurrent clients
 * sending one image per request (seeded random pixels: what matters is that each request's rows come back as its own). Every batched answer must equal the answer the same image gets
 * when it runs alone afterwards (one client, one request at a time), the journal must hold one usage record per
 * request id with quantity 1, and an invalid {@code parameters.priority} is a 400 saying the rule.
 */
public class DynamicBatchingIT {
    private static final int CLIENTS = 16;
    private static final int PER_CLIENT = 20;

    private Path tmp;
    private ApplianceProcess appliance;

    @Before
    public void setUp() throws Exception {
        tmp = Files.createTempDirectory("tollgate-batching-it");
        appliance = new ApplianceProcess(tmp.resolve("appliance.log"));
    }

    @After
    public void tearDown() {
        if (appliance != null) {
            appliance.killAll();
        }
        if (tmp != null) {
            ApplianceProcess.keepLogs(tmp, Path.of("target", "batching-it-logs"));
            ApplianceProcess.deleteTree(tmp);
        }
    }

    @Test
    public void concurrentRequestsAreBatchedAndEachGetsItsOwnAnswerAndRecord() throws Exception {
        Path plugins = Files.createDirectories(tmp.resolve("plugins"));
        Path jar = tmp.resolve("fashion-mnist-1.0.0.jar");
        PluginJar plugin = new PluginJar("fashion-mnist", "1.0.0")
                .model("model.onnx", TestPlugins.exampleEntry("TOLLGATE-INF/model.onnx"))
                .labels(new String(TestPlugins.exampleEntry("TOLLGATE-INF/labels.txt"), StandardCharsets.UTF_8)
                        .lines().toList())
                .maxBatchSize(256);
        ObjectNode descriptor = (ObjectNode) Http.JSON.readTree(plugin.descriptor());
        ObjectNode batching = descriptor.putObject("dynamic_batching");
        batching.putArray("preferred_batch_size").add(8).add(16);
        batching.put("max_queue_delay_microseconds", 20_000);
        descriptor.putArray("instance_group").addObject().put("count", 2).put("kind", "KIND_CPU");
        plugin.descriptorText(Http.JSON.writeValueAsString(descriptor)).writeTo(jar);
        TestVendor.get().sign(jar);
        Files.copy(jar, plugins.resolve(jar.getFileName()));

        Path data = tmp.resolve("data");
        int port = TollgateExam.freePort();
        // DEBUG for serving: one line per engine run ("engine run of N requests"), so the test sees the batches
        Process p = appliance.run(port, data, plugins, null, Map.of("TOLLGATE_JAVA_OPTS",
                ApplianceProcess.JAVA_OPTS + " -Dtollgate.log.level.serving=debug"));
        appliance.awaitReady(p, port, 90_000);
        Http http = new Http(port);
        Http.Response config = http.get("/v2/models/fashion-mnist/config");
        if (config.status() == 200) {   // the /config route (issue 11) is another change; when present, it says so
            assertEquals(config.body(), 20_000,
                    config.json().path("dynamic_batching").path("max_queue_delay_microseconds").asLong());
        }

        float[][] images = new float[CLIENTS * PER_CLIENT][784];
        java.util.Random random = new java.util.Random(11);
        for (float[] image : images) {
            for (int i = 0; i < image.length; i++) {
                image[i] = random.nextInt(256) / 255f;
            }
        }
        Map<String, Integer> imageOf = new ConcurrentHashMap<>();
        Map<String, JsonNode> batched = new ConcurrentHashMap<>();
        List<String> failures = Collections.synchronizedList(new ArrayList<>());
        List<Thread> clients = new ArrayList<>();
        for (int c = 0; c < CLIENTS; c++) {
            int client = c;
            Thread t = new Thread(() -> {
                Http own = new Http(port);
                for (int i = 0; i < PER_CLIENT; i++) {
                    int image = client * PER_CLIENT + i;
                    String id = "cam-" + client + "-" + i;
                    imageOf.put(id, image);
                    try {
                        Http.Response r = own.post("/v2/models/fashion-mnist/infer", body(id, images, image));
                        if (r.status() != 200) {
                            failures.add(id + ": " + r.status() + " " + r.body());
                        } else {
                            batched.put(id, r.json().path("outputs").get(0).path("data"));
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
        assertEquals(CLIENTS * PER_CLIENT, batched.size());

        // batching happened: fewer engine runs than requests, some of several requests
        List<Integer> runs = new ArrayList<>();
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("engine run of (\\d+) requests")
                .matcher(Files.readString(tmp.resolve("appliance.log")));
        while (m.find()) {
            runs.add(Integer.parseInt(m.group(1)));
        }
        assertEquals("requests in the engine runs logged", CLIENTS * PER_CLIENT,
                runs.stream().mapToInt(Integer::intValue).sum());
        assertTrue("engine runs " + runs.size() + " for " + CLIENTS * PER_CLIENT + " requests",
                runs.size() < CLIENTS * PER_CLIENT);
        assertTrue("a run of several requests: " + runs, runs.stream().anyMatch(n -> n > 1));
        System.out.println("DynamicBatchingIT: " + CLIENTS * PER_CLIENT + " requests in " + runs.size()
                + " engine runs, sizes " + runs);

        // each answer equals the same image run alone (one request at a time: batches of one)
        for (Map.Entry<String, JsonNode> b : batched.entrySet()) {
            int image = imageOf.get(b.getKey());
            Http.Response alone = http.post("/v2/models/fashion-mnist/infer", body("alone-" + image, images, image));
            assertEquals(alone.body(), 200, alone.status());
            JsonNode expected = alone.json().path("outputs").get(0).path("data");
            assertEquals(b.getKey() + " (image " + image + "): batched answer differs from its run alone", expected,
                    b.getValue());
        }

        Http.Response bad = http.post("/v2/models/fashion-mnist/infer", body("bad-priority", images, 0)
                .replaceFirst("\\{", "{\"parameters\":{\"priority\":\"high\"},"));
        assertEquals(bad.body(), 400, bad.status());
        assertTrue(bad.body(), bad.body().contains("parameters.priority"));

        Http.Response stats = http.get("/v2/models/fashion-mnist/stats");
        if (stats.status() == 200) {   // the /stats route is another change; BatchingCorrectnessTest checks the counts
            JsonNode s = stats.json().path("model_stats").get(0);
            assertTrue(stats.body(), s.path("execution_count").asLong() < s.path("inference_count").asLong());
        }

        int exit = appliance.stop(p, 60);
        assertTrue("exit code after SIGTERM is 0 or 143, not " + exit, exit == 0 || exit == 143);
        Map<String, Long> records = new HashMap<>();
        for (JsonNode r : appliance.exportAll(data)) {
            if ("usage".equals(r.path("kind").asText())) {
                String id = r.path("request_id").asText();
                assertEquals("request " + id + " has two usage records", null,
                        records.put(id, r.path("quantity").asLong()));
            }
        }
        for (String id : batched.keySet()) {
            assertEquals("usage record of " + id, Long.valueOf(1), records.get(id));
        }
        assertEquals("one record per request: " + CLIENTS * PER_CLIENT + " batched, " + batched.size()
                + " alone, 0 refused", 2 * batched.size(), records.size());
    }

    private static String body(String id, float[][] images, int image) {
        float[] pixels = images[image];
        StringBuilder b = new StringBuilder(pixels.length * 8 + 200).append("{\"id\":\"").append(id)
                .append("\",\"inputs\":[{\"name\":\"image\",\"datatype\":\"FP32\",\"shape\":[1,1,28,28],\"data\":[");
        for (int i = 0; i < pixels.length; i++) {
            b.append(i == 0 ? "" : ",").append(pixels[i]);
        }
        return b.append("]}]}").toString();
    }
}
