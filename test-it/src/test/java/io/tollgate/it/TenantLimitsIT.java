package io.tollgate.it;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.After;
import org.junit.Before;
import org.junit.Test;

/**
 * Issue 11, "per-tenant admission" and "statistics", on the built distribution with the real Fashion-MNIST plugin:
 * two keys of two tenants, the noisy one with a low rate limit set in {@code conf/io.tollgate.endpoint.cfg}; the noisy
 * one gets 429 + Retry-After while every request of the other succeeds; {@code /v2/models/fashion-mnist/stats} counts
 * the requests served, and {@code /metrics} has the tenant, model statistics and JVM/process series.
 */
public class TenantLimitsIT {
    private Path tmp;
    private Path conf;
    private ApplianceProcess appliance;
    private final HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(5)).build();

    @Before
    public void setUp() throws IOException {
        tmp = Files.createTempDirectory("tollgate-limits-it");
        appliance = new ApplianceProcess(tmp.resolve("appliance.log"));
        appliance.copyExamplePlugin(tmp.resolve("plugins"));
        conf = appliance.copyConf(tmp.resolve("conf"));   // the distribution's own, in a folder of this test's
    }

    @After
    public void tearDown() {
        appliance.killAll();
        ApplianceProcess.keepLogs(tmp, Path.of("target", "tenant-limits-it-logs"));
        ApplianceProcess.deleteTree(tmp);
    }

    private String key(String tenant, String role) throws Exception {
        ApplianceProcess.Result r = appliance.tool("keys", "add", "--tenant", tenant, "--role", role, "--conf",
                conf.toString());
        assertEquals(r.err(), 0, r.exit());
        return r.out().trim();
    }

    private HttpResponse<String> send(String url, String body, String key) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(60))
                .header("Authorization", "Bearer " + key);
        if (body == null) {
            b.GET();
        } else {
            b.header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body));
        }
        return client.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    @Test
    public void aNoisyTenantIsLimitedAndTheOtherIsServed() throws Exception {
        String noisy = key("noisy", "infer");
        String quiet = key("quiet", "infer");
        String metrics = key("ops", "metrics");
        // one request per 10 s with a burst of 3 for the noisy station; no limit for anyone else
        Path cfg = conf.resolve("io.tollgate.endpoint.cfg");
        String shipped = Files.readString(cfg).replaceAll("(?m)^tenant\\.limits=.*\n", "");
        Files.writeString(cfg, shipped + "\ntenant.limits=noisy: rate=0.1 burst=3\n");
        int port = TollgateExam.freePort();
        Process p = appliance.run(port, tmp.resolve("data"), tmp.resolve("plugins"), conf,
                Map.of("TOLLGATE_JAVA_OPTS", ApplianceProcess.JAVA_OPTS));
        appliance.awaitReady(p, port, 90_000);
        String base = "http://127.0.0.1:" + port;
        String infer = base + "/v2/models/fashion-mnist/infer";

        JsonNode before = Http.JSON.readTree(send(base + "/v2/models/fashion-mnist/stats", null, quiet).body());
        long countBefore = before.get("model_stats").get(0).get("inference_count").asLong();

        List<HttpResponse<String>> noisyAnswers = new ArrayList<>();
        int quietOk = 0;
        int n = 20;
        for (int i = 0; i < n; i++) {
            noisyAnswers.add(send(infer, ApplianceProcess.fashionMnistBody("noisy-" + i, 1, 0.5f), noisy));
            HttpResponse<String> q = send(infer, ApplianceProcess.fashionMnistBody("quiet-" + i, 1, 0.5f), quiet);
            assertEquals(q.body(), 200, q.statusCode());
            quietOk++;
        }
        long noisyOk = noisyAnswers.stream().filter(r -> r.statusCode() == 200).count();
        List<HttpResponse<String>> limited = noisyAnswers.stream().filter(r -> r.statusCode() == 429).toList();
        assertEquals("every noisy request is served or refused with 429", n, noisyOk + limited.size());
        assertTrue("noisy served " + noisyOk + " (burst 3, at most one more token in the run)", noisyOk >= 3
                && noisyOk <= 5);
        HttpResponse<String> first = limited.get(0);
        long retryAfter = Long.parseLong(first.headers().firstValue("Retry-After").orElse("-1"));
        assertTrue("Retry-After " + retryAfter, retryAfter >= 1 && retryAfter <= 10);
        assertTrue(first.body(), Http.JSON.readTree(first.body()).get("error").asText()
                .contains("tenant 'noisy' is over its request rate limit (0.1 requests per second, burst 3)"));
        assertEquals(n, quietOk);

        // statistics: every request served since the last look is counted (Triton's statistics extension)
        HttpResponse<String> s = send(base + "/v2/models/fashion-mnist/stats", null, quiet);
        assertEquals(s.body(), 200, s.statusCode());
        JsonNode stat = Http.JSON.readTree(s.body()).get("model_stats").get(0);
        assertEquals("fashion-mnist", stat.get("name").asText());
        assertEquals("1.0.0", stat.get("version").asText());
        assertEquals(s.body(), countBefore + quietOk + noisyOk, stat.get("inference_count").asLong());
        // the serving layer's own timings (dynamic batching, H4): every success was queued and ran in an engine run
        JsonNode is = stat.get("inference_stats");
        assertEquals(s.body(), stat.get("inference_count").asLong(), is.get("success").get("count").asLong());
        assertTrue(s.body(), is.get("success").get("ns").asLong() > 0);
        assertEquals(s.body(), stat.get("inference_count").asLong(), is.get("queue").get("count").asLong());
        long runs = stat.get("execution_count").asLong();
        assertTrue(s.body(), runs >= 1 && runs <= stat.get("inference_count").asLong());
        assertTrue(s.body(), is.get("compute_infer").get("ns").asLong() > 0);
        assertTrue(s.body(), stat.get("last_inference").asLong() > System.currentTimeMillis() - 600_000);
        long batchRuns = 0;
        for (JsonNode b : stat.get("batch_stats")) {
            assertTrue(s.body(), b.get("batch_size").asInt() >= 1);
            batchRuns += b.get("compute_infer").get("count").asLong();
        }
        assertEquals(s.body(), runs, batchRuns);
        assertEquals(404, send(base + "/v2/models/nope/stats", null, quiet).statusCode());
        JsonNode server = Http.JSON.readTree(send(base + "/v2", null, quiet).body());
        assertTrue(server.toString(), server.get("extensions").toString().contains("\"statistics\""));

        String text = send(base + "/metrics", null, metrics).body();
        for (String line : List.of(
                "tollgate_tenant_requests_refused_total{tenant=\"noisy\",limit=\"rate\"} " + limited.size() + "\n",
                "tollgate_inference_requests_total{model=\"fashion-mnist\",outcome=\"rate_limited\"} " + limited.size(),
                "tollgate_model_queue_duration_seconds_total{model=\"fashion-mnist\",version=\"1.0.0\"} ",
                "tollgate_model_compute_infer_duration_seconds_total{model=\"fashion-mnist\",version=\"1.0.0\"} ",
                "tollgate_model_executions_total{model=\"fashion-mnist\",version=\"1.0.0\"} " + runs + "\n",
                "tollgate_model_batch_executions_total{model=\"fashion-mnist\",version=\"1.0.0\",batch_size=\"1\"} ",
                "tollgate_model_in_flight{model=\"fashion-mnist\",version=\"1.0.0\"} ",
                "process_cpu_seconds_total ", "process_start_time_seconds ", "process_open_fds ", "process_max_fds ",
                "jvm_memory_bytes_used{area=\"heap\"} ", "jvm_gc_collection_seconds_count{gc=\"",
                "jvm_threads_current ")) {
            assertTrue("no '" + line.trim() + "' in /metrics:\n" + text, text.contains(line));
        }
        assertTrue(text, !text.contains("tenant=\"quiet\""));   // an unlimited tenant gets no series
    }
}
