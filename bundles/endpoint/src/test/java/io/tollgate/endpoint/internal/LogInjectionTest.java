package io.tollgate.endpoint.internal;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.lang.reflect.Field;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.After;
import org.junit.AfterClass;
import org.junit.Before;
import org.junit.BeforeClass;
import org.junit.Test;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A client cannot forge log lines: the path, model names, versions and error messages quoting the body reach the
 * log through {@link LogText}, on the one line of their request. Nor can a flood of refusals flood the log. Reads
 * what slf4j-simple writes to System.err, with the per-request DEBUG line switched on.
 */
public class LogInjectionTest {
    /** What an attacker wants the log to show on a line of its own. */
    private static final String FORGED = "2026-11-30T08:55:00.000+0000 [tollgate-shutdown] INFO "
            + "io.tollgate.runtime.ApplianceLauncher - Tollgate stopped";
    private static final String FORGED_URL = FORGED.replace(" ", "%20").replace("[", "%5B").replace("]", "%5D");

    private static TestServer server;
    private static int routerLevel;

    private final ByteArrayOutputStream captured = new ByteArrayOutputStream();
    private PrintStream stderr;

    @BeforeClass
    public static void start() throws Exception {
        server = new TestServer(64 * 1024, 5_000);
        routerLevel = level(RequestRouter.class, 10); // DEBUG: the per-request line
    }

    @AfterClass
    public static void stop() throws Exception {
        level(RequestRouter.class, routerLevel);
        server.close();
    }

    @Before
    public void capture() {
        stderr = System.err;   // slf4j-simple writes to whatever System.err is at the time of each line
        System.setErr(new PrintStream(captured, true, StandardCharsets.UTF_8));
    }

    @After
    public void restore() {
        System.setErr(stderr);
        stderr.print(log());
    }

    @Test
    public void aPathCannotForgeALogLine() throws Exception {
        // the reviewer's repro: a 503 (logged at WARN by ErrorMapper: no repository control here) and the DEBUG line
        HttpResponse<String> r = server.post("/v2/repository/models/x%0A" + FORGED_URL + "%0Ay/load", "{}");
        assertEquals(503, r.statusCode());
        assertTrue("the body quotes the model JSON-escaped: " + r.body(), r.body().contains("x\\n2026"));
        // a 404 with CR, U+2028 and a bidi override; a 404 of an unknown model on the infer route
        assertEquals(404, server.get("/nowhere%0D%0A" + FORGED_URL + "%E2%80%A8" + FORGED_URL + "%E2%80%AE").statusCode());
        r = server.post("/v2/models/m%0A" + FORGED_URL + "/versions/1%0A" + FORGED_URL + "/infer",
                "{\"inputs\":[{\"name\":\"x\",\"datatype\":\"FP32\",\"shape\":[1],\"data\":[1]}]}");
        assertEquals(r.body(), 404, r.statusCode());
        String log = awaitLines(4, "answered");
        assertNoForgedLine(log);
        assertTrue(log, log.contains("WARN"));
        assertTrue("escaped, not dropped: " + log, log.contains("x\\u000a2026-11-30T08:55:00.000+0000 [tollgate"));
        assertTrue(log, log.contains("\\u000d\\u000a2026") && log.contains("\\u2028") && log.contains("\\u202e"));
    }

    @Test
    public void errorMessagesQuotingTheBodyCannotForgeALogLine() throws Exception {
        // a 500 whose message names the model; a 400 naming an input (a JSON field value) in the DEBUG reason
        String json = "{\"parameters\":{\"fail\":\"ENGINE_FAILURE\"},\"inputs\":[{\"name\":\"x\",\"datatype\":\"FP32\","
                + "\"shape\":[1],\"data\":[1]}]}";
        assertEquals(500, server.post("/v2/models/echo%0A" + FORGED_URL + "/infer", json).statusCode());
        String bad = "{\"inputs\":[{\"name\":\"x\\n" + FORGED + "\\u2029\",\"datatype\":\"FP32\",\"shape\":[2],"
                + "\"data\":[1]}]}";
        assertEquals(400, server.post("/v2/models/echo/infer", bad).statusCode());
        // the 500 has a WARN and a DEBUG line, the 400 a DEBUG line written after its reply: wait for each
        awaitLines(2, "answered 500");
        String log = awaitLines(1, "answered 400");
        assertNoForgedLine(log);
        assertTrue(log, log.contains("answered 500: fake failure ENGINE_FAILURE for model 'echo\\u000a2026"));
        assertTrue("the DEBUG line says why: " + log, log.contains("answered 400 in"));
        assertTrue(log, log.contains("input 'x\\u000a2026-11-30T08:55:00.000+0000 [tollgate-shutdown]"));
    }

