package io.tollgate.endpoint.internal;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.Map;
import org.junit.After;
import org.junit.Test;

/**
 * Per-tenant limits through the real endpoint (protected mode: loopback callers are tenant {@code default}): 429 with
 * Retry-After and a message naming the limit, counted in {@code /metrics}; invalid limits refuse activation.
 */
public class TenantAdmissionTest {
    private static final String BODY = "{\"inputs\":[{\"name\":\"x\",\"datatype\":\"FP32\",\"shape\":[1,4],"
            + "\"data\":[1,2,3,4]}]}";
    private TestServer server;

    @After
    public void tearDown() throws Exception {
        if (server != null) {
            server.close();
        }
    }

    @Test
    public void overTheRateIs429WithRetryAfter() throws Exception {
        TestConfig c = new TestConfig();
        c.tenantLimits = "default: rate=0.2 burst=2";
        server = new TestServer(c);
        assertEquals(200, server.post("/v2/models/echo/infer", BODY).statusCode());
        assertEquals(200, server.post("/v2/models/echo/infer", BODY).statusCode());
        HttpResponse<String> r = server.post("/v2/models/echo/infer", BODY);
        assertEquals(r.body(), 429, r.statusCode());
        long retryAfter = Long.parseLong(r.headers().firstValue("retry-after").orElse("-1"));
        assertTrue("Retry-After " + retryAfter, retryAfter >= 4 && retryAfter <= 5);   // one token per 5 s
        assertTrue(r.body(), TestServer.json(r).get("error").asText()
                .contains("tenant 'default' is over its request rate limit (0.2 requests per second, burst 2)"));
        assertEquals("refused before serving", 2, server.service.calls.get());
        String metrics = server.get("/metrics").body();
        assertTrue(metrics, metrics.contains("tollgate_tenant_requests_refused_total{tenant=\"default\",limit=\"rate\"} 1\n"));
        assertTrue(metrics, metrics.contains("tollgate_inference_requests_total{model=\"echo\",outcome=\"rate_limited\"} 1\n"));
        assertTrue(metrics, metrics.contains("tollgate_http_responses_total{code=\"429\"} 1\n"));
        assertEquals("other routes are not limited", 200, server.get("/v2/models/echo").statusCode());
    }

    @Test
    public void overTheConcurrencyLimitIs429AndAnswersFreeTheSlot() throws Exception {
        TestConfig c = new TestConfig();
        c.tenantMaxConcurrent = 2;
        server = new TestServer(c);
        String slow = BODY.replace("{\"inputs\"", "{\"parameters\":{\"delay_ms\":1500},\"inputs\"");
        List<CompletableFuture<HttpResponse<String>>> held = new ArrayList<>();
        for (int i = 0; i < 2; i++) {
            held.add(CompletableFuture.supplyAsync(() -> {
                try {
                    return server.post("/v2/models/echo/infer", slow);
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            }));
        }
        long end = System.currentTimeMillis() + 5_000;
        while (server.service.calls.get() < 2 && System.currentTimeMillis() < end) {
            Thread.sleep(10);
        }
        HttpResponse<String> r = server.post("/v2/models/echo/infer", BODY);
        assertEquals(r.body(), 429, r.statusCode());
        assertEquals("1", r.headers().firstValue("retry-after").orElse(""));
        assertTrue(r.body(), TestServer.json(r).get("error").asText().contains("has 2 requests in flight"));
        for (CompletableFuture<HttpResponse<String>> f : held) {
            assertEquals(200, f.get().statusCode());
        }
        assertEquals(200, server.post("/v2/models/echo/infer", BODY).statusCode());
        assertTrue(server.get("/metrics").body().contains("tollgate_tenant_requests_in_flight{tenant=\"default\"} 0\n"));
    }

    @Test
    public void byDefaultNothingIsLimited() throws Exception {
        server = new TestServer(new TestConfig());
        for (int i = 0; i < 50; i++) {
            assertEquals(200, server.post("/v2/models/echo/infer", BODY).statusCode());
        }
    }

    @Test
    public void invalidLimitsRefuseActivation() throws Exception {
        TestConfig c = new TestConfig();
        c.tenantLimits = "line7: rate=fast";
        try {
            server = new TestServer(c);
            fail("activated with tenant.limits=" + c.tenantLimits);
        } catch (IllegalArgumentException e) {
            assertTrue(e.getMessage(), e.getMessage().contains("invalid io.tollgate.endpoint configuration: "
                    + "tenant.limits entry 'line7: rate=fast': 'rate=fast' needs a number"));
        }
        c.tenantLimits = "";
        c.tenantRatePerSecond = -1;
        try {
            server = new TestServer(c);
            fail("activated with tenant.rate.per.second=-1");
        } catch (IllegalArgumentException e) {
            assertTrue(e.getMessage(), e.getMessage().contains("tenant.rate.per.second"));
        }
        try {
            server = new TestServer(new TestConfig(), Map.of("tenant_limits", "x: rate=1"));
            fail("activated with an underscored key");
        } catch (IllegalArgumentException e) {
            assertTrue(e.getMessage(), e.getMessage().contains("spell it 'tenant.limits'"));
        }
    }
}
