package io.tollgate.endpoint.internal;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertNull;
import static org.junit.Assert.assertTrue;

import java.net.http.HttpResponse;
import java.util.List;
import java.util.Map;
import org.junit.Test;

/** The endpoint's warm-up (issue 11): the real pipeline, nothing served, counted or billed, readiness held meanwhile. */
public class EndpointWarmupTest {

    @Test
    public void runsTheConnectionPipelineToTheRouterWithoutServing() {
        FakeModelRegistry registry = FakeModelRegistry.standard();
        TestConfig config = new TestConfig();
        EndpointWarmup warmup = new EndpointWarmup(ConnectionLimits.of(config), registry, "test");

        EndpointWarmup.Result r = warmup.run(10_000);

        assertNull(r.problem());
        assertEquals(EndpointWarmup.MAX_REQUESTS, r.requests());
        assertEquals(0, r.failed());
        // every request went through the codec, the router and the infer route's reader and writer, answered 200
        String own = warmup.metrics().render(List.of());
        assertTrue(own, own.contains("tollgate_http_responses_total{code=\"200\"} " + EndpointWarmup.MAX_REQUESTS));
        assertTrue(own, own.contains("tollgate_inference_requests_total{model=\"" + EndpointWarmup.MODEL
                + "\",outcome=\"ok\"} " + EndpointWarmup.MAX_REQUESTS));
        assertEquals(0, warmup.metrics().inFlight());
    }

    @Test
    public void stopsAtItsTimeBudget() {
        EndpointWarmup warmup = new EndpointWarmup(ConnectionLimits.of(new TestConfig()), FakeModelRegistry.standard(),
                "test");
        EndpointWarmup.Result r = warmup.run(0);
        assertNull(r.problem());
        assertEquals("one JSON and one binary request whatever the budget", EndpointWarmup.MIN_REQUESTS, r.requests());
        assertEquals("two 200s", 2, r.requests() - r.failed());
    }

    @Test
    public void anEndpointWithWarmupNeverCallsServingAndCountsNothing() throws Exception {
        TestConfig config = new TestConfig();
        config.warmupMs = 2_000;
        config.keysFile = System.getProperty("java.io.tmpdir") + "/tollgate-no-such-dir/api-keys.json";
        try (TestServer server = new TestServer(config)) {
            HttpResponse<String> ready = null;
            for (int i = 0; i < 200; i++) {
                ready = server.get("/v2/health/ready");
                if (ready.statusCode() == 200) {
                    break;
                }
                Thread.sleep(25);
            }
            assertEquals(ready.body(), 200, ready.statusCode());
            assertEquals("the warm-up never reaches serving: no inference, so no usage record", 0,
                    server.service.calls.get());
            String metrics = server.get("/metrics").body();
            assertFalse(metrics, metrics.contains(EndpointWarmup.MODEL));
            assertFalse(metrics, metrics.contains("tollgate_inference_requests_total{"));
            // the endpoint's own responses: only the probes of this test (ready, then /metrics itself is not yet in)
            assertFalse(metrics, metrics.matches("(?s).*tollgate_http_responses_total\\{code=\"200\"} [1-9][0-9]{2,}.*"));
            assertFalse(metrics, metrics.contains("check=\"endpoint\""));
        }
    }

    @Test
    public void readinessIsHeldWhileWarming() {
        ReadinessChecks checks = new ReadinessChecks();
        checks.warming("warming up");
        List<ReadinessChecks.State> held = checks.states();
        assertFalse(ReadinessChecks.ready(held));
        assertEquals(new ReadinessChecks.State("endpoint", true, false, "warming up"), held.get(held.size() - 1));
        checks.warming(null);
        assertTrue(ReadinessChecks.ready(checks.states()));
        assertTrue(checks.states().stream().noneMatch(s -> s.name().equals("endpoint")));
    }

    @Test
    public void warmupMsIsValidated() throws Exception {
        TestConfig config = new TestConfig();
        config.warmupMs = -1;
        try {
            new TestServer(config, Map.of()).close();
            throw new AssertionError("a negative warmup.ms was accepted");
        } catch (IllegalArgumentException e) {
            assertTrue(e.getMessage(), e.getMessage().contains("warmup.ms must be 0 (off) to 10000, not -1"));
        }
    }
}
