package io.tollgate.endpoint.internal;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.tollgate.serving.ModelStatistics;
import io.tollgate.serving.ModelStatistics.BatchStatistics;
import io.tollgate.serving.ModelStatistics.Duration;
import io.tollgate.serving.ModelStatistics.InferStatistics;
import io.tollgate.endpoint.keys.ApiKeyFile;
import io.tollgate.endpoint.keys.ApiKeyRole;
import io.tollgate.endpoint.keys.NewApiKey;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.After;
import org.junit.Before;
import org.junit.Test;

/**
 * {@code /v2/models[/m[/versions/v]]/stats} against a registry with fixed statistics: Triton's statistics-extension
 * shape field by field, 404s, and the per-model series of {@code /metrics} made from the same numbers.
 */
public class StatsRoutesTest {
    private TestServer server;

    static final ModelStatistics ECHO = new ModelStatistics("echo", "1", 1_764_500_000_123L, 40, 7,
            new InferStatistics(new Duration(40, 4_000_000), new Duration(2, 300_000), new Duration(40, 1_500_000_000),
                    new Duration(7, 21_000), new Duration(7, 2_500_000_000L), new Duration(7, 35_000)),
            List.of(new BatchStatistics(8, new Duration(4, 12_000), new Duration(4, 2_000_000_000L),
                            new Duration(4, 20_000)),
                    new BatchStatistics(1, new Duration(3, 9_000), new Duration(3, 500_000_000),
                            new Duration(3, 15_000))));

    @Before
    public void setUp() {
        server = new TestServer(new TestConfig());
        server.registry.statistics.add(ECHO);
    }

    @After
    public void tearDown() throws Exception {
        server.close();
    }

    private JsonNode stats(String path) throws Exception {
        HttpResponse<String> r = server.get(path);
        assertEquals(r.body(), 200, r.statusCode());
        assertEquals("application/json", r.headers().firstValue("content-type").orElse(""));
        return TestServer.json(r);
    }

    private static void assertDuration(JsonNode d, long count, long ns) {
        assertEquals(d.toString(), 2, d.size());
        assertEquals(d.toString(), count, d.get("count").asLong());
        assertEquals(d.toString(), ns, d.get("ns").asLong());
    }

    @Test
    public void oneVersionInTritonsShapeFieldByField() throws Exception {
        JsonNode body = stats("/v2/models/echo/versions/1/stats");
        assertEquals(List.of("model_stats"), fields(body));
        assertEquals(1, body.get("model_stats").size());
        JsonNode m = body.get("model_stats").get(0);
        assertEquals(List.of("name", "version", "last_inference", "inference_count", "execution_count",
                "inference_stats", "batch_stats"), fields(m));
        assertEquals("echo", m.get("name").asText());
        assertEquals("1", m.get("version").asText());
        assertEquals(1_764_500_000_123L, m.get("last_inference").asLong());
        assertEquals(40, m.get("inference_count").asLong());
        assertEquals(7, m.get("execution_count").asLong());
        JsonNode i = m.get("inference_stats");
        assertEquals(List.of("success", "fail", "queue", "compute_input", "compute_infer", "compute_output",
                "cache_hit", "cache_miss"), fields(i));
        assertDuration(i.get("success"), 40, 4_000_000);
        assertDuration(i.get("fail"), 2, 300_000);
        assertDuration(i.get("queue"), 40, 1_500_000_000);
        assertDuration(i.get("compute_input"), 7, 21_000);
        assertDuration(i.get("compute_infer"), 7, 2_500_000_000L);
        assertDuration(i.get("compute_output"), 7, 35_000);
        assertDuration(i.get("cache_hit"), 0, 0);
        assertDuration(i.get("cache_miss"), 0, 0);
        JsonNode batches = m.get("batch_stats");
        assertEquals(2, batches.size());
        JsonNode b1 = batches.get(0);   // sorted by batch size
        assertEquals(List.of("batch_size", "compute_input", "compute_infer", "compute_output"), fields(b1));
        assertEquals(1, b1.get("batch_size").asInt());
        assertDuration(b1.get("compute_input"), 3, 9_000);
        assertDuration(b1.get("compute_infer"), 3, 500_000_000);
        assertDuration(b1.get("compute_output"), 3, 15_000);
        assertEquals(8, batches.get(1).get("batch_size").asInt());
        assertDuration(batches.get(1).get("compute_infer"), 4, 2_000_000_000L);
    }

