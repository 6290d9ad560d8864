package io.tollgate.endpoint.internal;

import static org.junit.Assert.assertArrayEquals;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertNotNull;
import static org.junit.Assert.assertNull;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

import com.fasterxml.jackson.databind.JsonNode;
import io.tollgate.serving.InferenceException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import io.tollgate.metering.JournalStatus;
import io.tollgate.metering.UsageEvent;
import io.tollgate.metering.UsageJournal;
import io.tollgate.sync.SyncStatus;
import io.tollgate.sync.SyncStatusProvider;
import io.tollgate.metering.UsageRecord;
import org.junit.AfterClass;
import org.junit.BeforeClass;
import org.junit.Test;
import io.tollgate.health.ReadinessCheck;
import java.util.Optional;

/** The endpoint over real loopback sockets, with a fake serving layer behind it. */
public class HttpEndpointTest {
    private static final int MAX_BODY = 64 * 1024;
    private static TestServer server;

    @BeforeClass
    public static void start() {
        server = new TestServer(MAX_BODY, 5_000);
    }

    @AfterClass
    public static void stop() throws Exception {
        server.close();
    }

    private static String infer(String type, String shape, String data) {
        return "{\"id\":\"req-" + type + "\",\"inputs\":[{\"name\":\"x\",\"datatype\":\"" + type + "\",\"shape\":"
                + shape + ",\"data\":" + data + "}]}";
    }

    private static void assertError(HttpResponse<String> r, int status, String messagePart) throws Exception {
        assertEquals(r.body(), status, r.statusCode());
        assertEquals("application/json", r.headers().firstValue("content-type").orElse(""));
        JsonNode body = TestServer.json(r);
        assertTrue(r.body(), body.get("error").asText().contains(messagePart));
    }

    @Test
    public void healthRoutes() throws Exception {
        HttpResponse<String> live = server.get("/v2/health/live");
        assertEquals(200, live.statusCode());
        assertEquals("application/json", live.headers().firstValue("content-type").orElse(""));
        assertEquals(TestServer.JSON.readTree("{\"live\":true}"), TestServer.json(live));
        HttpResponse<String> ready = server.get("/v2/health/ready");
        assertEquals(200, ready.statusCode());
        assertEquals(TestServer.JSON.readTree("{\"ready\":true,\"checks\":[{\"name\":\"plugins\",\"required\":true,"
                + "\"ready\":true}]}"), TestServer.json(ready));
    }

    @Test
    public void readinessFollowsTheRegistry() throws Exception {
        server.registry.ready = false;
        try {
            HttpResponse<String> ready = server.get("/v2/health/ready");
            assertEquals(503, ready.statusCode());
            assertEquals(TestServer.JSON.readTree("{\"ready\":false,\"checks\":[{\"name\":\"plugins\",\"required\":true,"
                    + "\"ready\":false,\"reason\":\"plugins present at start are still loading, or the appliance is "
                    + "shutting down (see /admin/plugins)\"}]}"), TestServer.json(ready));
            assertEquals(200, server.get("/v2/health/live").statusCode());
        } finally {
            server.registry.ready = true;
        }
        assertEquals(200, server.get("/v2/health/ready").statusCode());
    }

    @Test
    public void aRequiredPartThatIsNotReadyMakesTheApplianceUnreadyAndSaysWhyAnOptionalOneDoesNot() throws Exception {
        ReadinessCheck metering = check("metering", true, "disk full on /data (12 KiB free)");
        ReadinessCheck uplink = check("uplink", false, "broker refused the connection");
        ReadinessCheck broken = new ReadinessCheck() {
            @Override public String name() { return "broken"; }
            @Override public boolean required() { return false; }
            @Override public Optional<String> notReadyReason() { throw new IllegalStateException("boom"); }
        };
        server.endpoint.bindReadiness(uplink);
        server.endpoint.bindReadiness(broken);
        try {
            HttpResponse<String> ready = server.get("/v2/health/ready");
            assertEquals("an optional part never makes the box unready", 200, ready.statusCode());
            JsonNode body = TestServer.json(ready);
            assertEquals("broken", body.at("/checks/1/name").asText());
            assertEquals("the readiness check failed: java.lang.IllegalStateException: boom",
                    body.at("/checks/1/reason").asText());
            assertEquals("broker refused the connection", body.at("/checks/2/reason").asText());
            server.endpoint.bindReadiness(metering);
            ready = server.get("/v2/health/ready");
            assertEquals(503, ready.statusCode());
            body = TestServer.json(ready);
            assertEquals(false, body.get("ready").asBoolean());
            assertEquals("metering", body.at("/checks/2/name").asText());
            assertEquals(true, body.at("/checks/2/required").asBoolean());
            assertEquals("disk full on /data (12 KiB free)", body.at("/checks/2/reason").asText());
            String metrics = server.get("/metrics").body();
            assertTrue(metrics, metrics.contains("\ntollgate_ready 0\n"));
            assertTrue(metrics, metrics.contains("\ntollgate_ready_check{check=\"metering\",required=\"true\"} 0\n"));
            assertTrue(metrics, metrics.contains("\ntollgate_ready_check{check=\"uplink\",required=\"false\"} 0\n"));
            assertTrue(metrics, metrics.contains("\ntollgate_ready_check{check=\"plugins\",required=\"true\"} 1\n"));
        } finally {
            server.endpoint.unbindReadiness(metering);
            server.endpoint.unbindReadiness(uplink);
            server.endpoint.unbindReadiness(broken);
        }
        assertEquals(200, server.get("/v2/health/ready").statusCode());
        assertTrue(server.get("/metrics").body().contains("\ntollgate_ready 1\n"));
    }

    private static ReadinessCheck check(String name, boolean required, String reason) {
        return new ReadinessCheck() {
            @Override public String name() { return name; }
            @Override public boolean required() { return required; }
            @Override public Optional<String> notReadyReason() { return Optional.of(reason); }
        };
    }

    @Test
    public void serverMetadata() throws Exception {
        HttpResponse<String> r = server.get("/v2");
        assertEquals(200, r.statusCode());
        JsonNode body = TestServer.json(r);
        assertEquals("tollgate", body.get("name").asText());
        assertEquals(System.getProperty("tollgate.project.version"), body.get("version").asText());
        assertEquals(TestServer.JSON.readTree("[\"classification\",\"model_repository\",\"binary_tensor_data\",\"statistics\"]"),
                body.get("extensions"));
        assertEquals(200, server.get("/v2/").statusCode());
    }

    @Test
    public void modelMetadata() throws Exception {
        HttpResponse<String> r = server.get("/v2/models/echo");
        assertEquals(200, r.statusCode());
        // as Triton, only the available (READY) versions: echo 2 is still loading (issue 11); an ONNX plugin's
        // platform as Triton names it and as /config shows it (the descriptor's "onnx" is the plugin format's word)
        assertEquals(TestServer.JSON.readTree("{\"name\":\"echo\",\"versions\":[\"1\"],\"platform\":\"onnxruntime_onnx\","
                + "\"inputs\":[{\"name\":\"x\",\"datatype\":\"FP32\",\"shape\":[-1,4]}],"
                + "\"outputs\":[{\"name\":\"x\",\"datatype\":\"FP32\",\"shape\":[-1,4]}]}"), TestServer.json(r));
        JsonNode classifier = TestServer.json(server.get("/v2/models/classifier/versions/1.0.0"));
        assertEquals("classifier", classifier.get("name").asText());
        assertEquals("BYTES", classifier.get("outputs").get(1).get("datatype").asText());
        assertError(server.get("/v2/models/nope"), 404, "model 'nope' is not installed");
        assertError(server.get("/v2/models/echo/versions/9"), 404, "model 'echo' has no version '9'");
    }

    @Test
    public void modelReadiness() throws Exception {
        HttpResponse<String> ready = server.get("/v2/models/echo/ready");
        assertEquals(200, ready.statusCode());
        assertEquals(TestServer.JSON.readTree("{\"name\":\"echo\",\"version\":\"1\",\"ready\":true}"),
                TestServer.json(ready));
        HttpResponse<String> loading = server.get("/v2/models/echo/versions/2/ready");
        assertEquals(503, loading.statusCode());
        assertFalse(TestServer.json(loading).get("ready").asBoolean());
        assertEquals(503, server.get("/v2/models/broken/versions/3/ready").statusCode());
        assertError(server.get("/v2/models/nope/ready"), 404, "not installed");
        HttpResponse<String> head = server.send("HEAD", "/v2/models/echo/ready", null);
        assertEquals(200, head.statusCode());
        assertEquals("", head.body());
    }

