package io.tollgate.endpoint.internal;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertNotEquals;
import static org.junit.Assert.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.HashSet;
import java.util.Set;
import java.util.regex.Pattern;
import org.junit.AfterClass;
import org.junit.BeforeClass;
import org.junit.Test;

/**
 * Issue 7, "one request id from the client to the bill", at the endpoint: the client's {@code id} or one the
 * endpoint generates is the id the serving layer gets, the response carries and every error body names.
 */
public class RequestIdTest {
    /** A UUID version 7 (RFC 9562) in lowercase text form: what the endpoint generates. */
    static final Pattern GENERATED = Pattern.compile("[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}");

    private static TestServer server;

    @BeforeClass
    public static void start() {
        server = new TestServer(64 * 1024, 5_000);
    }

    @AfterClass
    public static void stop() throws Exception {
        server.close();
    }

    /** An echo infer body; {@code idMember} is the JSON text of the "id" member, or null for none. */
    private static String body(String idMember) {
        return "{" + (idMember == null ? "" : "\"id\":" + idMember + ",")
                + "\"inputs\":[{\"name\":\"x\",\"datatype\":\"FP32\",\"shape\":[1],\"data\":[1]}]}";
    }

    private static HttpResponse<String> infer(String idMember) throws Exception {
        return server.post("/v2/models/echo/infer", body(idMember));
    }

    @Test
    public void echoesTheClientsIdAndPassesItToServing() throws Exception {
        HttpResponse<String> r = infer("\"line-7-cam-2\"");
        assertEquals(r.body(), 200, r.statusCode());
        assertEquals("line-7-cam-2", TestServer.json(r).get("id").asText());
        assertEquals("line-7-cam-2", server.service.last.id());
        String longest = "A0._~:/@+=-".repeat(12).substring(0, 128);
        r = infer("\"" + longest + "\"");
        assertEquals(r.body(), 200, r.statusCode());
        assertEquals(longest, TestServer.json(r).get("id").asText());
        assertEquals(longest, server.service.last.id());
    }

    @Test
    public void generatesOneIdForARequestWithoutOneAndPassesItToServing() throws Exception {
        Set<String> seen = new HashSet<>();
        for (String none : new String[] {null, "null", "\"\""}) {
            HttpResponse<String> r = infer(none);
            assertEquals(r.body(), 200, r.statusCode());
            String id = TestServer.json(r).get("id").asText();
            assertTrue("generated id " + id + " for id member " + none, GENERATED.matcher(id).matches());
            assertEquals("serving got the id the client got back", id, server.service.last.id());
            assertTrue("a new id for each request: " + id, seen.add(id));
        }
    }

    @Test
    public void theBinaryExtensionsJsonHeaderCarriesTheId() throws Exception {
        for (String idMember : new String[] {"\"bin-1\"", null}) {
            String json = "{" + (idMember == null ? "" : "\"id\":" + idMember + ",")
                    + "\"inputs\":[{\"name\":\"x\",\"datatype\":\"FP32\",\"shape\":[1],"
                    + "\"parameters\":{\"binary_data_size\":4}}],\"parameters\":{\"binary_data_output\":true}}";
            byte[] head = json.getBytes(StandardCharsets.UTF_8);
            ByteBuffer body = ByteBuffer.allocate(head.length + 4).order(ByteOrder.LITTLE_ENDIAN);
            body.put(head).putFloat(2.5f);
            HttpResponse<byte[]> r = server.client.send(HttpRequest.newBuilder(server.uri("/v2/models/echo/infer"))
                            .header("Inference-Header-Content-Length", Integer.toString(head.length))
                            .POST(HttpRequest.BodyPublishers.ofByteArray(body.array())).build(),
                    HttpResponse.BodyHandlers.ofByteArray());
            assertEquals(200, r.statusCode());
            int jsonLength = Integer.parseInt(r.headers().firstValue("inference-header-content-length").orElseThrow());
            JsonNode header = TestServer.JSON.readTree(new String(r.body(), 0, jsonLength, StandardCharsets.UTF_8));
            String id = header.get("id").asText();
            if (idMember == null) {
                assertTrue(id, GENERATED.matcher(id).matches());
            } else {
                assertEquals("bin-1", id);
            }
            assertEquals(id, server.service.last.id());
        }
    }