    @Test
    public void theDebugLineOfARefusedIdSaysWhy() throws Exception {
        assertEquals(400, server.post("/v2/models/echo/infer", "{\"id\":\"a b\",\"inputs\":[]}").statusCode());
        assertEquals(400, server.post("/v2/models/echo/infer", "{\"id\":42,\"inputs\":[]}").statusCode());
        String log = awaitLines(2, "answered 400");
        assertTrue(log, log.contains("answered 400 in"));
        assertTrue(log, log.contains(": request id has ' ' (U+0020) at character 2"));
        assertTrue(log, log.contains(": \"id\" must be a string"));
    }

    /**
     * 503s that come with load (queue full, queue timeout, not ready, a route's breaker open) are logged once per
     * 10 s per reason, saying how many were not; a 500 is logged every time (each is a fault to look at).
     */
    @Test
    public void refusalsThatComeWithLoadAreLoggedOncePerIntervalAndFaultsEachTime() throws Exception {
        ErrorMapper.LoadRefusals before = ErrorMapper.loadRefusals(new ErrorMapper.LoadRefusals(
                java.util.concurrent.TimeUnit.MILLISECONDS.toNanos(1500)));
        try {
            String json = "{\"parameters\":{\"fail\":\"%s\"},\"inputs\":[{\"name\":\"x\",\"datatype\":\"FP32\","
                    + "\"shape\":[1],\"data\":[1]}]}";
            for (int i = 0; i < 40; i++) {
                assertEquals(503, server.post("/v2/models/echo/infer", String.format(json, "OVERLOADED")).statusCode());
                assertEquals(503, server.post("/v2/models/echo/infer", String.format(json, "TIMEOUT")).statusCode());
            }
            for (int i = 0; i < 3; i++) {
                assertEquals(500, server.post("/v2/models/echo/infer", String.format(json, "ENGINE_FAILURE"))
                        .statusCode());
            }
            // another model's refusal is its own line (one model's failure never hides behind another's)
            assertEquals(503, server.post("/v2/models/other/infer", String.format(json, "OVERLOADED")).statusCode());
            // 508s, which a client can provoke on any path: one line for all paths
            for (int i = 0; i < 10; i++) {
                assertEquals(508, server.post("/v2/models/m" + i + "/infer", String.format(json, "LOOP_DETECTED"))
                        .statusCode());
            }
            Thread.sleep(1600);     // the interval passes: the next refusal is logged with the count of the others
            assertEquals(503, server.post("/v2/models/echo/infer", String.format(json, "OVERLOADED")).statusCode());
            String log = awaitLines(5, "WARN");
            assertEquals(log, 1, log.lines().filter(l -> l.contains("WARN") && l.contains("answered 508")).count());
            List<String> warned = log.lines().filter(l -> l.contains("WARN") && l.contains("answered 503")).toList();
            assertEquals(log, 4, warned.size());      // the first of each reason and model, then OVERLOADED again
            assertTrue(log, warned.get(0).endsWith("(such refusals are logged once per 10 s; "
                    + "tollgate_http_responses_total counts them)"));
            assertTrue(log, warned.get(2).contains("POST /v2/models/other/infer"));
            assertTrue(log, warned.get(3).contains("fake failure OVERLOADED") && warned.get(3).contains(
                    ": 39 more since the last line; tollgate_http_responses_total counts them)"));
            assertEquals(log, 3, log.lines().filter(l -> l.contains("WARN") && l.contains("answered 500")).count());
        } finally {
            ErrorMapper.loadRefusals(before);
        }
    }

    private static void assertNoForgedLine(String log) {
        for (String line : log.split("\n|\r|\u2028|\u2029|\u0085")) {
            assertFalse("a forged line in\n" + log, line.startsWith("2026-11-30T08:55:00.000+0000"));
        }
        List<String> lines = log.lines().toList();
        for (String line : lines) {
            if (line.contains("Tollgate stopped")) {
                assertTrue("client text stays on its request's line: " + line, line.contains("answered"));
            }
        }
    }

    /** The captured log once it has {@code n} lines containing {@code marker} (the DEBUG line follows the reply). */
    private String awaitLines(int n, String marker) throws InterruptedException {
        long deadline = System.currentTimeMillis() + 5_000;
        while (System.currentTimeMillis() < deadline) {
            if (log().lines().filter(l -> l.contains(marker)).count() >= n) {
                return log();
            }
            Thread.sleep(20);
        }
        return log();
    }

    private String log() {
        return captured.toString(StandardCharsets.UTF_8);
    }

    /** Sets slf4j-simple's level of a class's logger (it has no API for that); returns the previous level. */
    private static int level(Class<?> owner, int level) throws Exception {
        Logger logger = LoggerFactory.getLogger(owner);
        Field f = logger.getClass().getDeclaredField("currentLogLevel");
        f.setAccessible(true);
        int previous = f.getInt(logger);
        f.setInt(logger, level);
        return previous;
    }
}