    /** Issue 11: an installed model an operator unloaded is not "not installed" (Triton: "has no available versions"). */
    @Test
    public void anUnloadedModelSaysItIsUnloadedAndHowToLoadIt() throws Exception {
        String why = "model 'parked' is unloaded: an operator unloaded it, so it has no available versions"
                + " (POST /v2/repository/models/parked/load serves it again)";
        server.registry.unloaded.put("parked", why);
        try {
            for (String path : List.of("/v2/models/parked", "/v2/models/parked/versions/1", "/v2/models/parked/ready",
                    "/v2/models/parked/config", "/v2/models/parked/versions/1/config", "/v2/models/parked/stats")) {
                assertError(server.get(path), 404, why);
            }
        } finally {
            server.registry.unloaded.remove("parked");
        }
        assertError(server.get("/v2/models/parked"), 404, "model 'parked' is not installed");
    }

    @Test
    public void infersEveryDatatypeThroughJson() throws Exception {
        String[][] cases = {
            {"BOOL", "[true,false,true]", "[true,false,true]"},
            {"UINT8", "[0,255,7]", "[0,255,7]"},
            {"UINT16", "[0,65535,7]", "[0,65535,7]"},
            {"UINT32", "[0,4294967295,7]", "[0,4294967295,7]"},
            {"UINT64", "[0,18446744073709551615,1]", "[0,18446744073709551615,1]"},
            {"INT8", "[-128,127,0]", "[-128,127,0]"},
            {"INT16", "[-32768,32767,0]", "[-32768,32767,0]"},
            {"INT32", "[-2147483648,2147483647,0]", "[-2147483648,2147483647,0]"},
            {"INT64", "[-9223372036854775808,9223372036854775807,0]", "[-9223372036854775808,9223372036854775807,0]"},
            {"FP16", "[0.1,65504,0.000000059604645]", "[0.099975586,65504.0,5.9604645E-8]"},
            {"BF16", "[3.14159,1.00390625,-2.5]", "[3.140625,1.0,-2.5]"},
            {"FP32", "[0.1,-1e-30,16777217]", "[0.1,-1.0E-30,1.6777216E7]"},
            {"FP64", "[0.1,1e300,16777217]", "[0.1,1.0E300,1.6777217E7]"},
            {"BYTES", "[\"plain\",\"héllo wörld\",\"日本語 🚀\"]", "[\"plain\",\"héllo wörld\",\"日本語 🚀\"]"},
        };
        for (String[] c : cases) {
            HttpResponse<String> r = server.post("/v2/models/echo/infer", infer(c[0], "[3]", c[1]));
            assertEquals(c[0] + ": " + r.body(), 200, r.statusCode());
            assertEquals("application/json", r.headers().firstValue("content-type").orElse(""));
            JsonNode body = TestServer.json(r);
            assertEquals("echo", body.get("model_name").asText());
            assertEquals("1", body.get("model_version").asText());
            assertEquals("req-" + c[0], body.get("id").asText());
            assertEquals("cpu", body.get("parameters").get("accelerator").asText());
            JsonNode out = body.get("outputs").get(0);
            assertEquals("x", out.get("name").asText());
            assertEquals(c[0], out.get("datatype").asText());
            assertEquals(TestServer.JSON.readTree("[3]"), out.get("shape"));
            assertEquals(c[0], TestServer.JSON.readTree(c[2]), out.get("data"));
        }
        // the bits that reached the serving layer
        server.post("/v2/models/echo/infer", infer("UINT64", "[1]", "[18446744073709551615]"));
        assertEquals(-1L, server.service.last.inputs().get(0).data().getLong(0));
        server.post("/v2/models/echo/infer", infer("INT64", "[1]", "[-9223372036854775808]"));
        assertEquals(Long.MIN_VALUE, server.service.last.inputs().get(0).data().getLong(0));
        server.post("/v2/models/echo/infer", infer("FP16", "[2]", "[65520,-0.0]"));
        assertEquals((short) 0x7c00, server.service.last.inputs().get(0).data().getShort(0));
        assertEquals((short) 0x8000, server.service.last.inputs().get(0).data().getShort(2));
        server.post("/v2/models/echo/infer", infer("BYTES", "[1]", "[\"é\"]"));
        assertArrayEquals(new byte[] {(byte) 0xc3, (byte) 0xa9}, server.service.last.inputs().get(0).strings().get(0));
    }

    @Test
    public void infersNestedDataAndVersionedModels() throws Exception {
        HttpResponse<String> r = server.post("/v2/models/echo/versions/1/infer",
                infer("INT32", "[2,3]", "[[1,2,3],[4,5,6]]"));
        assertEquals(r.body(), 200, r.statusCode());
        JsonNode out = TestServer.json(r).get("outputs").get(0);
        assertEquals(TestServer.JSON.readTree("[2,3]"), out.get("shape"));
        assertEquals(TestServer.JSON.readTree("[1,2,3,4,5,6]"), out.get("data"));
        assertEquals("1", server.service.last.version());
        assertEquals("echo", server.service.last.model());
    }