    @Test
    public void everyModelAndEveryVersionOfOne() throws Exception {
        JsonNode all = stats("/v2/models/stats").get("model_stats");
        // every version the registry lists; those without statistics from serving are shown from their status
        assertEquals(4, all.size());
        assertEquals("echo", all.get(0).get("name").asText());
        assertEquals(40, all.get(0).get("inference_count").asLong());
        assertEquals("2", all.get(1).get("version").asText());
        assertEquals(0, all.get(1).get("inference_count").asLong());
        assertDuration(all.get(1).get("inference_stats").get("queue"), 0, 0);
        assertEquals(0, all.get(1).get("batch_stats").size());
        JsonNode echo = stats("/v2/models/echo/stats").get("model_stats");
        assertEquals(2, echo.size());
        assertEquals("1", echo.get(0).get("version").asText());
        assertEquals("2", echo.get(1).get("version").asText());
        assertEquals(405, server.send("POST", "/v2/models/echo/stats", "{}").statusCode());
        assertEquals(200, server.send("HEAD", "/v2/models/stats", null).statusCode());
    }

    @Test
    public void unknownModelOrVersionIs404() throws Exception {
        HttpResponse<String> r = server.get("/v2/models/nope/stats");
        assertEquals(r.body(), 404, r.statusCode());
        assertTrue(r.body(), TestServer.json(r).get("error").asText().contains("model 'nope' is not installed"));
        r = server.get("/v2/models/echo/versions/9/stats");
        assertEquals(r.body(), 404, r.statusCode());
        assertTrue(r.body(), TestServer.json(r).get("error").asText().contains("has no version '9'"));
    }

    @Test
    public void serverMetadataAdvertisesStatistics() throws Exception {
        assertTrue(stats("/v2").get("extensions").toString().contains("\"statistics\""));
    }

    @Test
    public void metricsHaveModelStatisticsAndProcessSeries() throws Exception {
        HttpResponse<String> r = server.get("/metrics");
        assertEquals(200, r.statusCode());
        String text = r.body();
        for (String line : List.of(
                "tollgate_model_queue_duration_seconds_total{model=\"echo\",version=\"1\"} 1.5\n",
                "tollgate_model_compute_infer_duration_seconds_total{model=\"echo\",version=\"1\"} 2.5\n",
                "tollgate_model_compute_input_duration_seconds_total{model=\"echo\",version=\"1\"} 2.1E-5\n",
                "tollgate_model_compute_output_duration_seconds_total{model=\"echo\",version=\"1\"} 3.5E-5\n",
                "tollgate_model_inferences_total{model=\"echo\",version=\"1\"} 40\n",
                "tollgate_model_failures_total{model=\"echo\",version=\"1\"} 2\n",
                "tollgate_model_executions_total{model=\"echo\",version=\"1\"} 7\n",
                "tollgate_model_batch_executions_total{model=\"echo\",version=\"1\",batch_size=\"1\"} 3\n",
                "tollgate_model_batch_executions_total{model=\"echo\",version=\"1\",batch_size=\"8\"} 4\n",
                "tollgate_model_queue_duration_seconds_total{model=\"echo\",version=\"2\"} 0.0\n",
                "tollgate_model_in_flight{model=\"echo\",version=\"1\"} 0\n",
                "# TYPE process_cpu_seconds_total counter\n",
                "# TYPE process_start_time_seconds gauge\n",
                "# TYPE process_open_fds gauge\n",
                "# TYPE process_max_fds gauge\n",
                "jvm_memory_bytes_used{area=\"heap\"} ",
                "jvm_memory_bytes_used{area=\"nonheap\"} ",
                "jvm_memory_bytes_max{area=\"heap\"} ",
                "# TYPE jvm_gc_collection_seconds summary\n",
                "jvm_gc_collection_seconds_count{gc=\"",
                "jvm_threads_current ",
                "jvm_threads_daemon ")) {
            assertTrue("no '" + line.trim() + "' in:\n" + text, text.contains(line));
        }
        if (java.nio.file.Files.isReadable(Path.of("/proc/self/status"))) {
            assertTrue(text, text.matches("(?s).*\nprocess_resident_memory_bytes [1-9][0-9]*\n.*"));
            assertTrue(text, text.matches("(?s).*\nprocess_virtual_memory_bytes [1-9][0-9]*\n.*"));
        }
        // statistics of a version the registry does not list get no series: the label set stays bounded
        server.registry.statistics.add(new ModelStatistics("ghost", "1", 0, 1, 1, ECHO.inferenceStats(), List.of()));
        assertFalse(server.get("/metrics").body().contains("ghost"));
        // every sample line is name{labels} value, and each name was declared by a # TYPE line
        java.util.Set<String> declared = new java.util.HashSet<>();
        for (String line : text.split("\n")) {
            if (line.startsWith("# TYPE ")) {
                declared.add(line.split(" ")[2]);
            } else if (!line.startsWith("#")) {
                assertTrue(line, line.matches("[a-zA-Z_:][a-zA-Z0-9_:]*(\\{[^}]*\\})? -?[0-9.E+-]+|.* \\+Inf|.* NaN"));
                String name = line.split("[{ ]")[0];
                assertTrue(line, declared.contains(name) || declared.contains(name.replaceAll("_(bucket|sum|count)$", "")));
            }
        }
    }