    @Test
    public void refusesInvalidIdsWith400SayingWhatIsAllowedWithoutCallingServing() throws Exception {
        long badBefore = metric("tollgate_inference_requests_total{model=\"echo\",outcome=\"bad_request\"}");
        long engineBefore = metric("tollgate_inference_requests_total{model=\"echo\",outcome=\"engine_failure\"}");
        int callsBefore = server.service.calls.get();
        String[][] cases = {
            {"\"" + "a".repeat(129) + "\"", "request id has 129 characters; at most 128 are allowed"},
            {"\"cam\\u00012\"", "request id has U+0001 at character 4"},
            {"\"cam\\t2\"", "request id has U+0009 at character 4"},
            {"\"m\u00fcller\"", "request id has U+00FC at character 2"},
            {"\"say \\\"hi\\\"\"", "request id has ' ' (U+0020) at character 4"},
            {"\"q\\\"uote\"", "request id has '\"' (U+0022) at character 2"},
            {"\"back\\\\slash\"", "request id has '\\' (U+005C) at character 5"},
            {"\"a,b\"", "request id has ',' (U+002C) at character 2"},
            {"\"=1+2\"", "request id starts with '=' (U+003D); it must start with a letter or a digit"},
            {"\"-x\"", "request id starts with '-' (U+002D)"},
        };
        for (String[] c : cases) {
            HttpResponse<String> r = infer(c[0]);
            assertEquals(c[0] + ": " + r.body(), 400, r.statusCode());
            JsonNode error = TestServer.json(r);
            String message = error.get("error").asText();
            assertTrue(c[0] + ": " + message, message.startsWith(c[1]));
            assertTrue("the message says what is allowed: " + message, message.contains(
                    "a request id is 1 to 128 characters: letters A-Z a-z, digits 0-9 and - . _ ~ : / @ + =,"
                            + " starting with a letter or a digit"));
            String id = error.path("id").asText();
            assertTrue("the error names the id the endpoint logs it under, not the refused one: " + r.body(),
                    GENERATED.matcher(id).matches());
        }
        assertEquals("refused before serving", callsBefore, server.service.calls.get());
        assertEquals("a client error", badBefore + cases.length,
                metric("tollgate_inference_requests_total{model=\"echo\",outcome=\"bad_request\"}"));
        assertEquals("never an engine failure", engineBefore,
                metric("tollgate_inference_requests_total{model=\"echo\",outcome=\"engine_failure\"}"));
    }

    @Test
    public void refusesIdsThatAreNotStringsInsteadOfTurningThemIntoText() throws Exception {
        int callsBefore = server.service.calls.get();
        for (String id : new String[] {"42", "true", "false", "1e2", "-0.5", "{}", "[\"a\"]"}) {
            HttpResponse<String> r = infer(id);
            assertEquals(id + ": " + r.body(), 400, r.statusCode());
            String message = TestServer.json(r).get("error").asText();
            assertTrue(id + ": " + message, message.startsWith("\"id\" must be a string at line 1, column 7"));
            assertTrue(r.body(), GENERATED.matcher(TestServer.json(r).get("id").asText()).matches());
        }
        assertEquals("refused before serving", callsBefore, server.service.calls.get());
    }

    @Test
    public void errorBodiesCarryTheId() throws Exception {
        String failing = "{\"id\":\"f-9\",\"parameters\":{\"fail\":\"ENGINE_FAILURE\"},\"inputs\":[{\"name\":\"x\","
                + "\"datatype\":\"FP32\",\"shape\":[1],\"data\":[1]}]}";
        HttpResponse<String> r = server.post("/v2/models/echo/infer", failing);
        assertEquals(500, r.statusCode());
        assertEquals("f-9", TestServer.json(r).get("id").asText());
        // a bad tensor after a valid id: the client's id
        r = server.post("/v2/models/echo/infer", "{\"id\":\"t-1\",\"inputs\":[{\"name\":\"x\",\"datatype\":\"FP32\","
                + "\"shape\":[2],\"data\":[1]}]}");
        assertEquals(400, r.statusCode());
        assertEquals("t-1", TestServer.json(r).get("id").asText());
        // no id, broken JSON, another route: the endpoint's own, a new one each time
        String a = TestServer.json(server.post("/v2/models/echo/infer", "{\"inputs\": [")).get("id").asText();
        String b = TestServer.json(server.get("/nowhere")).get("id").asText();
        assertTrue(a, GENERATED.matcher(a).matches());
        assertTrue(b, GENERATED.matcher(b).matches());
        assertNotEquals(a, b);
    }

    private static long metric(String series) throws Exception {
        return HttpEndpointTest.metric(server.get("/metrics").body(), series);
    }
}