    /**
     * Route loops (probe 2026-12-03): the request's Via entries reach the serving layer, which a route sends on; an
     * entry a route could not send on is dropped (a proxy in front of the box may write what it likes: no request is
     * refused for it), past 32 only the Tollgate boxes' are kept; a loop the serving layer detects is 508.
     */
    @Test
    public void viaEntriesReachServingBadOnesAreDroppedAndALoopIs508() throws Exception {
        HttpClient client = HttpClient.newHttpClient();
        java.util.function.Function<String, HttpRequest> post = via -> HttpRequest.newBuilder(server.uri(
                "/v2/models/echo/infer")).timeout(Duration.ofSeconds(10)).header("Via", via)
                .POST(HttpRequest.BodyPublishers.ofString(infer("INT32", "[1]", "[7]"))).build();
        HttpResponse<String> r = client.send(post.apply("1.1 proxy-a,  1.1 tollgate-0123456789abcdef"),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(r.body(), 200, r.statusCode());
        assertEquals(List.of("1.1 proxy-a", "1.1 tollgate-0123456789abcdef"), server.service.last.via());
        assertEquals(200, server.post("/v2/models/echo/infer", infer("INT32", "[1]", "[7]")).statusCode());
        assertEquals("a client's request", List.of(), server.service.last.via());

        r = client.send(post.apply("1.1 " + "p".repeat(300) + ", 1.1 tollgate-00000000000000aa"),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(r.body(), 200, r.statusCode());
        assertEquals("too long: dropped", List.of("1.1 tollgate-00000000000000aa"), server.service.last.via());
        String many = String.join(",", java.util.Collections.nCopies(40, "1.1 p")) + ", 1.1 tollgate-00000000000000bb";
        assertEquals(200, client.send(post.apply(many), HttpResponse.BodyHandlers.ofString()).statusCode());
        assertEquals("past 32: the Tollgate entries", List.of("1.1 tollgate-00000000000000bb"),
                server.service.last.via());
        try (Socket s = new Socket("127.0.0.1", server.port())) {      // a byte the JDK's client would not send
            s.setSoTimeout(30_000);
            byte[] body = infer("INT32", "[1]", "[7]").getBytes(StandardCharsets.US_ASCII);
            OutputStream out = s.getOutputStream();
            out.write(("POST /v2/models/echo/infer HTTP/1.1\r\nHost: x\r\nVia: 1.1 caf\u00e9, 1.0 proxy-b\r\n"
                    + "Content-Length: " + body.length + "\r\n\r\n").getBytes(StandardCharsets.ISO_8859_1));
            out.write(body);
            out.flush();
            TestServer.RawResponse raw = TestServer.readResponse(s.getInputStream());
            assertEquals(raw.body(), 200, raw.status());
            assertEquals("outside printable ASCII: dropped", List.of("1.0 proxy-b"), server.service.last.via());
        }

        assertError(server.post("/v2/models/echo/infer", "{\"parameters\":{\"fail\":\"LOOP_DETECTED\"},"
                + "\"inputs\":[{\"name\":\"x\",\"datatype\":\"INT32\",\"shape\":[1],\"data\":[7]}]}"), 508,
                "fake failure LOOP_DETECTED for model 'echo'");
    }

    @Test
    public void refusesBadTensorsWith400() throws Exception {
        StringBuilder data = new StringBuilder("[");
        for (int i = 0; i < 783; i++) {
            data.append(i == 0 ? "" : ",").append(i % 7);
        }
        String body = "{\"inputs\":[{\"name\":\"image\",\"datatype\":\"FP32\",\"shape\":[1,1,28,28],\"data\":"
                + data + "]}]}";
        HttpResponse<String> r = server.post("/v2/models/echo/infer", body);
        assertEquals(400, r.statusCode());
        assertEquals("input 'image': shape [1,1,28,28] needs 784 elements but data has 783",
                TestServer.json(r).get("error").asText());
        assertError(server.post("/v2/models/echo/infer", infer("UINT8", "[1]", "[256]")), 400,
                "outside UINT8's range [0, 255]");
        assertError(server.post("/v2/models/echo/infer", infer("UINT64", "[1]", "[18446744073709551616]")), 400,
                "outside UINT64's range");
        assertError(server.post("/v2/models/echo/infer", infer("INT64", "[1]", "[-9223372036854775809]")), 400,
                "outside INT64's range");
    }

    @Test
    public void refusesMalformedJsonWith400AndTheLocation() throws Exception {
        HttpResponse<String> r = server.post("/v2/models/echo/infer", "{\"inputs\": [\n  {\"name\": \"x\" \"datatype\"}]}");
        assertEquals(400, r.statusCode());
        String error = TestServer.json(r).get("error").asText();
        assertTrue(error, error.startsWith("malformed JSON at line 2, column "));
        assertError(server.post("/v2/models/echo/infer", ""), 400, "the infer request body is empty");
        assertError(server.post("/v2/models/echo/infer", "{\"inputs\":[{\"name\":\"x\",\"datatype\":\"FP32\",\"shape\":[2],\"data\":[1,"), 400,
                "malformed JSON at line 1, column ");
        assertError(server.post("/v2/models/echo/infer", "{\"inputs\": 5}"), 400, "\"inputs\" must be an array");
    }

    @Test
    public void unknownRoutesAre404() throws Exception {
        HttpResponse<String> r = server.get("/x");
        assertEquals(404, r.statusCode());
        assertEquals("no route for GET /x", TestServer.json(r).get("error").asText());
        assertEquals("an error body is the message and the request id", 2, TestServer.json(r).size());
        assertError(server.get("/v2/models/echo/versions"), 404, "no route for GET /v2/models/echo/versions");
        assertError(server.post("/v2/models/nope/infer", infer("FP32", "[1]", "[1]")), 404, "'nope' is not installed");
    }

    @Test
    public void wrongMethodsAre405WithAllow() throws Exception {
        HttpResponse<String> r = server.get("/v2/models/echo/infer");
        assertError(r, 405, "method GET is not allowed");
        assertEquals("POST", r.headers().firstValue("allow").orElse(""));
        HttpResponse<String> p = server.post("/v2/health/live", "{}");
        assertEquals(405, p.statusCode());
        assertEquals("GET, HEAD", p.headers().firstValue("allow").orElse(""));
        assertEquals("POST", server.get("/v2/repository/index").headers().firstValue("allow").orElse(""));
        assertEquals(405, server.send("DELETE", "/metrics", null).statusCode());
    }

    @Test
    public void bodiesAboveTheLimitAre413() throws Exception {
        String big = infer("FP32", "[1]", "[1]") + " ".repeat(MAX_BODY);
        HttpResponse<String> r = server.post("/v2/models/echo/infer", big);
        assertError(r, 413, "is larger than max.body.bytes = " + MAX_BODY);
        // just under the limit is fine
        String fits = infer("FP32", "[1]", "[1]");
        fits = fits + " ".repeat(MAX_BODY - fits.length());
        assertEquals(200, server.post("/v2/models/echo/infer", fits).statusCode());
    }

    @Test
    public void expectContinueAboveTheLimitGets413BeforeTheBody() throws Exception {
        try (Socket s = new Socket("127.0.0.1", server.port())) {
            s.setSoTimeout(30_000);
            OutputStream out = s.getOutputStream();
            out.write(("POST /v2/models/echo/infer HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                    + "Expect: 100-continue\r\nContent-Length: " + (MAX_BODY * 4) + "\r\n\r\n")
                    .getBytes(StandardCharsets.US_ASCII));
            out.flush();
            TestServer.RawResponse r = TestServer.readResponse(s.getInputStream());
            assertEquals(413, r.status());
            assertEquals("close", r.header("connection"));
            assertTrue(r.body(), r.body().contains("(" + (MAX_BODY * 4) + " bytes) is larger than max.body.bytes"));
            assertNull("the server closes the connection", TestServer.readResponse(s.getInputStream()));
        }
        // within the limit the client gets 100 Continue, then the answer
        try (Socket s = new Socket("127.0.0.1", server.port())) {
            s.setSoTimeout(30_000);
            byte[] body = infer("INT8", "[2]", "[1,2]").getBytes(StandardCharsets.UTF_8);
            OutputStream out = s.getOutputStream();
            out.write(("POST /v2/models/echo/infer HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: "
                    + body.length + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            out.flush();
            InputStream in = s.getInputStream();
            assertEquals(100, TestServer.readResponse(in).status());
            out.write(body);
            out.flush();
            assertEquals(200, TestServer.readResponse(in).status());
        }
    }

    /**
     * A Content-Length that is not a number is the client's mistake: 400 and close, like "-5". Before, the handlers
     * that read the length from the headers threw NumberFormatException and the connection closed with no answer.
     */
    @Test
    public void aContentLengthThatIsNotANumberGets400() throws Exception {
        for (String path : List.of("POST /v2/models/echo/infer", "GET /v2/health/ready", "POST /v2/repository/index")) {
            for (String value : List.of("abc", "1e3", "0x10", "99999999999999999999", "9223372036854775808", "-5",
                    "+5")) {
              for (String expect : List.of("", "Expect: 100-continue\r\n")) {   // the aggregator reads it to answer 100
                try (Socket s = new Socket("127.0.0.1", server.port())) {
                    s.setSoTimeout(30_000);
                    OutputStream out = s.getOutputStream();
                    out.write((path + " HTTP/1.1\r\nHost: x\r\n" + expect + "Content-Length: " + value + "\r\n\r\n")
                            .getBytes(StandardCharsets.US_ASCII));
                    out.flush();
                    TestServer.RawResponse r = TestServer.readResponse(s.getInputStream());
                    String what = path + " with " + expect.replace("\r\n", ", ") + "Content-Length: " + value;
                    assertNotNull(what + ": no answer", r);
                    assertEquals(what + ": " + r.body(), 400, r.status());
                    assertEquals(what, "close", r.header("connection"));
                    assertTrue(what + ": " + r.body(), r.body().contains("malformed HTTP request"));
                }
              }
            }
        }
    }

    @Test
    public void chunkedBodiesGrowingPastTheLimitGet413() throws Exception {
        try (Socket s = new Socket("127.0.0.1", server.port())) {
            s.setSoTimeout(30_000);
            OutputStream out = s.getOutputStream();
            out.write("POST /v2/models/echo/infer HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                    .getBytes(StandardCharsets.US_ASCII));
            String chunk = " ".repeat(8192);
            try {
                for (int i = 0; i < 10; i++) {
                    out.write((Integer.toHexString(chunk.length()) + "\r\n" + chunk + "\r\n")
                            .getBytes(StandardCharsets.US_ASCII));
                }
                out.write("0\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
                out.flush();
            } catch (java.io.IOException closedWhileSending) {
                // the server may close before the last chunk is sent; its answer is still readable
            }
            TestServer.RawResponse r = TestServer.readResponse(s.getInputStream());
            assertEquals(413, r.status());
            assertTrue(r.body(), r.body().contains("is larger than max.body.bytes"));
        }
    }

    @Test
    public void keepsConnectionsAliveAndAnswersPipelinedRequestsInOrder() throws Exception {
        try (Socket s = new Socket("127.0.0.1", server.port())) {
            s.setSoTimeout(30_000);   // a liveness bound: a loaded build machine can take seconds
            OutputStream out = s.getOutputStream();
            InputStream in = s.getInputStream();
            for (int i = 0; i < 5; i++) {
                byte[] body = infer("INT32", "[1]", "[" + i + "]").getBytes(StandardCharsets.UTF_8);
                out.write(("POST /v2/models/echo/infer HTTP/1.1\r\nHost: x\r\nContent-Length: " + body.length
                        + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
                out.write(body);
                out.flush();
                TestServer.RawResponse r = TestServer.readResponse(in);
                assertEquals(200, r.status());
                assertNull("no Connection: close on a kept-alive response", r.header("connection"));
                assertEquals(i, TestServer.JSON.readTree(r.body()).get("outputs").get(0).get("data").get(0).asInt());
            }
            // pipelined: a slow request, then fast ones, all written at once: answers come back in request order
            StringBuilder burst = new StringBuilder();
            for (int i = 0; i < 4; i++) {
                String delay = i == 0 ? ",\"parameters\":{\"delay_ms\":300}" : "";
                String body = "{\"inputs\":[{\"name\":\"x\",\"datatype\":\"INT32\",\"shape\":[1],\"data\":[" + (100 + i)
                        + "]}]" + delay + "}";
                burst.append("POST /v2/models/echo/infer HTTP/1.1\r\nHost: x\r\nContent-Length: ")
                        .append(body.getBytes(StandardCharsets.UTF_8).length).append("\r\n\r\n").append(body);
            }
            burst.append("GET /v2/health/live HTTP/1.1\r\nHost: x\r\n\r\n");
            out.write(burst.toString().getBytes(StandardCharsets.UTF_8));
            out.flush();
            for (int i = 0; i < 4; i++) {
                TestServer.RawResponse r = TestServer.readResponse(in);
                assertEquals(200, r.status());
                assertEquals(100 + i, TestServer.JSON.readTree(r.body()).get("outputs").get(0).get("data").get(0).asInt());
            }
            assertEquals("{\"live\":true}", TestServer.readResponse(in).body());
            // Connection: close is honoured
            out.write("GET /v2/health/live HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
                    .getBytes(StandardCharsets.US_ASCII));
            out.flush();
            TestServer.RawResponse last = TestServer.readResponse(in);
            assertEquals(200, last.status());
            assertEquals("close", last.header("connection"));
            assertNull(TestServer.readResponse(in));
        }
        // HTTP/1.0 without keep-alive: one answer, then the server closes
        try (Socket s = new Socket("127.0.0.1", server.port())) {
            s.setSoTimeout(30_000);
            s.getOutputStream().write("GET /v2/health/live HTTP/1.0\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            TestServer.RawResponse r = TestServer.readResponse(s.getInputStream());
            assertEquals(200, r.status());
            assertNull(TestServer.readResponse(s.getInputStream()));
        }
    }

    @Test
    public void answersConcurrentRequestsCorrectly() throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(16);
        HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
        try {
            List<Future<String>> results = new ArrayList<>();
            for (int i = 0; i < 200; i++) {
                int n = i;
                results.add(pool.submit(() -> {
                    String body = "{\"id\":\"c" + n + "\",\"inputs\":[{\"name\":\"x\",\"datatype\":\"INT64\","
                            + "\"shape\":[1,3],\"data\":[[" + n + "," + (n * 2) + "," + (-n) + "]]}]}";
                    HttpResponse<String> r = client.send(HttpRequest.newBuilder(server.uri("/v2/models/echo/infer"))
                            .timeout(Duration.ofSeconds(20)).POST(HttpRequest.BodyPublishers.ofString(body)).build(),
                            HttpResponse.BodyHandlers.ofString());
                    JsonNode json = TestServer.JSON.readTree(r.body());
                    String expected = "[" + n + "," + (n * 2) + "," + (-n) + "]";
                    if (r.statusCode() != 200 || !json.get("id").asText().equals("c" + n)
                            || !json.get("outputs").get(0).get("data").equals(TestServer.JSON.readTree(expected))) {
                        return "request " + n + " got " + r.statusCode() + " " + r.body();
                    }
                    return null;
                }));
            }
            for (Future<String> f : results) {
                assertNull(f.get(60, TimeUnit.SECONDS));
            }
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    public void mapsServingFailuresToStatuses() throws Exception {
        Object[][] cases = {
            {InferenceException.Reason.BAD_REQUEST, 400},
            {InferenceException.Reason.MODEL_NOT_FOUND, 404},
            {InferenceException.Reason.MODEL_NOT_READY, 503},
            {InferenceException.Reason.OVERLOADED, 503},
            {InferenceException.Reason.METERING_UNAVAILABLE, 503},
            {InferenceException.Reason.NOT_LICENSED, 403},
            {InferenceException.Reason.PAYMENT_REQUIRED, 402},
            {InferenceException.Reason.ENGINE_FAILURE, 500},
            {InferenceException.Reason.SHUTTING_DOWN, 503},
            {InferenceException.Reason.REMOTE_UNAVAILABLE, 503},
            {InferenceException.Reason.REMOTE_FAILED, 502},
            {InferenceException.Reason.REMOTE_TIMEOUT, 504},
            {InferenceException.Reason.REMOTE_REJECTED, 409},
        };
        for (Object[] c : cases) {
            String body = "{\"id\":\"f1\",\"parameters\":{\"fail\":\"" + c[0] + "\"},\"inputs\":[{\"name\":\"x\","
                    + "\"datatype\":\"FP32\",\"shape\":[1],\"data\":[1]}]}";
            HttpResponse<String> r = server.post("/v2/models/echo/infer", body);
            assertError(r, (Integer) c[1], "fake failure " + c[0]);
            assertEquals(c[0] == InferenceException.Reason.OVERLOADED
                    || c[0] == InferenceException.Reason.REMOTE_UNAVAILABLE ? "1" : null,
                    r.headers().firstValue("retry-after").orElse(null));
        }
        // the model exists but is not ready
        assertError(server.post("/v2/models/echo/versions/2/infer", infer("FP32", "[1]", "[1]")), 503, "LOADING");
        // an unexpected failure is a 500 that names the request id for the log
        String crash = "{\"id\":\"crash-7\",\"parameters\":{\"mode\":\"crash\"},\"inputs\":[{\"name\":\"x\","
                + "\"datatype\":\"FP32\",\"shape\":[1],\"data\":[1]}]}";
        assertError(server.post("/v2/models/echo/infer", crash), 500, "request id crash-7");
    }

    /**
     * Red-team review 2026-12-02: a route's remote that answered 429 is answered 429 with its Retry-After (the
     * serving layer's seconds, bounded to 1..60 here too); another remote 4xx has none.
     */
    @Test
    public void aRemote429IsAnswered429WithTheRemotesRetryAfter() throws Exception {
        long[][] cases = {{7, 7}, {0, 1}, {600, 60}};
        for (long[] c : cases) {
            String body = "{\"id\":\"f1\",\"parameters\":{\"fail\":\"REMOTE_REJECTED\",\"remote_status\":429,"
                    + "\"retry_after\":" + c[0] + "},\"inputs\":[{\"name\":\"x\",\"datatype\":\"FP32\","
                    + "\"shape\":[1],\"data\":[1]}]}";
            HttpResponse<String> r = server.post("/v2/models/echo/infer", body);
            assertError(r, 429, "fake failure REMOTE_REJECTED");
            assertEquals("Retry-After for " + c[0], Long.toString(c[1]),
                    r.headers().firstValue("retry-after").orElse(null));
        }
        String other = "{\"id\":\"f1\",\"parameters\":{\"fail\":\"REMOTE_REJECTED\",\"remote_status\":404,"
                + "\"retry_after\":5},\"inputs\":[{\"name\":\"x\",\"datatype\":\"FP32\",\"shape\":[1],\"data\":[1]}]}";
        HttpResponse<String> r = server.post("/v2/models/echo/infer", other);
        assertError(r, 404, "fake failure REMOTE_REJECTED");
        assertEquals(null, r.headers().firstValue("retry-after").orElse(null));
    }

    @Test
    public void repositoryIndexAndLoadUnload() throws Exception {
        HttpResponse<String> r = server.post("/v2/repository/index", "");
        assertEquals(200, r.statusCode());
        JsonNode all = TestServer.json(r);
        assertEquals(4, all.size());
        assertEquals(TestServer.JSON.readTree("{\"name\":\"broken\",\"version\":\"3\",\"state\":\"FAILED\","
                + "\"reason\":\"model.onnx is corrupt\"}"), all.get(3));
        JsonNode ready = TestServer.json(server.post("/v2/repository/index", "{\"ready\":true}"));
        assertEquals(2, ready.size());
        assertEquals("echo", ready.get(0).get("name").asText());
        assertEquals("classifier", ready.get(1).get("name").asText());
        // content after the body's object was dropped silently (the infer route refused it already)
        assertError(server.post("/v2/repository/index", "{\"ready\":true} garbage"), 400, "at line 1, column 16");
        assertError(server.post("/v2/repository/index", "{\"ready\":true} 7"), 400,
                "unexpected content after the repository index request's JSON object at line 1, column 16");
        assertError(server.post("/v2/repository/index", "{\"ready\":true}{\"ready\":false}"), 400,
                "unexpected content after the repository index request's JSON object");
        assertEquals(200, server.post("/v2/repository/index", "{\"ready\":true}\n").statusCode());
        assertError(server.post("/v2/repository/models/echo/load", "{} {\"parameters\":{\"config\":\"{}\"}}"), 400,
                "unexpected content after the load request's JSON object");
        assertError(server.post("/v2/repository/models/echo/unload", "{} 1"), 400,
                "unexpected content after the unload request's JSON object");
        // without the serving layer's RepositoryControl (not bound here): 503 saying so, never 501 or a hang
        assertError(server.post("/v2/repository/models/echo/load", "{}"), 503, "cannot load model 'echo'");
        assertError(server.post("/v2/repository/models/echo/unload", ""), 503, "repository control is not available");
    }

    @Test
    public void adminPlugins() throws Exception {
        HttpResponse<String> r = server.get("/admin/plugins");
        assertEquals(200, r.statusCode());
        JsonNode plugins = TestServer.json(r);
        assertEquals(2, plugins.size());
        assertEquals(TestServer.JSON.readTree("{\"id\":13,\"symbolic_name\":\"io.tollgate.plugin.broken\","
                + "\"version\":\"3.0.0\",\"location\":\"file:/deploy/broken.jar\",\"model\":\"broken\","
                + "\"model_version\":\"3\",\"state\":\"FAILED\",\"error\":\"model.onnx is corrupt\","
                + "\"meter\":\"inference\"}"), plugins.get(1));   // the model's meter (the unit it bills)
    }

    @Test
    public void classificationExtension() throws Exception {
        String body = "{\"inputs\":[{\"name\":\"probs\",\"datatype\":\"FP32\",\"shape\":[2,4],"
                + "\"data\":[[0.1,0.7,0.15,0.05],[0.3,0.1,0.2,0.4]]}],"
                + "\"outputs\":[{\"name\":\"probs\",\"parameters\":{\"classification\":2}}]}";
        HttpResponse<String> r = server.post("/v2/models/classifier/infer", body);
        assertEquals(r.body(), 200, r.statusCode());
        JsonNode out = TestServer.json(r).get("outputs").get(0);
        assertEquals("BYTES", out.get("datatype").asText());
        assertEquals(TestServer.JSON.readTree("[2,2]"), out.get("shape"));
        assertEquals(TestServer.JSON.readTree("[\"0.700000:1:dog\",\"0.150000:2:bird\",\"0.400000:3:fish\","
                + "\"0.300000:0:cat\"]"), out.get("data"));
        assertEquals(List.of("probs"), server.service.last.requestedOutputs());
        // a BYTES output cannot be classified; refused before the model runs
        int calls = server.service.calls.get();
        String names = "{\"inputs\":[{\"name\":\"names\",\"datatype\":\"BYTES\",\"shape\":[1],\"data\":[\"a\"]}],"
                + "\"outputs\":[{\"name\":\"names\",\"parameters\":{\"classification\":1}}]}";
        assertError(server.post("/v2/models/classifier/infer", names), 400, "classification needs a numeric output");
        assertEquals(calls, server.service.calls.get());
    }

    @Test
    public void binaryTensorDataExtension() throws Exception {
        String json = "{\"inputs\":[{\"name\":\"x\",\"datatype\":\"FP32\",\"shape\":[1,3],"
                + "\"parameters\":{\"binary_data_size\":12}}],\"outputs\":[{\"name\":\"x\","
                + "\"parameters\":{\"binary_data\":true}}]}";
        byte[] head = json.getBytes(StandardCharsets.UTF_8);
        ByteBuffer body = ByteBuffer.allocate(head.length + 12).order(ByteOrder.LITTLE_ENDIAN);
        body.put(head).putFloat(0.5f).putFloat(-1f).putFloat(1e10f);
        HttpResponse<byte[]> r = server.client.send(HttpRequest.newBuilder(server.uri("/v2/models/echo/infer"))
                .header("Inference-Header-Content-Length", Integer.toString(head.length))
                .header("Content-Type", "application/octet-stream")
                .POST(HttpRequest.BodyPublishers.ofByteArray(body.array())).build(),
                HttpResponse.BodyHandlers.ofByteArray());
        assertEquals(new String(r.body(), StandardCharsets.UTF_8), 200, r.statusCode());
        assertEquals("application/octet-stream", r.headers().firstValue("content-type").orElse(""));
        int jsonLength = Integer.parseInt(r.headers().firstValue("inference-header-content-length").orElseThrow());
        JsonNode header = TestServer.JSON.readTree(new String(r.body(), 0, jsonLength, StandardCharsets.UTF_8));
        assertEquals(12, header.get("outputs").get(0).get("parameters").get("binary_data_size").asInt());
        ByteBuffer data = ByteBuffer.wrap(r.body(), jsonLength, 12).order(ByteOrder.LITTLE_ENDIAN);
        assertEquals(0.5f, data.getFloat(), 0f);
        assertEquals(-1f, data.getFloat(), 0f);
        assertEquals(1e10f, data.getFloat(), 0f);
        assertEquals(jsonLength + 12, r.body().length);
    }

    /** Large bodies (the decode threads' path): tensor bytes reach the service in a direct buffer, copied once. */
    @Test
    public void largeTensorsArriveInDirectBuffersBitForBit() throws Exception {
        try (TestServer big = new TestServer(16 << 20, 5_000)) {
            largeTensors(big);
        }
    }

    private static void largeTensors(TestServer big) throws Exception {
        int n = 3 * 200 * 200;   // 480,000 bytes of FP32: above InferRoute.OFFLOAD_BYTES
        String json = "{\"inputs\":[{\"name\":\"x\",\"datatype\":\"FP32\",\"shape\":[1,3,200,200],"
                + "\"parameters\":{\"binary_data_size\":" + (n * 4) + "}}],\"outputs\":[{\"name\":\"x\","
                + "\"parameters\":{\"binary_data\":true}}]}";
        byte[] head = json.getBytes(StandardCharsets.UTF_8);
        ByteBuffer body = ByteBuffer.allocate(head.length + n * 4).order(ByteOrder.LITTLE_ENDIAN);
        body.put(head);
        java.util.Random random = new java.util.Random(7);
        for (int i = 0; i < n; i++) {
            body.putInt(random.nextInt());   // any bit pattern, NaN payloads included
        }
        HttpResponse<byte[]> r = big.client.send(HttpRequest.newBuilder(big.uri("/v2/models/echo/infer"))
                .header("Inference-Header-Content-Length", Integer.toString(head.length))
                .header("Content-Type", "application/octet-stream")
                .POST(HttpRequest.BodyPublishers.ofByteArray(body.array())).build(),
                HttpResponse.BodyHandlers.ofByteArray());
        assertEquals(new String(r.body(), 0, Math.min(300, r.body().length), StandardCharsets.UTF_8), 200,
                r.statusCode());
        assertTrue("binary input in a direct buffer", big.service.last.inputs().get(0).data().isDirect());
        int jsonLength = Integer.parseInt(r.headers().firstValue("inference-header-content-length").orElseThrow());
        assertEquals(jsonLength + n * 4, r.body().length);
        assertTrue("the echoed tensor is the sent one, bit for bit", java.util.Arrays.equals(body.array(), head.length,
                body.array().length, r.body(), jsonLength, r.body().length));

        StringBuilder data = new StringBuilder("[");
        for (int i = 0; i < n; i++) {
            data.append(i == 0 ? "" : ",").append((i % 255) / 255f);   // Float.toString: parses back to the same float
        }
        String text = "{\"inputs\":[{\"name\":\"x\",\"datatype\":\"FP32\",\"shape\":[1,3,200,200],\"data\":" + data
                + "]}],\"outputs\":[{\"name\":\"x\",\"parameters\":{\"binary_data\":true}}]}";
        r = big.client.send(HttpRequest.newBuilder(big.uri("/v2/models/echo/infer"))
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(text)).build(), HttpResponse.BodyHandlers.ofByteArray());
        assertEquals(200, r.statusCode());
        assertTrue("JSON FP32 input in a direct buffer", big.service.last.inputs().get(0).data().isDirect());
        jsonLength = Integer.parseInt(r.headers().firstValue("inference-header-content-length").orElseThrow());
        ByteBuffer echoed = ByteBuffer.wrap(r.body(), jsonLength, n * 4).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < n; i++) {
            assertEquals(Float.floatToIntBits((i % 255) / 255f), echoed.getInt());
        }
    }

    @Test
    public void aBinaryShapeWhoseByteCountOverflowsIsA400() throws Exception {
        // 2^61 FP64 elements: the element count fits a long, its byte count (2^64) wraps to 0 = binary_data_size
        String json = "{\"inputs\":[{\"name\":\"x\",\"datatype\":\"FP64\",\"shape\":[2305843009213693952],"
                + "\"parameters\":{\"binary_data_size\":0}}]}";
        byte[] head = json.getBytes(StandardCharsets.UTF_8);
        ByteBuffer body = ByteBuffer.allocate(head.length).order(ByteOrder.LITTLE_ENDIAN);
        body.put(head);
        HttpResponse<String> r = server.client.send(HttpRequest.newBuilder(server.uri("/v2/models/echo/infer"))
                .header("Inference-Header-Content-Length", Integer.toString(head.length))
                .POST(HttpRequest.BodyPublishers.ofByteArray(body.array())).build(),
                HttpResponse.BodyHandlers.ofString());
        assertError(r, 400, "input 'x': shape [2305843009213693952] of FP64 needs more than 2^63 bytes");
    }

    @Test
    public void metricsCountRequests() throws Exception {
        long okBefore = metric("tollgate_inference_requests_total{model=\"echo\",outcome=\"ok\"}");
        long badBefore = metric("tollgate_inference_requests_total{model=\"echo\",outcome=\"bad_request\"}");
        for (int i = 0; i < 3; i++) {
            assertEquals(200, server.post("/v2/models/echo/infer", infer("FP32", "[1]", "[1]")).statusCode());
        }
        assertEquals(400, server.post("/v2/models/echo/infer", infer("FP32", "[2]", "[1]")).statusCode());
        assertEquals(404, server.post("/v2/models/ghost-" + System.nanoTime() + "/infer", infer("FP32", "[1]", "[1]"))
                .statusCode());
        HttpResponse<String> r = server.get("/metrics");
        assertEquals(200, r.statusCode());
        assertTrue(r.headers().firstValue("content-type").orElse("").startsWith("text/plain; version=0.0.4"));
        String text = r.body();
        assertEquals(okBefore + 3, metric(text, "tollgate_inference_requests_total{model=\"echo\",outcome=\"ok\"}"));
        assertEquals(badBefore + 1,
                metric(text, "tollgate_inference_requests_total{model=\"echo\",outcome=\"bad_request\"}"));
        assertTrue(text, metric(text, "tollgate_inference_requests_total{model=\"_unknown\",outcome=\"model_not_found\"}")
                >= 1);
        assertFalse("unknown model names do not become series", text.contains("ghost-"));
        assertTrue(metric(text, "tollgate_inference_request_duration_seconds_count{model=\"echo\"}") >= okBefore + 4);
        assertTrue(text.contains("tollgate_inference_request_duration_seconds_bucket{model=\"echo\",le=\"+Inf\"}"));
        assertTrue(text.contains("# TYPE tollgate_inference_request_duration_seconds histogram"));
        assertEquals(1, metric(text, "tollgate_model_ready{model=\"echo\",version=\"1\"}"));
        assertEquals(0, metric(text, "tollgate_model_ready{model=\"echo\",version=\"2\"}"));
        assertEquals(1, metric(text, "tollgate_model_state{model=\"broken\",version=\"3\",state=\"failed\"}"));
        assertEquals(1, metric(text, "tollgate_http_requests_in_flight")); // the /metrics request itself
        assertTrue(metric(text, "tollgate_http_responses_total{code=\"200\"}") >= 3);
    }

    @Test
    public void paymentRequiredIsItsOwnOutcomeAndTheLicensesHaveGauges() throws Exception {
        String body = "{\"id\":\"q1\",\"parameters\":{\"fail\":\"PAYMENT_REQUIRED\"},\"inputs\":[{\"name\":\"x\","
                + "\"datatype\":\"FP32\",\"shape\":[1],\"data\":[1]}]}";
        assertEquals(402, server.post("/v2/models/echo/infer", body).statusCode());
        java.time.Instant now = java.time.Instant.now();
        io.tollgate.licensing.License quota = new io.tollgate.licensing.License("L-quota", "V", "ab".repeat(32), "acme",
                "", "", "echo", "[1,2)", now.minusSeconds(60), java.time.Instant.ofEpochSecond(4102444800L), "inference",
                10, -1, false, now);
        io.tollgate.licensing.License expired = new io.tollgate.licensing.License("L-old", "V", "ab".repeat(32), "acme",
                "", "", "echo", "[1,2)", now.minusSeconds(60), now.minusSeconds(1), "inference", -1, -1, false, now);
        io.tollgate.licensing.Entitlements licenses = new io.tollgate.licensing.Entitlements() {
            @Override
            public io.tollgate.licensing.Entitlement check(String plugin, String version, long nowMillis) {
                throw new UnsupportedOperationException();
            }

            @Override
            public List<io.tollgate.licensing.License> licenses() {
                return List.of(quota, expired);
            }

            @Override
            public List<String> refusedFiles() {
                return List.of();
            }

            @Override
            public void addListener(Runnable listener) {
            }

            @Override
            public void removeListener(Runnable listener) {
            }
        };
        assertFalse(server.get("/metrics").body().contains("tollgate_license_"));
        server.endpoint.bindEntitlements(licenses);
        server.endpoint.bindQuotas(id -> id.equals("L-quota") ? 10 : 0);
        String text = server.get("/metrics").body();
        assertEquals(1, metric(text, "tollgate_inference_requests_total{model=\"echo\",outcome=\"payment_required\"}"));
        assertTrue(metric(text, "tollgate_http_responses_total{code=\"402\"}") >= 1);
        assertTrue(text, text.contains("\ntollgate_license_quota_remaining{license=\"L-quota\",plugin=\"echo\"} 0\n"));
        assertEquals(4102444800L, metric(text, "tollgate_license_expires_seconds{license=\"L-quota\",plugin=\"echo\"}"));
        assertEquals(1, metric(text, "tollgate_license_state{license=\"L-quota\",state=\"exhausted\"}"));
        assertTrue(text, text.contains("\ntollgate_license_state{license=\"L-quota\",state=\"active\"} 0\n"));
        assertEquals(1, metric(text, "tollgate_license_state{license=\"L-old\",state=\"expired\"}"));
        assertFalse("no quota, no remaining series", text.contains("tollgate_license_quota_remaining{license=\"L-old\""));
        server.endpoint.unbindEntitlements(licenses);
        assertFalse(server.get("/metrics").body().contains("tollgate_license_state"));
    }

    @Test
    public void licensesServingRefusesForOfflineReasonsSaySoInAdminLicensesAndMetrics() throws Exception {
        java.time.Instant now = java.time.Instant.now();
        io.tollgate.licensing.License term = new io.tollgate.licensing.License("L-term", "V", "ab".repeat(32), "acme",
                "", "", "echo", "[1,2)", now.minusSeconds(60), now.plusSeconds(86_400), "inference", -1, -1, false, now);
        io.tollgate.licensing.License grace = new io.tollgate.licensing.License("L-grace", "V", "ab".repeat(32), "acme",
                "", "", "echo", "[1,2)", now.minusSeconds(60), java.time.Instant.MAX, "inference", -1, 1, false, now);
        io.tollgate.licensing.License free = new io.tollgate.licensing.License("L-free", "V", "ab".repeat(32), "acme",
                "", "", "other", "[1,2)", now.minusSeconds(60), java.time.Instant.MAX, "inference", -1, -1, false, now);
        io.tollgate.licensing.Entitlements licenses = new io.tollgate.licensing.Entitlements() {
            @Override
            public io.tollgate.licensing.Entitlement check(String plugin, String version, long nowMillis) {
                throw new UnsupportedOperationException();
            }

            @Override
            public List<io.tollgate.licensing.License> licenses() {
                return List.of(term, grace, free);
            }

            @Override
            public List<String> refusedFiles() {
                return List.of();
            }

            @Override
            public void addListener(Runnable listener) {
            }

            @Override
            public void removeListener(Runnable listener) {
            }
        };
        io.tollgate.licensing.QuotaUsage serving = new io.tollgate.licensing.QuotaUsage() {
            @Override
            public long used(String licenseId) {
                return 0;
            }

            @Override
            public java.util.Optional<String> offlineRefusal(io.tollgate.licensing.License l) {
                return switch (l.id()) {
                    case "L-term" -> java.util.Optional.of("clock rolled back: the wall clock reads X, 24 h behind Y");
                    case "L-grace" -> java.util.Optional.of("offline grace expired: license L-grace allows 1 day");
                    default -> java.util.Optional.empty();
                };
            }
        };
        server.endpoint.bindEntitlements(licenses);
        server.endpoint.bindQuotas(serving);
        try {
            String text = server.get("/metrics").body();
            assertEquals(1, metric(text, "tollgate_license_state{license=\"L-term\",state=\"clock_rolled_back\"}"));
            assertEquals(0, metric(text, "tollgate_license_state{license=\"L-term\",state=\"active\"}"));
            assertEquals(1, metric(text, "tollgate_license_state{license=\"L-grace\",state=\"grace_expired\"}"));
            assertEquals(1, metric(text, "tollgate_license_state{license=\"L-free\",state=\"active\"}"));
            JsonNode listed = TestServer.json(server.get("/admin/licenses"));
            java.util.Map<String, JsonNode> byId = new java.util.HashMap<>();
            listed.path("licenses").forEach(l -> byId.put(l.path("id").asText(), l));
            assertEquals("clock rolled back", byId.get("L-term").path("state").asText());
            assertEquals("clock rolled back: the wall clock reads X, 24 h behind Y",
                    byId.get("L-term").path("reason").asText());
            assertEquals("offline grace expired", byId.get("L-grace").path("state").asText());
            assertEquals("valid", byId.get("L-free").path("state").asText());
            assertTrue(byId.get("L-free").toString(), byId.get("L-free").path("reason").isMissingNode());
        } finally {
            server.endpoint.unbindQuotas(serving);
            server.endpoint.unbindEntitlements(licenses);
        }
    }

    @Test
    public void metricsShowTheUsageJournalWhileOneIsBound() throws Exception {
        assertEquals(0, metric("tollgate_usage_journal_up"));
        JournalStatus status = new JournalStatus("tg-test", 1, 4242, 4200, 17, 1_700_000, 2_000_000, true, false, false);
        UsageJournal journal = new UsageJournal() {
            @Override
            public long append(UsageEvent event) {
                throw new UnsupportedOperationException();
            }

            @Override
            public JournalStatus status() {
                return status;
            }

            @Override
            public void releaseUpTo(long seq) {
            }

            @Override
            public List<UsageRecord> readFrom(long fromSeq, int max) {
                return List.of();
            }
        };
        server.endpoint.bindJournal(journal);
        try {
            String text = server.get("/metrics").body();
            assertEquals(1, metric(text, "tollgate_usage_journal_up"));
            assertEquals(4242, metric(text, "tollgate_usage_last_seq"));
            assertEquals(4200, metric(text, "tollgate_usage_last_sealed_seq"));
            assertEquals(17, metric(text, "tollgate_usage_released_seq"));
            assertEquals(1_700_000, metric(text, "tollgate_usage_disk_bytes"));
            assertEquals(2_000_000, metric(text, "tollgate_usage_disk_budget_bytes"));
            assertEquals(1, metric(text, "tollgate_usage_disk_warning"));
            assertEquals(0, metric(text, "tollgate_usage_refusing"));
            assertTrue(text.contains("# TYPE tollgate_usage_disk_bytes gauge"));
        } finally {
            server.endpoint.unbindJournal(journal);
        }
        String text = server.get("/metrics").body();
        assertEquals(0, metric(text, "tollgate_usage_journal_up"));
        assertFalse(text.contains("tollgate_usage_last_seq"));
    }

    @Test
    public void metricsShowTheSyncUplinkWhileOneIsBound() throws Exception {
        assertFalse(server.get("/metrics").body().contains("tollgate_sync_"));
        SyncStatus status = new SyncStatus(SyncStatus.LinkState.ONLINE, "tcp://127.0.0.1:1883", 5000, 4096, 904,
                12_500, 1_768_478_400_000L, 0, 123_456, 5100, 7, 2, "", 3);
        SyncStatusProvider provider = () -> status;
        server.endpoint.bindSync(provider);
        try {
            String text = server.get("/metrics").body();
            assertEquals(1, metric(text, "tollgate_sync_link{state=\"ONLINE\"}"));
            assertEquals(0, metric(text, "tollgate_sync_link{state=\"CONNECTING\"}"));
            assertEquals(4096, metric(text, "tollgate_sync_acked_seq"));
            assertEquals(904, metric(text, "tollgate_sync_backlog_records"));
            assertEquals(12, metric(text, "tollgate_sync_oldest_unacked_age_seconds"));
            assertEquals(1_768_478_400, metric(text, "tollgate_sync_last_ack_timestamp_seconds"));
            assertEquals(5100, metric(text, "tollgate_sync_records_sent_total"));
            assertEquals(2, metric(text, "tollgate_sync_connects_total"));
            assertEquals(3, metric(text, "tollgate_sync_acks_rejected_total"));
        } finally {
            server.endpoint.unbindSync(provider);
        }
        assertFalse(server.get("/metrics").body().contains("tollgate_sync_"));
    }

    /** Issue 8: the broker's packet limit, what it does to sending and the refusals show on /metrics. */
    @Test
    public void metricsShowTheBrokerPacketLimitAndWhy() throws Exception {
        SyncStatus status = new SyncStatus(SyncStatus.LinkState.ONLINE, "tcp://127.0.0.1:1883", 5000, 4096, 904,
                12_500, 1_768_478_400_000L, 0, 123_456, 5100, 7, 2, "", 0, 4096,
                "broker maximum packet size 4096 bytes: batches are split to fit it", 2);
        SyncStatusProvider provider = () -> status;
        server.endpoint.bindSync(provider);
        try {
            String text = server.get("/metrics").body();
            assertEquals(4096, metric(text, "tollgate_sync_broker_max_packet_bytes"));
            assertEquals(2, metric(text, "tollgate_sync_disconnects_after_publish_total"));
            assertEquals(1, metric(text, "tollgate_sync_size_limited{reason=\"broker maximum packet size 4096 bytes: "
                    + "batches are split to fit it\"}"));
        } finally {
            server.endpoint.unbindSync(provider);
        }
        SyncStatusProvider plain = () -> new SyncStatus(SyncStatus.LinkState.ONLINE, "tcp://127.0.0.1:1883", 1, 1, 0,
                0, 0, 0, 0, 0, 0, 1, "", 0);
        server.endpoint.bindSync(plain);
        try {
            String text = server.get("/metrics").body();
            assertEquals(0, metric(text, "tollgate_sync_size_limited"));
            assertEquals(0, metric(text, "tollgate_sync_broker_max_packet_bytes"));
        } finally {
            server.endpoint.unbindSync(plain);
        }
    }

    /** Issue 10: license files from the cloud's command topic, counted by command and result. */
    @Test
    public void metricsCountTheCloudsCommandsByCommandAndResult() throws Exception {
        SyncStatus status = new SyncStatus(SyncStatus.LinkState.ONLINE, "tcp://127.0.0.1:1883", 1, 1, 0, 0, 0, 0, 0,
                0, 0, 1, "", 0, 0, "", 0, java.util.List.of(new SyncStatus.CommandCount("license", "installed", 2),
                new SyncStatus.CommandCount("unknown", "refused", 5)));
        SyncStatusProvider provider = () -> status;
        server.endpoint.bindSync(provider);
        try {
            String text = server.get("/metrics").body();
            assertEquals(2, metric(text, "tollgate_sync_cmd_total{command=\"license\",result=\"installed\"}"));
            assertEquals(5, metric(text, "tollgate_sync_cmd_total{command=\"unknown\",result=\"refused\"}"));
            assertTrue(text.contains("# TYPE tollgate_sync_cmd_total counter"));
        } finally {
            server.endpoint.unbindSync(provider);
        }
    }

    @Test
    public void meteringUnavailableIsA503ThatSaysTheRequestWasNotServed() throws Exception {
        String body = "{\"id\":\"m1\",\"parameters\":{\"fail\":\"METERING_UNAVAILABLE\"},\"inputs\":[{\"name\":\"x\","
                + "\"datatype\":\"FP32\",\"shape\":[1],\"data\":[1]}]}";
        HttpResponse<String> r = server.post("/v2/models/echo/infer", body);
        assertError(r, 503, "fake failure METERING_UNAVAILABLE for model 'echo'");
        assertFalse("a refused request carries no outputs", r.body().contains("outputs"));
        assertTrue(metric("tollgate_inference_requests_total{model=\"echo\",outcome=\"metering_unavailable\"}") >= 1);
    }

    private static long metric(String name) throws Exception {
        return metric(server.get("/metrics").body(), name);
    }

    static long metric(String text, String series) {
        Matcher m = Pattern.compile("^" + Pattern.quote(series) + " (\\S+)$", Pattern.MULTILINE).matcher(text);
        if (!m.find()) {
            return 0;
        }
        return (long) Double.parseDouble(m.group(1));
    }

    @Test
    public void refusesToStartOnATakenPort() throws Exception {
        try (java.net.ServerSocket taken = new java.net.ServerSocket(0, 50,
                java.net.InetAddress.getByName("127.0.0.1"))) {
            try {
                new TestServer(TestServer.config(taken.getLocalPort(), 1024, 0, true)).close();
                fail("activation should fail on a taken port");
            } catch (IllegalStateException e) {
                assertTrue(e.getMessage(), e.getMessage().startsWith("cannot listen on 127.0.0.1:" + taken.getLocalPort()));
                assertTrue(e.getMessage(), e.getMessage().contains("set another port in the io.tollgate.endpoint"));
            }
        }
    }

    @Test
    public void refusesInvalidConfiguration() {
        try {
            new TestServer(TestServer.config(70000, 0, -1, true));
            fail("invalid configuration accepted");
        } catch (IllegalArgumentException e) {
            assertTrue(e.getMessage(), e.getMessage().contains("port must be 0..65535"));
            assertTrue(e.getMessage(), e.getMessage().contains("max.body.bytes must be positive"));
            assertTrue(e.getMessage(), e.getMessage().contains("drain.timeout.ms must be 0 or more"));
        }
        try {
            new TestServer(TestServer.config(0, 1024, 0, true), java.util.Map.of("port", 0, "max_body_bytes", "10"));
            fail("an underscored key was accepted and would have been ignored");
        } catch (IllegalArgumentException e) {
            assertTrue(e.getMessage(), e.getMessage().contains("key 'max_body_bytes' is not read; spell it "
                    + "'max.body.bytes'"));
        }
        try {
            new TestServer(TestServer.config(0, 1024, 0, true), java.util.Map.of("port", 0, "idle.timout.ms", "10"));
            fail("a misspelt key was accepted and would have been ignored");
        } catch (IllegalArgumentException e) {
            assertTrue(e.getMessage(), e.getMessage().contains("configuration io.tollgate.endpoint has an unknown key "
                    + "'idle.timout.ms' (did you mean 'idle.timeout.ms'?)"));
        }
    }

    @Test
    public void runsOnNioWhenNativeTransportIsOff() throws Exception {
        try (TestServer nio = new TestServer(TestServer.config(0, 1024, 0, false))) {
            assertEquals(200, nio.get("/v2/health/live").statusCode());
        }
    }

    @Test
    public void drainsRequestsInFlightOnDeactivate() throws Exception {
        TestServer s = new TestServer(1 << 20, 5_000);
        ExecutorService pool = Executors.newSingleThreadExecutor();
        try {
            String slow = "{\"parameters\":{\"delay_ms\":700},\"inputs\":[{\"name\":\"x\",\"datatype\":\"INT8\","
                    + "\"shape\":[1],\"data\":[5]}]}";
            Future<HttpResponse<String>> inFlight = pool.submit(() -> s.post("/v2/models/echo/infer", slow));
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
            while (s.service.calls.get() == 0 && System.nanoTime() < deadline) {
                Thread.sleep(5);
            }
            assertEquals(1, s.service.calls.get());
            long start = System.nanoTime();
            s.endpoint.deactivate();
            long tookMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
            HttpResponse<String> r = inFlight.get(5, TimeUnit.SECONDS);
            assertEquals("the request in flight is answered", 200, r.statusCode());
            assertEquals(5, TestServer.json(r).get("outputs").get(0).get("data").get(0).asInt());
            assertTrue("deactivate waited for it (" + tookMs + " ms)", tookMs >= 300);
            try (Socket refused = new Socket("127.0.0.1", s.port())) {
                fail("the port still accepts connections after deactivate");
            } catch (java.net.ConnectException expected) {
                assertNotNull(expected.getMessage());
            }
        } finally {
            pool.shutdownNow();
            s.service.close();
        }
    }

    /** Issue 11 defect 1: a route's remote answers the classification (its labels); the endpoint hands it on. */
    @Test
    public void aClassificationAnsweredByARoutesRemoteIsHandedOnAsItCame() throws Exception {
        String body = "{\"parameters\":{\"mode\":\"remote-classified\"},\"inputs\":[{\"name\":\"probs\","
                + "\"datatype\":\"FP32\",\"shape\":[1,4],\"data\":[0.1,0.2,0.3,0.4]}],"
                + "\"outputs\":[{\"name\":\"probs\",\"parameters\":{\"classification\":2}}]}";
        HttpResponse<String> r = server.post("/v2/models/classifier/infer", body);
        assertEquals(r.body(), 200, r.statusCode());
        assertEquals(java.util.Map.of("probs", 2), server.service.last.classification());
        JsonNode answer = TestServer.json(r);
        assertEquals("remote:plant-b", answer.path("parameters").path("accelerator").asText());
        assertEquals(TestServer.JSON.readTree("[\"0.500000:3:remote-label\",\"0.500000:3:remote-label\"]"),
                answer.path("outputs").path(0).path("data"));
        assertEquals(TestServer.JSON.readTree("[1,2]"), answer.path("outputs").path(0).path("shape"));
    }

    /** Issue 11 defect 3: a route-only model whose remote gave garbage metadata is a 502 naming the route. */
    @Test
    public void metadataOfARouteOnlyModelWithoutValidRemoteMetadataIs502NamingTheRoute() throws Exception {
        io.tollgate.model.ModelDescriptor empty = new io.tollgate.model.ModelDescriptor("routed", "", "", "remote",
                "", List.of(), List.of(), 0, List.of(), "inference", "", java.util.Map.of());
        String why = "route 'plant-b': http://10.0.0.7:8000 gave invalid metadata for model 'routed': it has no"
                + " \"inputs\" array";
        server.registry.models.add(new io.tollgate.serving.ModelStatus(empty, io.tollgate.serving.ModelState.FAILED,
                true, "", "", "remote:plant-b", why, 0, 0));
        server.registry.metadataFailures.put("routed", new io.tollgate.serving.RemoteRouteException(
                io.tollgate.serving.InferenceException.Reason.REMOTE_FAILED, "plant-b", 200, why));
        try {
            assertError(server.get("/v2/models/routed"), 502, why);
            server.registry.metadataFailures.put("routed", new io.tollgate.serving.RemoteRouteException(
                    io.tollgate.serving.InferenceException.Reason.REMOTE_UNAVAILABLE, "plant-b", 0, "route 'plant-b':"
                    + " the metadata of model 'routed' is being fetched"));
            HttpResponse<String> fetching = server.get("/v2/models/routed");
            assertError(fetching, 503, "is being fetched");
            assertEquals("1", fetching.headers().firstValue("Retry-After").orElse(""));
        } finally {
            server.registry.metadataFailures.clear();
            server.registry.models.removeIf(m -> m.name().equals("routed"));
        }
    }

    /** Issue 11 defect 4: the breaker state is one series per route, whatever number of models share it. */
    @Test
    public void theBreakerStateIsOneSeriesPerRoute() {
        StringBuilder out = new StringBuilder();
        EndpointMetrics.renderRoutes(out, List.of(
                new io.tollgate.serving.RouteStatus("fashion-mnist", "plant-b", "local-first", "http://b", "open", 4, 2),
                new io.tollgate.serving.RouteStatus("fashion-remote", "plant-b", "remote", "http://b", "open", 3, 3)));
        String text = out.toString();
        assertTrue(text, text.contains("\ntollgate_route_breaker_state{route=\"plant-b\",state=\"open\"} 1\n"));
        assertEquals(text, 3, text.split("tollgate_route_breaker_state\\{", -1).length - 1);
        assertTrue(text, text.contains("tollgate_route_requests_total{model=\"fashion-remote\",route=\"plant-b\"} 3"));
        assertTrue(text, text.contains("tollgate_route_failures_total{model=\"fashion-mnist\",route=\"plant-b\"} 2"));
    }
}
