package io.tollgate.endpoint.internal;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.tollgate.licensing.Entitlements;
import io.tollgate.metering.JournalStatus;
import io.tollgate.metering.UsageJournal;
import io.tollgate.sync.SyncStatus;
import java.lang.reflect.Proxy;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.Test;

/**
 * {@code docs/grafana/tollgate.json} is a dashboard model Grafana can import, and every metric it queries is one that
 * {@code /metrics} declares (with the journal, the sync uplink and the licenses bound, statistics from serving and a
 * tenant limit in use), so the dashboard cannot silently lose a series to a rename.
 */
public class GrafanaDashboardTest {
    static final Path DASHBOARD = Path.of("..", "..", "docs", "grafana", "tollgate.json");
    private static final Pattern METRIC = Pattern.compile("\\b((?:tollgate|jvm|process)_[a-zA-Z0-9_:]+)");

    @Test
    public void everyQueriedMetricIsOneTheEndpointEmits() throws Exception {
        JsonNode d = TestServer.JSON.readTree(Files.readString(DASHBOARD));
        assertEquals("Tollgate appliance", d.get("title").asText());
        assertTrue(d.get("schemaVersion").asInt() >= 30);
        assertTrue(d.get("panels").isArray());
        Set<String> queried = new TreeSet<>();
        List<JsonNode> exprs = new java.util.ArrayList<>();
        int targets = 0;
        Set<Integer> ids = new TreeSet<>();
        for (JsonNode p : d.get("panels")) {
            assertTrue(p.toString(), ids.add(p.get("id").asInt()));
            assertTrue(p.toString(), p.get("gridPos").has("w") && p.get("gridPos").has("h"));
            for (JsonNode t : p.path("targets")) {
                targets++;
                assertTrue(t.toString(), t.has("refId"));
                Matcher m = METRIC.matcher(t.get("expr").asText());
                while (m.find()) {
                    queried.add(m.group(1));
                }
                exprs.add(t);
            }
        }
        for (JsonNode v : d.get("templating").get("list")) {
            Matcher m = METRIC.matcher(v.path("definition").asText());
            while (m.find()) {
                queried.add(m.group(1));
            }
        }
        assertTrue("targets: " + targets, targets >= 20);
        java.util.Map<String, Set<String>> labels = emittedLabels();
        Set<String> emitted = labels.keySet();
        Set<String> missing = new TreeSet<>(queried);
        missing.removeAll(emitted);
        assertTrue("the dashboard queries metrics /metrics does not emit: " + missing + "\nemitted: " + emitted,
                missing.isEmpty());
        // every label a query groups by or a legend shows is one of its metrics' labels
        for (JsonNode t : exprs) {
            String expr = t.get("expr").asText();
            Set<String> has = new TreeSet<>(Set.of("le"));
            Matcher m = METRIC.matcher(expr);
            while (m.find()) {
                has.addAll(labels.getOrDefault(m.group(1), Set.of()));
            }
            Set<String> used = new TreeSet<>();
            Matcher by = Pattern.compile("by \\(([^)]*)\\)").matcher(expr);
            while (by.find()) {
                for (String l : by.group(1).split(",")) {
                    used.add(l.trim());
                }
            }
            Matcher legend = Pattern.compile("\\{\\{\\s*(\\w+)\\s*}}").matcher(t.path("legendFormat").asText());
            while (legend.find()) {
                used.add(legend.group(1));
            }
            used.removeAll(has);
            assertTrue(expr + " uses labels its metrics do not have: " + used, used.isEmpty());
        }
        // the series the brief asks the dashboard for are there
        for (String needed : List.of("tollgate_inference_requests_total", "tollgate_inference_request_duration_seconds_bucket",
                "tollgate_model_queue_duration_seconds_total", "tollgate_model_compute_infer_duration_seconds_total",
                "tollgate_model_batch_executions_total", "tollgate_model_in_flight", "tollgate_usage_released_seq",
                "tollgate_sync_backlog_records", "tollgate_license_state", "jvm_memory_bytes_used",
                "jvm_gc_collection_seconds_sum", "jvm_threads_current", "process_open_fds",
                "tollgate_tenant_requests_refused_total")) {
            assertTrue(needed, queried.contains(needed));
        }
    }

    /**
     * The sample names /metrics declares by {@code # TYPE} (with the _bucket/_sum/_count of histograms and summaries),
     * each with the label names its samples carry.
     */
    static java.util.Map<String, Set<String>> emittedLabels() throws Exception {
        TestConfig c = new TestConfig();
        c.tenantLimits = "default: rate=1000 concurrent=100";
        try (TestServer server = new TestServer(c)) {
            server.registry.statistics.add(StatsRoutesTest.ECHO);
            server.endpoint.bindJournal((UsageJournal) Proxy.newProxyInstance(UsageJournal.class.getClassLoader(),
                    new Class<?>[] {UsageJournal.class}, (proxy, method, args) -> "status".equals(method.getName())
                            ? new JournalStatus("dev", 1, 10, 8, 5, 1000, 100000, false, false, false) : null));
            server.endpoint.bindSync(() -> new SyncStatus(SyncStatus.LinkState.values()[0], "tcp://broker:1883", 10,
                    5, 5, 1000, 1, 1, 100, 5, 1, 1, "", 0));
            server.endpoint.bindEntitlements((Entitlements) Proxy.newProxyInstance(Entitlements.class.getClassLoader(),
                    new Class<?>[] {Entitlements.class}, (proxy, method, args) ->
                            List.class.equals(method.getReturnType()) ? List.of() : null));
            assertEquals(200, server.post("/v2/models/echo/infer", "{\"inputs\":[{\"name\":\"x\",\"datatype\":"
                    + "\"FP32\",\"shape\":[1,4],\"data\":[1,2,3,4]}]}").statusCode());
            String text = server.get("/metrics").body();
            java.util.Map<String, Set<String>> names = new java.util.TreeMap<>();
            for (String line : text.split("\n")) {
                if (line.startsWith("# TYPE ")) {
                    String[] f = line.split(" ");
                    names.putIfAbsent(f[2], new TreeSet<>());
                    if ("histogram".equals(f[3])) {
                        names.putIfAbsent(f[2] + "_bucket", new TreeSet<>());
                    }
                    if ("histogram".equals(f[3]) || "summary".equals(f[3])) {
                        names.putIfAbsent(f[2] + "_sum", new TreeSet<>());
                        names.putIfAbsent(f[2] + "_count", new TreeSet<>());
                    }
                } else if (!line.startsWith("#") && line.contains("{")) {
                    String name = line.substring(0, line.indexOf('{'));
                    Matcher l = Pattern.compile("(\\w+)=\"").matcher(line.substring(line.indexOf('{'), line.indexOf('}')));
                    while (l.find()) {
                        names.computeIfAbsent(name, n -> new TreeSet<>()).add(l.group(1));
                    }
                }
            }
            // license series carry license, plugin and state labels, but only with licenses installed
            for (String n : List.of("tollgate_license_quota_remaining", "tollgate_license_expires_seconds")) {
                names.get(n).addAll(List.of("license", "plugin"));
            }
            names.get("tollgate_license_state").addAll(List.of("license", "state"));
            return names;
        }
    }
}
