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
        handler.set(ex -> send(ex, 200, "{\"model_name\":\"fm\",\"model_version\":\"1\",\"outputs\":[{\"name\":"
                + "\"probs\",\"datatype\":\"FP32\",\"shape\":[2,1],\"data\":[1,2]}]}"));
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

    // ---- red-team review of hybrid overflow (2026-12-02) -----------------------------------------------------

    /** A model that batches (max_batch_size 8) with two outputs, as this box knows it. */
    /** A local plugin's descriptor (a declared max_batch_size 8) of the model the route serves. */
    private static io.tollgate.model.ModelDescriptor batching() {
        return new io.tollgate.model.ModelDescriptor("fm", "1", "onnxruntime_onnx", "onnxruntime", "",
                List.of(new io.tollgate.model.TensorSpec("image", io.tollgate.model.DataType.FP32, new long[] {-1, 2})),
                List.of(new io.tollgate.model.TensorSpec("probs", io.tollgate.model.DataType.FP32, new long[] {-1, 2}),
                        new io.tollgate.model.TensorSpec("logits", io.tollgate.model.DataType.FP32,
                                new long[] {-1, 2})),
                8, List.of(), "inference", "", Map.of());
    }

    private static String answer(String outputs) {
        return "{\"model_name\":\"fm\",\"model_version\":\"1\",\"outputs\":[" + outputs + "]}";
    }

    private static String output(String name, String shape, String data) {
        return "{\"name\":\"" + name + "\",\"datatype\":\"FP32\",\"shape\":" + shape + ",\"data\":" + data + "}";
    }

    private static InferenceRequest batchOf2(List<String> outputs) {
        return new InferenceRequest("fm", null, "req-1", List.of(Tensor.ofFloats("image", new long[] {2, 2},
                new float[] {0.1f, 0.2f, 0.3f, 0.4f})), outputs, "acme", Map.of());
    }

    private InferenceResponse served(RemoteRoute route, InferenceRequest request,
                                     io.tollgate.model.ModelDescriptor expected) throws Exception {
        return route.infer(request, expected, System.nanoTime() + TimeUnit.SECONDS.toNanos(10))
                .get(10, TimeUnit.SECONDS);
    }

    private RemoteRouteException refused(RemoteRoute route, InferenceRequest request,
                                         io.tollgate.model.ModelDescriptor expected) throws Exception {
        try {
            InferenceResponse r = served(route, request, expected);
            fail("served: " + r);
            return null;
        } catch (ExecutionException e) {
            return (RemoteRouteException) e.getCause();
        }
    }

    /**
     * Review 1a: when the model batches, every output's first dimension is the request's batch (the first dimension
     * of its inputs); an answer for another batch is 502, counted by the breaker. Triton's valid answers still pass:
     * all the model's outputs when none was requested, a batch of 1, an answer when this box knows no descriptor.
     */
    @Test
    public void anOutputForAnotherBatchThanTheRequestsIs502AndCountsTowardTheBreaker() throws Exception {
        RemoteRoute route = route(",'circuit_breaker':{'failure_threshold':10,'open_ms':60000}");
        String good = answer(output("probs", "[2,2]", "[1,2,3,4]") + "," + output("logits", "[2,2]", "[5,6,7,8]"));
        handler.set(ex -> send(ex, 200, good));
        InferenceResponse r = served(route, batchOf2(List.of()), batching());
        assertEquals("Triton returns every output when none is requested", 2, r.outputs().size());

        for (String[] bad : new String[][] {
                {output("probs", "[3,2]", "[1,2,3,4,5,6]"), "first dimension 3"},
                {output("probs", "[1,4]", "[1,2,3,4]"), "first dimension 1"},
                {output("probs", "[]", "[1]"), "no batch dimension"}}) {
            handler.set(ex -> send(ex, 200, answer(bad[0])));
            RemoteRouteException e = refused(route, batchOf2(List.of()), batching());
            assertEquals(Reason.REMOTE_FAILED, e.reason());
            assertTrue(e.getMessage(), e.getMessage().startsWith("route 'plant-b': ")
                    && e.getMessage().contains("output 'probs'") && e.getMessage().contains(bad[1])
                    && e.getMessage().contains("batch of 2"));
        }
        assertEquals(3, route.status().failures());

        // a model without a batch dimension (max_batch_size 0): its first axis (-1) is not checked against the batch
        io.tollgate.model.ModelDescriptor flat = new io.tollgate.model.ModelDescriptor("fm", "1", "", "remote", "",
                batching().inputs(), batching().outputs(), 0, List.of(), "inference", "", Map.of());
        handler.set(ex -> send(ex, 200, answer(output("probs", "[3,2]", "[1,2,3,4,5,6]"))));
        assertEquals(1, served(route, batchOf2(List.of()), flat).outputs().size());
        assertEquals("no descriptor known: nothing to check the batch against", 1,
                served(route, batchOf2(List.of()), null).outputs().size());
        // the remote's metadata ([-1,2]) cannot say whether its model batches or has a dynamic first axis: a right
        // answer of a model without batching (3 rows out for 2 in) is not refused
        io.tollgate.model.ModelDescriptor fromMetadata = new io.tollgate.model.ModelDescriptor("fm", "1", "",
                RemoteRoute.REMOTE_ENGINE, "", batching().inputs(), batching().outputs(), Integer.MAX_VALUE, List.of(),
                "inference", "", Map.of());
        handler.set(ex -> send(ex, 200, answer(output("probs", "[3,2]", "[1,2,3,4,5,6]"))));
        assertEquals(3, served(route, batchOf2(List.of()), fromMetadata).outputs().get(0).shape()[0]);
        assertEquals(3, route.status().failures());
    }

    /**
     * Probe 2026-12-03: an output whose rank or fixed dimensions contradict the shape the model declares (a client that
     * read this box's metadata trusts it) is 502, never handed on or metered; -1 dimensions take any size.
     */
    @Test
    public void anOutputOfAnotherShapeThanTheModelDeclaresIs502() throws Exception {
        RemoteRoute route = route(",'circuit_breaker':{'failure_threshold':10,'open_ms':60000}");
        io.tollgate.model.ModelDescriptor flat = new io.tollgate.model.ModelDescriptor("fm", "1", "", "remote", "",
                batching().inputs(), batching().outputs(), 0, List.of(), "inference", "", Map.of());
        for (io.tollgate.model.ModelDescriptor expected : List.of(batching(), flat)) {
            for (String[] bad : new String[][] {
                    {output("probs", "[2,5]", "[1,2,3,4,5,6,7,8,9,10]"), "[2, 5]"},
                    {output("probs", "[2,2,1]", "[1,2,3,4]"), "[2, 2, 1]"},
                    {output("probs", "[2]", "[1,2]"), "[2]"}}) {
                handler.set(ex -> send(ex, 200, answer(bad[0])));
                RemoteRouteException e = refused(route, batchOf2(List.of()), expected);
                assertEquals(e.getMessage(), Reason.REMOTE_FAILED, e.reason());
                assertTrue(e.getMessage(), e.getMessage().startsWith("route 'plant-b': ") && e.getMessage().contains(
                        "output 'probs' has the shape " + bad[1] + " but the model declares [-1, 2] (-1: any size)"));
            }
        }
        assertEquals(6, route.status().failures());
        handler.set(ex -> send(ex, 200, answer(output("probs", "[2,2]", "[1,2,3,4]"))));
        assertEquals(1, served(route, batchOf2(List.of()), batching()).outputs().size());
    }

    /**
     * Probe 2026-12-03 (route loops): the boxes a request passed through go to the remote in its Via header; a remote's
     * 508 (the request came back to a box) is answered 508 with its message and is not a breaker failure.
     */
    @Test
    public void theViaEntriesGoToTheRemoteAndItsLoopRefusalIs508() throws Exception {
        RemoteRoute route = route(",'circuit_breaker':{'failure_threshold':1,'open_ms':60000}");
        handler.set(ex -> send(ex, 200, answer(output("probs", "[2,2]", "[1,2,3,4]"))));
        served(route, batchOf2(List.of()).withVia(List.of("1.1 proxy-a", "1.1 tollgate-0123456789abcdef")),
                batching());
        assertEquals("1.1 proxy-a, 1.1 tollgate-0123456789abcdef", seen.get().getRequestHeaders().getFirst("Via"));
        served(route, batchOf2(List.of()), batching());
        assertEquals("a client's own request carries none", null, seen.get().getRequestHeaders().getFirst("Via"));

        handler.set(ex -> send(ex, 508, "{\"error\":\"route loop: request req-1 for model 'fm' came back to this"
                + " box\"}"));
        for (int i = 0; i < 3; i++) {
            RemoteRouteException e = refused(route, batchOf2(List.of()), batching());
            assertEquals(e.getMessage(), Reason.LOOP_DETECTED, e.reason());
            assertEquals(508, e.remoteStatus());
            assertEquals("route 'plant-b': route loop: request req-1 for model 'fm' came back to this box",
                    e.getMessage());
        }
        assertEquals("the remote works: its breaker stays closed", 0, route.status().failures());
        handler.set(ex -> send(ex, 200, answer(output("probs", "[2,2]", "[1,2,3,4]"))));
        served(route, batchOf2(List.of()), batching());
    }

    /** Probe 2026-12-03: an answer naming another model than the one asked is 502, never handed on or metered. */
    @Test
    public void anAnswerNamingAnotherModelIs502() throws Exception {
        RemoteRoute route = route(",'circuit_breaker':{'failure_threshold':10,'open_ms':60000}");
        String probs = output("probs", "[2,2]", "[1,2,3,4]");
        for (String[] bad : new String[][] {
                {"\"other\"", "the answer names model 'other'"},
                {"\"FM\"", "the answer names model 'FM'"},
                {"7", "the answer names a JSON number as its model_name"}}) {
            handler.set(ex -> send(ex, 200, answer(probs).replace("\"model_name\":\"fm\"", "\"model_name\":" + bad[0])));
            RemoteRouteException e = refused(route, batchOf2(List.of()), batching());
            assertEquals(e.getMessage(), Reason.REMOTE_FAILED, e.reason());
            assertTrue(e.getMessage(), e.getMessage().contains("model 'fm' was asked but " + bad[1]));
        }
        handler.set(ex -> send(ex, 200, answer(probs).replace("\"model_name\":\"fm\",", "")));
        assertEquals("a server that leaves the name out is taken at its path", 1,
                served(route, batchOf2(List.of()), batching()).outputs().size());
        handler.set(ex -> send(ex, 200, answer(probs).replace("\"fm\"", "\"fm__isvc-6b2eb0b8bf\"")));
        assertEquals("KServe ModelMesh names it <name>__isvc-<id>", 1,
                served(route, batchOf2(List.of()), batching()).outputs().size());
        handler.set(ex -> send(ex, 200, answer(probs).replace("\"fm\"", "\"fmx__isvc-6b2eb0b8bf\"")));
        assertTrue(refused(route, batchOf2(List.of()), batching()).getMessage().contains("names model 'fmx__isvc-"));
    }

    /**
     * Review 1b: an output the model does not declare, one that was not requested (when the request named outputs),
     * or the same output twice is 502 naming the route and the output.
     */
    @Test
    public void anUndeclaredUnrequestedOrDuplicateOutputIs502() throws Exception {
        RemoteRoute route = route(",'circuit_breaker':{'failure_threshold':10,'open_ms':60000}");
        String probs = output("probs", "[2,2]", "[1,2,3,4]");
        String logits = output("logits", "[2,2]", "[5,6,7,8]");

        handler.set(ex -> send(ex, 200, answer(probs + "," + output("secret", "[2,2]", "[9,9,9,9]"))));
        RemoteRouteException e = refused(route, batchOf2(List.of()), batching());
        assertEquals(Reason.REMOTE_FAILED, e.reason());
        assertTrue(e.getMessage(), e.getMessage().contains("route 'plant-b'")
                && e.getMessage().contains("output 'secret'") && e.getMessage().contains("does not declare"));

        handler.set(ex -> send(ex, 200, answer(probs + "," + logits)));
        e = refused(route, batchOf2(List.of("probs")), batching());
        assertEquals(Reason.REMOTE_FAILED, e.reason());
        assertTrue(e.getMessage(), e.getMessage().contains("output 'logits'")
                && e.getMessage().contains("was not requested"));
        e = refused(route, batchOf2(List.of("probs")), null);
        assertTrue("not requested, even without a descriptor: " + e.getMessage(),
                e.getMessage().contains("output 'logits'") && e.getMessage().contains("was not requested"));

        handler.set(ex -> send(ex, 200, answer(probs + "," + probs)));
        for (io.tollgate.model.ModelDescriptor expected : java.util.Arrays.asList(batching(), null)) {
            e = refused(route, batchOf2(List.of()), expected);
            assertEquals(Reason.REMOTE_FAILED, e.reason());
            assertTrue(e.getMessage(), e.getMessage().contains("output 'probs'") && e.getMessage().contains("twice"));
        }
        assertEquals("each refusal counts toward the breaker", 5, route.status().failures());

        handler.set(ex -> send(ex, 200, answer(probs)));
        assertEquals("what was requested, and only that", 1,
                served(route, batchOf2(List.of("probs")), batching()).outputs().size());
    }

    /**
     * Review 2: only Triton's priority and timeout (whole numbers, 0 or more) go to the remote, with the
     * binary_data_output this box sets; a client's other keys never reach a third-party server.
     */
    @Test
    public void onlyPriorityAndTimeoutAreForwardedToTheRemote() throws Exception {
        handler.set(ex -> send(ex, 200, answer(output("probs", "[2,2]", "[1,2,3,4]"))));
        Map<String, Object> parameters = new java.util.HashMap<>();
        parameters.put("priority", 2);
        parameters.put("timeout", 5000L);
        parameters.put("binary_data_output", false);
        parameters.put("api_key", "tg_client_secret");
        parameters.put("tenant", "someone-else");
        parameters.put("sequence_id", 7);
        parameters.put("x-anything", Map.of("a", 1));
        InferenceRequest request = new InferenceRequest("fm", null, "req-1", List.of(Tensor.ofFloats("image",
                new long[] {2, 2}, new float[4])), List.of(), "acme", parameters);
        route("").infer(request).get(10, TimeUnit.SECONDS);
        int headerLength = Integer.parseInt(seen.get().getRequestHeaders().getFirst("Inference-Header-Content-Length"));
        JsonNode sent = JSON.readTree(new String(seenBody.get(), 0, headerLength, StandardCharsets.UTF_8));
        assertEquals(JSON.readTree("{\"priority\":2,\"timeout\":5000,\"binary_data_output\":true}"),
                sent.get("parameters"));
        assertTrue(new String(seenBody.get(), StandardCharsets.UTF_8), !new String(seenBody.get(),
                StandardCharsets.UTF_8).contains("tg_client_secret"));

        route(",'binary_data':false").infer(request).get(10, TimeUnit.SECONDS);
        assertEquals("JSON form: no binary_data_output", JSON.readTree("{\"priority\":2,\"timeout\":5000}"),
                JSON.readTree(seenBody.get()).get("parameters"));
        route(",'binary_data':false").infer(new InferenceRequest("fm", null, "req-1", List.of(Tensor.ofFloats(
                "image", new long[] {2, 2}, new float[4])), List.of(), "acme", Map.of("x", "y")))
                .get(10, TimeUnit.SECONDS);
        assertEquals("{}", JSON.readTree(seenBody.get()).get("parameters").toString());

        // a priority or timeout that is not a whole number, 0 or more, is the client's 400: nothing is sent
        seen.set(null);
        for (Object bad : new Object[] {"high", -1, 1.5, Map.of()}) {
            RemoteRoute route = route("");
            RemoteRouteException e = failure(route, new InferenceRequest("fm", null, "req-1", List.of(
                    Tensor.ofFloats("image", new long[] {2, 2}, new float[4])), List.of(), "acme",
                    Map.of("priority", bad)));
            assertEquals(Reason.BAD_REQUEST, e.reason());
            assertTrue(e.getMessage(), e.getMessage().contains("parameters.priority")
                    && e.getMessage().contains("route 'plant-b'"));
            assertEquals("closed", route.status().breaker());
            assertEquals(0, route.status().failures());
        }
        assertEquals("never sent", null, seen.get());
    }

    /**
     * Review 3: a remote 429 is answered 429 naming the route, with the remote's Retry-After (seconds, bounded to
     * 1..60, 1 when absent or not seconds), and does not count toward the breaker.
     */
    @Test
    public void aRemote429IsRateLimitedWithItsRetryAfterBoundedAndNotABreakerFailure() throws Exception {
        RemoteRoute route = route("");
        String[][] cases = {{"7", "7"}, {"0", "1"}, {"3600", "60"}, {null, "1"}, {"soon", "1"},
                {"Wed, 21 Oct 2026 07:28:00 GMT", "1"}, {" 12 ", "12"}, {"99999999999999999999", "60"}};
        for (String[] c : cases) {
            handler.set(ex -> {
                if (c[0] != null) {
                    ex.getResponseHeaders().add("Retry-After", c[0]);
                }
                send(ex, 429, "{\"error\":\"too many requests\"}");
            });
            RemoteRouteException e = failure(route);
            assertEquals(Reason.REMOTE_REJECTED, e.reason());
            assertEquals(429, e.remoteStatus());
            assertEquals("Retry-After " + c[0], Long.parseLong(c[1]), e.retryAfterSeconds());
            assertTrue(e.getMessage(), e.getMessage().startsWith("route 'plant-b': ")
                    && e.getMessage().contains("429") && e.getMessage().contains("too many requests")
                    && e.getMessage().contains("retry after " + c[1] + " s"));
        }
        assertEquals("closed", route.status().breaker());
        assertEquals(0, route.status().failures());
    }

    /**
     * An answer without any output is no inference answer (Triton answers every output when none is requested): 502,
     * counted by the breaker, never metered, with or without a descriptor known here.
     */
    @Test
    public void anAnswerWithoutOutputsIs502() throws Exception {
        RemoteRoute route = route(",'circuit_breaker':{'failure_threshold':10,'open_ms':60000}");
        handler.set(ex -> send(ex, 200, answer("")));
        for (io.tollgate.model.ModelDescriptor expected : java.util.Arrays.asList(batching(), null)) {
            RemoteRouteException e = refused(route, batchOf2(List.of()), expected);
            assertEquals(Reason.REMOTE_FAILED, e.reason());
            assertTrue(e.getMessage(), e.getMessage().startsWith("route 'plant-b': ")
                    && e.getMessage().contains("no output"));
        }
        assertEquals(2, route.status().failures());
    }

    /**
     * The remote's model configuration is fetched with the metadata under the metadata's rules (this route's key, no
     * redirect followed); its max_batch_size marks the descriptor as declared, kept across a refresh that finds the
     * same, dropped when the configuration goes away.
     */
    @Test
    public void theRemotesConfigDeclaresTheMaxBatchSizeUnderTheMetadatasRules() throws Exception {
        AtomicReference<String> configAuth = new AtomicReference<>();
        AtomicReference<String> config = new AtomicReference<>("{\"name\":\"fm\",\"max_batch_size\":4}");
        java.util.concurrent.atomic.AtomicInteger redirected = new java.util.concurrent.atomic.AtomicInteger();
        handler.set(ex -> {
            String path = ex.getRequestURI().getPath();
            if (path.equals("/v2/models/fm/config")) {
                configAuth.set(ex.getRequestHeaders().getFirst("Authorization"));
                if (config.get() == null) {
                    ex.getResponseHeaders().add("Location", "/elsewhere");
                    send(ex, 307, "");
                } else {
                    send(ex, 200, config.get());
                }
            } else if (path.equals("/elsewhere")) {
                redirected.incrementAndGet();
                send(ex, 200, "{\"max_batch_size\":16}");
            } else {
                send(ex, 200, METADATA);
            }
        });
        RemoteRoute route = route("");
        io.tollgate.model.ModelDescriptor d = route.refreshMetadata().get(10, TimeUnit.SECONDS);
        assertEquals("Bearer tg_box_a_key", configAuth.get());
        assertEquals(4, d.maxBatchSize());
        assertTrue(route.batchDeclared(d));
        assertEquals(RemoteRoute.REMOTE_ENGINE, d.engine());
        assertTrue("an equal descriptor is not the declared one", !route.batchDeclared(
                new io.tollgate.model.ModelDescriptor(d.name(), d.version(), d.platform(), d.engine(), d.file(),
                        d.inputs(), d.outputs(), d.maxBatchSize(), d.labels(), d.meter(), d.licenseFeature(),
                        d.parameters())));
        assertTrue("the same answer again keeps the descriptor in use",
                route.refreshMetadata().get(10, TimeUnit.SECONDS) == d);

        config.set(null);
        io.tollgate.model.ModelDescriptor inferred = route.refreshMetadata().get(10, TimeUnit.SECONDS);
        assertEquals("a redirect is not followed", 0, redirected.get());
        assertEquals("inferred from the -1", Integer.MAX_VALUE, inferred.maxBatchSize());
        assertTrue(!route.batchDeclared(inferred));
        assertTrue("the descriptor in use before is no longer declared", !route.batchDeclared(d));
        assertEquals(null, route.metadataFailure());
        assertEquals("closed", route.status().breaker());
    }

    @Test
    public void aConfigsMaxBatchSizeIsAWholeNumberFromZero() {
        assertEquals(8, RemoteRoute.maxBatchSizeOf("{\"max_batch_size\":8}".getBytes(StandardCharsets.UTF_8)));
        assertEquals(0, RemoteRoute.maxBatchSizeOf("{\"max_batch_size\":0}".getBytes(StandardCharsets.UTF_8)));
        for (String bad : new String[] {"", "x", "[8]", "{}", "{\"max_batch_size\":null}", "{\"max_batch_size\":-1}",
                "{\"max_batch_size\":\"8\"}", "{\"max_batch_size\":1.5}", "{\"max_batch_size\":2147483648}"}) {
            try {
                RemoteRoute.maxBatchSizeOf(bad.getBytes(StandardCharsets.UTF_8));
                fail("accepted " + bad);
            } catch (IllegalArgumentException e) {
                assertTrue(e.getMessage(), !e.getMessage().isEmpty());
            }
        }
    }

    // ---- content after the JSON document (decision: JSON readers refuse content after the document) --------------

    /** The remote's answer carrying the JSON header {@code json} then the 16 bytes of {@code probs} [2,2] FP32. */
    private static void sendBinary(HttpExchange ex, String json) throws IOException {
        byte[] header = json.getBytes(StandardCharsets.UTF_8);
        ByteBuffer data = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN);
        data.asFloatBuffer().put(new float[] {1f, 2f, 3f, 4f});
        ex.getResponseHeaders().add("Inference-Header-Content-Length", Integer.toString(header.length));
        ex.sendResponseHeaders(200, header.length + 16);
        ex.getResponseBody().write(header);
        ex.getResponseBody().write(data.array());
    }

    /**
     * Guards that an inference answer is one JSON document: a second object or text after it (in the JSON form, or
     * inside the binary form's declared JSON header) is an invalid answer (REMOTE_FAILED, 502) counted by the
     * breaker, never the first object served.
     */
    @Test
    public void anInferenceAnswerWithContentAfterItsJsonIsRefused() throws Exception {
        String breaker = ",'circuit_breaker':{'failure_threshold':10,'open_ms':60000}";
        String refusal = "route 'plant-b': http://127.0.0.1:" + server.getAddress().getPort()
                + " gave an invalid inference answer: not JSON";

        RemoteRoute json = route(",'binary_data':false" + breaker);
        String doc = "{\"model_name\":\"fm\",\"model_version\":\"1\",\"outputs\":[{\"name\":\"p\",\"datatype\":"
                + "\"INT64\",\"shape\":[2],\"data\":[7,-8]}]}";
        handler.set(ex -> send(ex, 200, doc));
        InferenceResponse r = json.infer(request()).get(10, TimeUnit.SECONDS);
        assertEquals("the document alone is served", -8L, r.outputs().get(0).data().getLong(8));
        for (String after : new String[] {doc.replace("[7,-8]", "[1,2]"), " x"}) {
            handler.set(ex -> send(ex, 200, doc + after));
            RemoteRouteException e = failure(json);
            assertEquals(after, Reason.REMOTE_FAILED, e.reason());
            assertEquals(after, refusal, e.getMessage());
        }
        assertEquals(2, json.status().failures());

        RemoteRoute binary = route(breaker);
        String header = "{\"model_name\":\"fm\",\"model_version\":\"1\",\"outputs\":[{\"name\":\"probs\",\"datatype\":"
                + "\"FP32\",\"shape\":[2,2],\"parameters\":{\"binary_data_size\":16}}]}";
        handler.set(ex -> sendBinary(ex, header));
        r = binary.infer(request()).get(10, TimeUnit.SECONDS);
        assertArrayEquals(new float[] {1f, 2f, 3f, 4f}, r.outputs().get(0).toFloats(), 0f);
        for (String after : new String[] {"{\"model_name\":\"other\"}", " x"}) {
            handler.set(ex -> sendBinary(ex, header + after));
            RemoteRouteException e = failure(binary);
            assertEquals(after, Reason.REMOTE_FAILED, e.reason());
            assertEquals(after, refusal, e.getMessage());
        }
        assertEquals(2, binary.status().failures());
    }

    /**
     * Guards that the remote's metadata and its model configuration are one JSON document each: content after it is
     * invalid metadata (REMOTE_FAILED, "it is not JSON") and an unusable configuration, never the first object used.
     */
    @Test
    public void metadataAndAConfigWithContentAfterTheirJsonAreRefused() throws Exception {
        AtomicReference<String> metadata = new AtomicReference<>(METADATA);
        handler.set(ex -> {
            if (ex.getRequestURI().getPath().endsWith("/config")) {
                send(ex, 404, "{\"error\":\"no configuration\"}");
            } else {
                send(ex, 200, metadata.get());
            }
        });
        io.tollgate.model.ModelDescriptor d = route("").refreshMetadata().get(10, TimeUnit.SECONDS);
        assertEquals("the document alone is metadata", "4", d.version());
        for (String after : new String[] {METADATA.replace("\"4\"", "\"5\""), " x"}) {
            metadata.set(METADATA + after);
            RemoteRoute route = route("");
            RemoteRouteException e = metadataFailure(route);
            assertEquals(after, Reason.REMOTE_FAILED, e.reason());
            assertEquals(after, "route 'plant-b': http://127.0.0.1:" + server.getAddress().getPort()
                    + " gave invalid metadata for model 'fm': it is not JSON", e.getMessage());
            assertEquals(null, route.metadata());
        }

        assertEquals(8, RemoteRoute.maxBatchSizeOf("{\"max_batch_size\":8}".getBytes(StandardCharsets.UTF_8)));
        for (String after : new String[] {"{\"max_batch_size\":16}", " x"}) {
            try {
                RemoteRoute.maxBatchSizeOf(("{\"max_batch_size\":8}" + after).getBytes(StandardCharsets.UTF_8));
                fail("accepted a configuration followed by " + after);
            } catch (IllegalArgumentException e) {
                assertEquals("it is not JSON", e.getMessage());
            }
        }
    }
}