    @Test
    public void aKeyLimitedToModelsSeesOnlyThoseAndTwoTenantsAreLimitedApart() throws Exception {
        server.close();
        Path dir = Files.createTempDirectory("stats-keys");
        try {
            ApiKeyFile keys = ApiKeyFile.at(dir.resolve("api-keys.json"));
            NewApiKey camera = keys.add("line7", ApiKeyRole.INFER, List.of("classifier"), "camera");
            NewApiKey other = keys.add("line8", ApiKeyRole.INFER, List.of(), "");
            TestConfig c = new TestConfig();
            c.keysFile = dir.resolve("api-keys.json").toString();
            c.tenantLimits = "line7: rate=0.01 burst=1";
            server = new TestServer(c);
            server.registry.statistics.add(ECHO);
            JsonNode seen = TestServer.json(get("/v2/models/stats", camera));
            assertEquals(seen.toString(), 1, seen.get("model_stats").size());
            assertEquals("classifier", seen.get("model_stats").get(0).get("name").asText());
            assertEquals(403, get("/v2/models/echo/stats", camera).statusCode());
            assertEquals(401, server.get("/v2/models/stats").statusCode());
            assertEquals(4, TestServer.json(get("/v2/models/stats", other)).get("model_stats").size());
            // the noisy tenant is refused after its burst; the other tenant is not
            String body = "{\"inputs\":[{\"name\":\"probs\",\"datatype\":\"FP32\",\"shape\":[1,4],"
                    + "\"data\":[1,2,3,4]}]}";
            assertEquals(200, infer("classifier", body, camera).statusCode());
            HttpResponse<String> r = infer("classifier", body, camera);
            assertEquals(r.body(), 429, r.statusCode());
            assertEquals("100", r.headers().firstValue("retry-after").orElse(""));
            for (int i = 0; i < 10; i++) {
                assertEquals(200, infer("classifier", body, other).statusCode());
            }
        } finally {
            try (java.util.stream.Stream<Path> files = Files.list(dir)) {
                for (Path f : files.toList()) {
                    Files.delete(f);
                }
            }
            Files.delete(dir);
        }
    }

    private HttpResponse<String> get(String path, NewApiKey key) throws Exception {
        return server.client.send(HttpRequest.newBuilder(server.uri(path)).header("Authorization", "Bearer " + key.key())
                .GET().build(), HttpResponse.BodyHandlers.ofString());
    }

    private HttpResponse<String> infer(String model, String body, NewApiKey key) throws Exception {
        return server.client.send(HttpRequest.newBuilder(server.uri("/v2/models/" + model + "/infer"))
                .header("Authorization", "Bearer " + key.key()).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
    }

    private static List<String> fields(JsonNode n) {
        List<String> out = new java.util.ArrayList<>();
        n.fieldNames().forEachRemaining(out::add);
        return out;
    }
}
