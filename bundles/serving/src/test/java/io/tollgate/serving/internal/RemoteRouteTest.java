package io.tollgate.serving.internal;

import static org.junit.Assert.assertArrayEquals;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.tollgate.model.Tensor;
import io.tollgate.serving.InferenceException.Reason;
import io.tollgate.serving.InferenceRequest;
import io.tollgate.serving.InferenceResponse;
import io.tollgate.serving.RemoteRouteException;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.After;
import org.junit.Before;
import org.junit.Test;

/**
 * The route's client against a real HTTP server on a free port (the JDK's own): the binary and JSON forms, the key
 * sent, and how every remote failure maps (4xx kept, 5xx/redirect/key refused/invalid/too large 502, slow 504,
 * open circuit 503 without a call).
 */
public class RemoteRouteTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private HttpServer server;
    private ExecutorService threads;
    private final AtomicReference<Handler> handler = new AtomicReference<>();
    private final AtomicReference<HttpExchange> seen = new AtomicReference<>();
    private final AtomicReference<byte[]> seenBody = new AtomicReference<>();

    interface Handler {
        void handle(HttpExchange ex) throws Exception;
    }

    @Before
    public void setUp() throws Exception {
        server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.createContext("/", ex -> {
            try {
                seenBody.set(ex.getRequestBody().readAllBytes());
                seen.set(ex);
                handler.get().handle(ex);
            } catch (Exception e) {
                ex.sendResponseHeaders(599, -1);
            } finally {
                ex.close();
            }
        });
        server.setExecutor(Executors.newFixedThreadPool(2));
        server.start();
        threads = Executors.newFixedThreadPool(2);
    }

    @After
    public void tearDown() {
        server.stop(0);
        ((ExecutorService) server.getExecutor()).shutdownNow();
        threads.shutdownNow();
    }

    /**
     * The routes' timeout_ms: generous (a loaded 2-core CI box can take a second to answer a local call), except in
     * the test that is about the timeout.
     */
    private int timeoutMs = 10_000;

    private RemoteRoute route(String extra) throws Exception {
        JsonNode n = JSON.readTree(("{'mode':'remote','name':'plant-b','url':'http://127.0.0.1:"
                + server.getAddress().getPort() + "','api_key_file':'b.key','timeout_ms':" + timeoutMs + ","
                + "'circuit_breaker':{'failure_threshold':2,'open_ms':60000}" + extra + "}").replace('\'', '"'));
        java.nio.file.Path conf = java.nio.file.Files.createTempDirectory("route-test");
        conf.toFile().deleteOnExit();
        java.nio.file.Path key = conf.resolve("b.key");
        java.nio.file.Files.writeString(key, "tg_box_a_key");
        java.nio.file.Files.setPosixFilePermissions(key,
                java.nio.file.attribute.PosixFilePermissions.fromString("rw-------"));
        key.toFile().deleteOnExit();
        RouteConfig config = RouteConfig.parse(n, "fm", conf);
        return new RemoteRoute(config, "fm", threads);
    }

    private static InferenceRequest request() {
        return new InferenceRequest("fm", null, "req-1", List.of(Tensor.ofFloats("image", new long[] {2, 2},
                new float[] {0.1f, 0.2f, 0.3f, Float.NaN})), List.of(), "acme", Map.of("priority", 1));
    }

    private static void send(HttpExchange ex, int status, String body) throws IOException {
        byte[] b = body.getBytes(StandardCharsets.UTF_8);
        ex.sendResponseHeaders(status, b.length == 0 ? -1 : b.length);
        if (b.length > 0) {
            ex.getResponseBody().write(b);
        }
    }

    private RemoteRouteException failure(RemoteRoute route) throws Exception {
        try {
            InferenceResponse r = route.infer(request()).get(10, TimeUnit.SECONDS);
            fail("served: " + r);
            return null;
        } catch (ExecutionException e) {
            return (RemoteRouteException) e.getCause();
        }
    }

    @Test
    public void binaryTensorsGoAndComeBackExactlyWithTheRoutesKey() throws Exception {
        handler.set(ex -> {
            float[] out = {1.5f, -2.25f, Float.MIN_VALUE, 3e38f};
            ByteBuffer data = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN);
            data.asFloatBuffer().put(out);
            byte[] json = ("{\"model_name\":\"fm\",\"model_version\":\"2.0.0\",\"id\":\"req-1\",\"outputs\":[{\"name\":"
                    + "\"probs\",\"datatype\":\"FP32\",\"shape\":[2,2],\"parameters\":{\"binary_data_size\":16}}]}")
                    .getBytes(StandardCharsets.UTF_8);
            ex.getResponseHeaders().add("Inference-Header-Content-Length", Integer.toString(json.length));
            ex.sendResponseHeaders(200, json.length + 16);
            ex.getResponseBody().write(json);
            ex.getResponseBody().write(data.array());
        });
        RemoteRoute route = route("");
        InferenceResponse r = route.infer(request()).get(10, TimeUnit.SECONDS);
        assertEquals("/v2/models/fm/infer", seen.get().getRequestURI().getPath());
        assertEquals("Bearer tg_box_a_key", seen.get().getRequestHeaders().getFirst("Authorization"));
        int headerLength = Integer.parseInt(seen.get().getRequestHeaders().getFirst("Inference-Header-Content-Length"));
        JsonNode sent = JSON.readTree(new String(seenBody.get(), 0, headerLength, StandardCharsets.UTF_8));
        assertEquals("req-1", sent.get("id").asText());
        assertEquals(1, sent.get("parameters").get("priority").asInt());
        assertTrue(sent.get("parameters").get("binary_data_output").asBoolean());
        assertEquals(16, sent.get("inputs").get(0).get("parameters").get("binary_data_size").asInt());
        ByteBuffer in = ByteBuffer.wrap(seenBody.get(), headerLength, 16).order(ByteOrder.LITTLE_ENDIAN);
        assertEquals("NaN travels in binary", Float.floatToRawIntBits(Float.NaN),
                Float.floatToRawIntBits(in.getFloat(headerLength + 12)));
        assertEquals("fm", r.model());
        assertEquals("2.0.0", r.version());
        assertEquals("req-1", r.id());
        assertEquals("remote:plant-b", r.accelerator());
        assertArrayEquals(new float[] {1.5f, -2.25f, Float.MIN_VALUE, 3e38f}, r.outputs().get(0).toFloats(), 0f);
        assertEquals(1, route.status().requests());
        assertEquals(0, route.status().failures());
    }

    @Test
    public void jsonFormWhenBinaryDataIsOff() throws Exception {
        handler.set(ex -> send(ex, 200, "{\"model_name\":\"fm\",\"model_version\":\"1\",\"outputs\":[{\"name\":\"p\","
                + "\"datatype\":\"INT64\",\"shape\":[2],\"data\":[7,-8]},{\"name\":\"s\",\"datatype\":\"BYTES\","
                + "\"shape\":[1],\"data\":[\"ok\"]}]}"));
        InferenceResponse r = route(",'binary_data':false").infer(request()).get(10, TimeUnit.SECONDS);
        assertEquals("application/json", seen.get().getRequestHeaders().getFirst("Content-Type"));
        JsonNode sent = JSON.readTree(seenBody.get());
        assertEquals(4, sent.get("inputs").get(0).get("data").size());
        assertEquals(7L, r.outputs().get(0).data().getLong(0));
        assertEquals(-8L, r.outputs().get(0).data().getLong(8));
        assertEquals("ok", new String(r.outputs().get(1).strings().get(0), StandardCharsets.UTF_8));
    }

    @Test
    public void aRemote4xxKeepsItsStatusAndMessageAndDoesNotCountAsAFailure() throws Exception {
        handler.set(ex -> send(ex, 400, "{\"error\":\"input 'image' has shape [2,2] but the model expects [-1,4]\"}"));
        RemoteRoute route = route("");
        for (int i = 0; i < 3; i++) {
            RemoteRouteException e = failure(route);
            assertEquals(Reason.REMOTE_REJECTED, e.reason());
            assertEquals(400, e.remoteStatus());
            assertEquals("route 'plant-b': input 'image' has shape [2,2] but the model expects [-1,4]", e.getMessage());
        }
        assertEquals("closed", route.status().breaker());
        assertEquals(0, route.status().failures());
    }

    @Test
    public void serverErrorsRedirectsAndARefusedKeyAre502AndOpenTheCircuit() throws Exception {
        handler.set(ex -> send(ex, 500, "{\"error\":\"boom\"}"));
        RemoteRoute route = route("");
        RemoteRouteException e = failure(route);
        assertEquals(Reason.REMOTE_FAILED, e.reason());
        assertTrue(e.getMessage(), e.getMessage().contains("route 'plant-b'") && e.getMessage().contains("500: boom"));
        handler.set(ex -> {
            ex.getResponseHeaders().add("Location", "http://evil.example/steal");
            send(ex, 302, "");
        });
        e = failure(route);
        assertEquals(Reason.REMOTE_FAILED, e.reason());
        assertTrue(e.getMessage(), e.getMessage().contains("redirect") && e.getMessage().contains("refused"));
        assertEquals("open", route.status().breaker());
        int calls = route.status().requests() > 0 ? (int) route.status().requests() : 0;
        e = failure(route);
        assertEquals(Reason.REMOTE_UNAVAILABLE, e.reason());
        assertTrue(e.getMessage(), e.getMessage().contains("route 'plant-b'") && e.getMessage().contains("open"));
        assertEquals("no call while open", calls, route.status().requests());
        assertEquals(2, route.status().failures());

        handler.set(ex -> send(ex, 401, "{\"error\":\"unknown API key\"}"));
        e = failure(route(""));
        assertEquals(Reason.REMOTE_FAILED, e.reason());
        assertTrue(e.getMessage(), e.getMessage().contains("route.api_key_file"));
    }

    @Test
    public void slowIs504TooLargeAndInvalidAre502ConnectionRefusedIs502() throws Exception {
        handler.set(ex -> {
            Thread.sleep(3000);
            send(ex, 200, "{}");
        });
        timeoutMs = 1000;
        long t0 = System.nanoTime();
        RemoteRouteException e = failure(route(""));
        assertEquals(Reason.REMOTE_TIMEOUT, e.reason());
        assertTrue("bounded by timeout_ms", System.nanoTime() - t0 < 2_500_000_000L);
        assertTrue(e.getMessage(), e.getMessage().contains("within 1000 ms"));
        timeoutMs = 10_000;

        handler.set(ex -> send(ex, 200, "{\"outputs\":[],\"pad\":\"" + "x".repeat(5000) + "\"}"));
        e = failure(route(",'max_response_bytes':1024"));
        assertEquals(Reason.REMOTE_FAILED, e.reason());
        assertTrue(e.getMessage(), e.getMessage().contains("larger than 1024 bytes"));

        handler.set(ex -> send(ex, 200, "<html>hello</html>"));
        e = failure(route(""));
        assertEquals(Reason.REMOTE_FAILED, e.reason());
        assertTrue(e.getMessage(), e.getMessage().contains("invalid inference answer"));

        RemoteRoute gone = route("");
        server.stop(0);
        e = failure(gone);
        assertEquals(Reason.REMOTE_FAILED, e.reason());
        assertTrue(e.getMessage(), e.getMessage().contains("cannot connect") || e.getMessage().contains("failed"));
    }

    // ---- issue 11 "Hybrid overflow" defects ------------------------------------------------------------------

    private static final String METADATA = "{\"name\":\"fm\",\"versions\":[\"4\"],\"platform\":\"onnxruntime_onnx\","
            + "\"inputs\":[{\"name\":\"image\",\"datatype\":\"FP32\",\"shape\":[-1,2]}],\"outputs\":[{\"name\":"
            + "\"probs\",\"datatype\":\"FP32\",\"shape\":[-1,2]}]}";

    private static InferenceRequest request(String version, Map<String, Integer> classification) {
        return new InferenceRequest("fm", version, "req-1", List.of(Tensor.ofFloats("image", new long[] {2, 2},
                new float[] {0.1f, 0.2f, 0.3f, 0.4f})), classification.isEmpty() ? List.of()
                : List.copyOf(classification.keySet()), "acme", Map.of(), classification);
    }

    private static RemoteRouteException failure(RemoteRoute route, InferenceRequest request) throws Exception {
        try {
            InferenceResponse r = route.infer(request).get(10, TimeUnit.SECONDS);
            fail("served: " + r);
            return null;
        } catch (ExecutionException e) {
            return (RemoteRouteException) e.getCause();
        }
    }

    private static RemoteRouteException metadataFailure(RemoteRoute route) throws Exception {
        try {
            route.refreshMetadata().get(10, TimeUnit.SECONDS);
            fail("metadata accepted");
            return null;
        } catch (ExecutionException e) {
            return (RemoteRouteException) e.getCause();
        }
    }

    /** Defect 1: the classification goes to the remote, which answers it with its labels; that answer is kept. */
    @Test
    public void aClassificationIsAskedOfTheRemoteAndItsLabelledAnswerKept() throws Exception {
        handler.set(ex -> send(ex, 200, "{\"model_name\":\"fm\",\"model_version\":\"1\",\"outputs\":[{\"name\":"
                + "\"probs\",\"datatype\":\"BYTES\",\"shape\":[2,1],\"data\":[\"0.900000:1:Trouser\","
                + "\"0.700000:0:T-shirt/top\"]}]}"));
        RemoteRoute route = route("");
        InferenceResponse r = route.infer(request(null, Map.of("probs", 1)), null,
                System.nanoTime() + TimeUnit.SECONDS.toNanos(5)).get(10, TimeUnit.SECONDS);
        int headerLength = Integer.parseInt(seen.get().getRequestHeaders().getFirst("Inference-Header-Content-Length"));
        JsonNode sent = JSON.readTree(new String(seenBody.get(), 0, headerLength, StandardCharsets.UTF_8));
        assertEquals(sent.toString(), 1,
                sent.path("outputs").path(0).path("parameters").path("classification").asInt());
        assertEquals("probs", sent.path("outputs").path(0).path("name").asText());
        assertEquals(io.tollgate.model.DataType.BYTES, r.outputs().get(0).type());
        assertEquals("0.900000:1:Trouser", new String(r.outputs().get(0).strings().get(0), StandardCharsets.UTF_8));

        // what the remote gives back must be a classification: numbers, or entries that are not "score:index" are 502
        handler.set(ex -> send(ex, 200, "{\"model_name\":\"fm\",\"model_version\":\"1\",\"outputs\":[{\"name\":"
                + "\"probs\",\"datatype\":\"FP32\",\"shape\":[2,2],\"data\":[1,2,3,4]}]}"));
        RemoteRouteException e = failure(route, request(null, Map.of("probs", 1)));
        assertEquals(Reason.REMOTE_FAILED, e.reason());
        assertTrue(e.getMessage(), e.getMessage().contains("classification") && e.getMessage().contains("FP32"));
        handler.set(ex -> send(ex, 200, "{\"model_name\":\"fm\",\"model_version\":\"1\",\"outputs\":[{\"name\":"
                + "\"probs\",\"datatype\":\"BYTES\",\"shape\":[1],\"data\":[\"hello\"]}]}"));
        e = failure(route, request(null, Map.of("probs", 1)));
        assertTrue(e.getMessage(), e.getMessage().contains("'hello'") && e.getMessage().contains("score:index"));
    }

    /** Defect 2: a version that is not a version name never reaches the remote's URL: 400, no call. */
    @Test
    public void aVersionThatIsNotANameIs400AndNothingIsSent() throws Exception {
        handler.set(ex -> send(ex, 200, "{\"model_name\":\"fm\",\"model_version\":\"1\",\"outputs\":[]}"));
        RemoteRoute route = route("");
        for (String version : List.of("..", ".", "", "a/b", "../../admin", " 1", "1\n")) {
            RemoteRouteException e = failure(route, request(version, Map.of()));
            assertEquals(version, Reason.BAD_REQUEST, e.reason());
            assertTrue(e.getMessage(), e.getMessage().contains("in the request path")
                    && e.getMessage().contains("nothing was sent to route 'plant-b'"));
        }
        assertEquals("no call reached the remote", null, seen.get());
        assertEquals(0, route.status().requests());
        assertEquals("closed", route.status().breaker());
        InferenceResponse r = route.infer(request("1", Map.of())).get(10, TimeUnit.SECONDS);
        assertEquals("/v2/models/fm/versions/1/infer", seen.get().getRequestURI().getRawPath());
        assertEquals("1", r.version());
    }

    /** Defect 3: metadata that is not metadata is a REMOTE_FAILED naming what was wrong, counted by the breaker. */
    @Test
    public void garbageMetadataIsRefusedNamingWhatWasWrongAndCountsTowardTheBreaker() throws Exception {
        String[][] cases = {
            {"<html>hello</html>", "not JSON"},
            {"[1,2]", "not an object"},
            {"{\"name\":\"fm\",\"outputs\":[]}", "no \"inputs\" array"},
            {"{\"name\":\"fm\",\"inputs\":[]}", "no \"outputs\" array"},
            {"{\"inputs\":\"image\",\"outputs\":[]}", "\"inputs\" is a JSON string"},
            {"{\"inputs\":[{\"name\":\"x\",\"datatype\":\"FP99\",\"shape\":[1]}],\"outputs\":[]}", "datatype"},
            {"{\"inputs\":[{\"name\":\"x\",\"datatype\":\"FP32\",\"shape\":\"1\"}],\"outputs\":[]}", "shape"},
            {"{\"inputs\":[{\"name\":\"x\",\"datatype\":\"FP32\",\"shape\":[-5]}],\"outputs\":[]}", "-5"},
            {"{\"inputs\":[{\"datatype\":\"FP32\",\"shape\":[1]}],\"outputs\":[]}", "no \"name\""},
            {"{\"versions\":[\"../x\"],\"inputs\":[],\"outputs\":[]}", "contains '/'"},
            {"{\"versions\":\"1\",\"inputs\":[],\"outputs\":[]}", "\"versions\" is a JSON string"},
            {"{\"platform\":7,\"inputs\":[],\"outputs\":[]}", "\"platform\""},
            {"{\"inputs\":[],\"outputs\":[],\"pad\":\"" + "x".repeat((int) RemoteRoute.MAX_METADATA_BYTES) + "\"}",
                "larger than " + RemoteRoute.MAX_METADATA_BYTES},
        };
        for (String[] c : cases) {
            handler.set(ex -> send(ex, 200, c[0]));
            RemoteRoute route = route("");
            RemoteRouteException e = metadataFailure(route);
            assertEquals(c[1], Reason.REMOTE_FAILED, e.reason());
            assertTrue(e.getMessage() + " should say " + c[1], e.getMessage().startsWith("route 'plant-b': ")
                    && e.getMessage().contains(c[1]));
            assertEquals(e, route.metadataFailure());
            assertEquals(null, route.metadata());
        }
        // two garbage answers in a row (failure_threshold 2) open the circuit
        handler.set(ex -> send(ex, 200, "{}"));
        RemoteRoute route = route("");
        metadataFailure(route);
        assertEquals("closed", route.status().breaker());
        metadataFailure(route);
        assertEquals("open", route.status().breaker());

        // valid metadata is cached as before, and clears the failure
        handler.set(ex -> send(ex, 200, METADATA));
        RemoteRoute good = route("");
        handler.set(ex -> send(ex, 200, "{}"));
        metadataFailure(good);
        handler.set(ex -> send(ex, 200, METADATA));
        io.tollgate.model.ModelDescriptor d = good.refreshMetadata().get(10, TimeUnit.SECONDS);
        assertEquals("4", d.version());
        assertEquals("image", d.inputs().get(0).name());
        assertEquals(null, good.metadataFailure());
        assertEquals(d, good.metadata());
    }

    /** Defect 7: a KServe remote may leave model_version out; a different version or a bad name is still refused. */
    @Test
    public void anAnswerWithoutAVersionTakesTheOneAskedOrTheMetadatasOneAndADifferentOneIsRefused() throws Exception {
        String noVersion = "{\"model_name\":\"fm\",\"outputs\":[{\"name\":\"probs\",\"datatype\":\"FP32\","
                + "\"shape\":[2],\"data\":[1,2]}]}";
        handler.set(ex -> send(ex, 200, noVersion));
        RemoteRoute route = route(",'circuit_breaker':{'failure_threshold':10,'open_ms':60000}");
        RemoteRouteException e = failure(route, request(null, Map.of()));
        assertTrue("no metadata known yet: nothing names the version: " + e.getMessage(),
                e.getMessage().contains("names no model_version"));

        handler.set(ex -> send(ex, 200, "GET".equals(ex.getRequestMethod()) ? METADATA : noVersion));
        route.refreshMetadata().get(10, TimeUnit.SECONDS);
        assertEquals("the metadata's version", "4", route.infer(request(null, Map.of())).get(10, TimeUnit.SECONDS)
                .version());
        assertEquals("the version asked", "2", route.infer(request("2", Map.of())).get(10, TimeUnit.SECONDS)
                .version());
        handler.set(ex -> send(ex, 200, noVersion.replace("\"outputs\"", "\"model_version\":null,\"outputs\"")));
        assertEquals("null is left out too", "4", route.infer(request(null, Map.of())).get(10, TimeUnit.SECONDS)
                .version());

        handler.set(ex -> send(ex, 200, noVersion.replace("\"outputs\"", "\"model_version\":\"3\",\"outputs\"")));
        e = failure(route, request("2", Map.of()));
        assertTrue(e.getMessage(), e.getMessage().contains("version 2 was asked") && e.getMessage().contains("'3'"));
        handler.set(ex -> send(ex, 200, noVersion.replace("\"outputs\"", "\"model_version\":\"../evil\",\"outputs\"")));
        e = failure(route, request(null, Map.of()));
        assertTrue(e.getMessage(), e.getMessage().contains("model_version '../evil'"));
        handler.set(ex -> send(ex, 200, noVersion.replace("\"outputs\"", "\"model_version\":{\"a\":1},\"outputs\"")));
        e = failure(route, request(null, Map.of()));
        assertTrue(e.getMessage(), e.getMessage().contains("model_version is a JSON object"));
    }
}
