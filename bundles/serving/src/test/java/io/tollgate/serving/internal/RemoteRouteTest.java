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

    private RemoteRoute route(String extra) throws Exception {
        JsonNode n = JSON.readTree(("{'mode':'remote','name':'plant-b','url':'http://127.0.0.1:"
                + server.getAddress().getPort() + "','api_key_file':'b.key','timeout_ms':1000,"
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
        long t0 = System.nanoTime();
        RemoteRouteException e = failure(route(""));
        assertEquals(Reason.REMOTE_TIMEOUT, e.reason());
        assertTrue("bounded by timeout_ms", System.nanoTime() - t0 < 2_500_000_000L);
        assertTrue(e.getMessage(), e.getMessage().contains("within 1000 ms"));

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
}
