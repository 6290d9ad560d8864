package io.tollgate.serving.internal;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

import com.sun.net.httpserver.HttpServer;
import io.tollgate.model.Tensor;
import io.tollgate.serving.InferenceException;
import io.tollgate.serving.InferenceException.Reason;
import io.tollgate.serving.InferenceRequest;
import io.tollgate.serving.InferenceResponse;
import io.tollgate.serving.ModelState;
import io.tollgate.serving.ModelStatus;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.After;
import org.junit.Test;

/**
 * A route-only model whose remote serves Triton's model configuration ({@code GET /v2/models/{m}/config}): its
 * declared {@code max_batch_size} replaces the batching inferred from the metadata's {@code -1} first dimension, for
 * the batch check of answers and for billing; a {@code /config} that is missing, garbage, too large or slow changes
 * nothing (the metadata still works, nothing is checked for the batch, billed as inferred).
 *
 * <p>The remote (a real JDK HttpServer) describes {@code fm} as {@code image [-1,2] -> probs [-1,1]}; requests are 2
 * rows; the remote answers 3 rows (a detector's boxes, or a wrong batch) unless a test sets another answer.
 */
public class RemoteConfigBatchTest {
    private static final String METADATA = "{\"name\":\"fm\",\"versions\":[\"3\"],\"platform\":\"onnxruntime_onnx\","
            + "\"inputs\":[{\"name\":\"image\",\"datatype\":\"FP32\",\"shape\":[-1,2]}],\"outputs\":[{\"name\":"
            + "\"probs\",\"datatype\":\"FP32\",\"shape\":[-1,1]}]}";
    private static final String THREE_ROWS = "{\"model_name\":\"fm\",\"model_version\":\"3\",\"outputs\":[{\"name\":"
            + "\"probs\",\"datatype\":\"FP32\",\"shape\":[3,1],\"data\":[0.5,0.25,1]}]}";
    private static final String TWO_ROWS = "{\"model_name\":\"fm\",\"model_version\":\"3\",\"outputs\":[{\"name\":"
            + "\"probs\",\"datatype\":\"FP32\",\"shape\":[2,1],\"data\":[0.5,0.25]}]}";
    /** The route's timeout_ms. */
    private static final int TIMEOUT_MS = 2_000;

    private HttpServer server;
    private final AtomicInteger configStatus = new AtomicInteger(200);
    private final AtomicReference<String> configBody = new AtomicReference<>();
    private final AtomicInteger configDelayMs = new AtomicInteger();
    private final AtomicInteger configGets = new AtomicInteger();
    private final AtomicInteger inferPosts = new AtomicInteger();
    private final AtomicReference<String> answer = new AtomicReference<>(THREE_ROWS);
    private FakeUsageJournal journal;
    private ServingService service;
    private Path conf;

    /** Starts the remote and the serving layer with route 'plant-b' to it. */
    private void start() throws Exception {
        journal = new FakeUsageJournal();
        server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.setExecutor(java.util.concurrent.Executors.newFixedThreadPool(4));
        server.createContext("/", ex -> {
            ex.getRequestBody().readAllBytes();
            String path = ex.getRequestURI().getPath();
            int status = 200;
            String body;
            if (path.equals("/v2/models/fm/config")) {
                configGets.incrementAndGet();
                try {
                    Thread.sleep(configDelayMs.get());
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                status = configStatus.get();
                body = configBody.get();
                if (status == 302) {
                    ex.getResponseHeaders().add("Location", "http://127.0.0.1:1/v2/models/fm/config");
                }
            } else if (path.equals("/v2/models/fm")) {
                body = METADATA;
            } else if (path.equals("/v2/models/fm/infer")) {
                inferPosts.incrementAndGet();
                body = answer.get();
            } else {
                status = 404;
                body = "{\"error\":\"no such path\"}";
            }
            byte[] b = body.getBytes(StandardCharsets.UTF_8);
            try {
                ex.sendResponseHeaders(status, b.length);
                ex.getResponseBody().write(b);
            } catch (java.io.IOException gone) {
                // the route stopped reading (over its limit, or past its bound)
            }
            ex.close();
        });
        server.start();
        conf = Files.createTempDirectory("remote-config-batch");
        Path models = Files.createDirectories(conf.resolve("models"));
        Files.writeString(models.resolve("rm.json"), "{\"route\":{\"mode\":\"remote\",\"name\":\"plant-b\",\"url\":"
                + "\"http://127.0.0.1:" + server.getAddress().getPort() + "\",\"model\":\"fm\",\"binary_data\":false,"
                + "\"timeout_ms\":" + TIMEOUT_MS + ",\"max_response_bytes\":65536}}");
        service = new ServingService(new ServingSettings(2, 256, 2_000, 10_000, 2_000, 50), journal);
        service.bindEntitlements(io.tollgate.serving.testing.InMemoryEntitlements.everything());
        service.watchModelConfigs(models);
    }

    @After
    public void tearDown() throws Exception {
        if (service != null) {
            service.deactivate();
        }
        if (server != null) {
            server.stop(0);
            ((java.util.concurrent.ExecutorService) server.getExecutor()).shutdownNow();
        }
        if (conf != null) {
            try (var files = Files.walk(conf)) {
                files.sorted((a, b) -> b.compareTo(a)).forEach(p -> p.toFile().delete());
            }
        }
    }

    private static InferenceRequest twoRows(String id) {
        return new InferenceRequest("rm", null, id, List.of(Tensor.ofFloats("image", new long[] {2, 2},
                new float[4])), List.of(), "acme", Map.of());
    }

    private void awaitReady() throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        ModelStatus listed;
        while ((listed = service.model("rm", null).orElseThrow()).state() != ModelState.READY) {
            if (System.nanoTime() > deadline) {
                fail("the route's metadata was not fetched: " + listed);
            }
            Thread.sleep(20);
        }
    }

    private InferenceResponse infer(String id) throws Exception {
        return service.infer(twoRows(id)).toCompletableFuture().get(10, TimeUnit.SECONDS);
    }

    /** The remote's config declares max_batch_size 8: the answer is checked for the batch; billed by the batch. */
    @Test
    public void aDeclaredMaxBatchSizeChecksTheBatchAndBillsIt() throws Exception {
        configBody.set("{\"name\":\"fm\",\"platform\":\"onnxruntime_onnx\",\"max_batch_size\":8,\"input\":[],"
                + "\"output\":[],\"dynamic_batching\":{}}");
        start();
        awaitReady();
        try {
            infer("wrong-batch");
            fail("a 3-row answer to a 2-row request of a batching model was served");
        } catch (ExecutionException x) {
            InferenceException ie = (InferenceException) x.getCause();
            assertEquals(Reason.REMOTE_FAILED, ie.reason());
            assertTrue(ie.getMessage(), ie.getMessage().contains("route 'plant-b'")
                    && ie.getMessage().contains("first dimension 3") && ie.getMessage().contains("batch of 2"));
        }
        assertEquals("a wrong answer is never metered", 0, journal.events().size());
        assertEquals(1, service.routes().get(0).failures());

        answer.set(TWO_ROWS);
        InferenceResponse r = infer("right-batch");
        assertEquals(2, r.outputs().get(0).shape()[0]);
        assertEquals(1, journal.events().size());
        assertEquals("billed by the request's batch", 2, journal.events().get(0).quantity());
    }

    /**
     * The remote's config declares max_batch_size 1: a 2-row request is refused here, 400 naming the limit, without
     * sending it (the remote would refuse it too), metering it or counting it against the route's circuit breaker.
     */
    @Test
    public void aBatchOverTheDeclaredMaxBatchSizeIsRefusedBeforeItIsSent() throws Exception {
        configBody.set("{\"name\":\"fm\",\"max_batch_size\":1}");
        start();
        awaitReady();
        // (the /config is fetched with the metadata: READY carries its max_batch_size, as in the test above)
        try {
            infer("too-large");
            fail("a batch of 2 was sent to a model declaring max_batch_size 1");
        } catch (ExecutionException x) {
            InferenceException ie = (InferenceException) x.getCause();
            assertEquals(Reason.BAD_REQUEST, ie.reason());
            assertTrue(ie.getMessage(), ie.getMessage().startsWith("input 'image' has a batch of 2 but model 'rm' takes"
                    + " at most 1 per request (the max_batch_size of route 'plant-b'"));
            assertTrue(ie.getMessage(), ie.getMessage().endsWith("; split the request; it was not sent"));
        }
        assertEquals("not sent", 0, inferPosts.get());
        assertEquals("not metered", 0, journal.events().size());
        assertEquals("a client's mistake is no failure of the route", 0, service.routes().get(0).failures());
        answer.set("{\"model_name\":\"fm\",\"model_version\":\"3\",\"outputs\":[{\"name\":\"probs\",\"datatype\":"
                + "\"FP32\",\"shape\":[1,1],\"data\":[0.5]}]}");
        InferenceResponse one = service.infer(new InferenceRequest("rm", null, "one-row", List.of(Tensor.ofFloats(
                "image", new long[] {1, 2}, new float[2])), List.of(), "acme", Map.of()))
                .toCompletableFuture().get(10, TimeUnit.SECONDS);
        assertEquals("a batch that fits is sent", 1, inferPosts.get());
        assertEquals(1, journal.events().size());
        assertTrue(one.outputs().size() > 0);
    }

    /** The remote's config declares max_batch_size 0: the first axis is not a batch; never checked, billed 1. */
    @Test
    public void aDeclaredMaxBatchSizeOfZeroIsNoBatchDimension() throws Exception {
        configBody.set("{\"name\":\"fm\",\"max_batch_size\":0}");
        start();
        awaitReady();
        InferenceResponse r = infer("boxes");
        assertEquals(3, r.outputs().get(0).shape()[0]);
        assertEquals(1, journal.events().size());
        assertEquals("no batch dimension: one item", 1, journal.events().get(0).quantity());
        assertEquals(0, service.routes().get(0).failures());
    }

    /** A plain KServe server has no /config (404): as before, served unchecked and billed as the metadata infers. */
    @Test
    public void noConfigAtTheRemoteKeepsTheInferredBatching() throws Exception {
        configStatus.set(404);
        configBody.set("{\"error\":\"not found\"}");
        start();
        awaitReady();
        assertInferredBehaviour();
        assertTrue("the configuration was asked for", configGets.get() > 0);
    }

    /**
     * A /config answer that is not a usable configuration (not JSON, not an object, max_batch_size of another type,
     * negative or beyond an int, a redirect, a 5xx) is not a metadata failure: as with no /config.
     */
    @Test
    public void aGarbageConfigKeepsTheInferredBatching() throws Exception {
        String[][] cases = {{"200", "max_batch_size: 8"}, {"200", "[8]"}, {"200", "{\"max_batch_size\":\"8\"}"},
                {"200", "{\"max_batch_size\":-1}"}, {"200", "{\"max_batch_size\":8.5}"},
                {"200", "{\"max_batch_size\":4294967304}"}, {"200", "{\"name\":\"fm\"}"}, {"302", ""},
                {"500", "{\"error\":\"max_batch_size 8\"}"}};
        for (String[] c : cases) {
            configStatus.set(Integer.parseInt(c[0]));
            configBody.set(c[1]);
            start();
            try {
                awaitReady();
                assertTrue("metadata despite /config " + c[0] + " " + c[1],
                        service.metadataFailure("rm").isEmpty());
                assertInferredBehaviour();
            } finally {
                tearDown();
                service = null;
                server = null;
                conf = null;
            }
        }
    }

    /** A /config larger than the metadata's limit is cut off, not read: as with no /config. */
    @Test
    public void aTooLargeConfigKeepsTheInferredBatching() throws Exception {
        // a valid configuration declaring 8, padded past max_response_bytes (64 KiB): read whole it would be used
        configBody.set("{\"max_batch_size\":8,\"pad\":\"" + "x".repeat(200_000) + "\"}");
        start();
        awaitReady();
        assertInferredBehaviour();
    }

    /**
     * A /config slower than its bound (half of timeout_ms) does not hold the metadata back: the model is ready and a
     * first request is served within timeout_ms, as with no /config.
     */
    @Test
    public void aSlowConfigKeepsTheInferredBatchingAndDoesNotDelayTheFirstRequest() throws Exception {
        configBody.set("{\"max_batch_size\":8}");
        configDelayMs.set(TIMEOUT_MS * 2);
        start();
        long t0 = System.nanoTime();
        InferenceResponse r = infer("first");   // no wait for READY: the first request fetches the metadata
        assertTrue("served within timeout_ms", System.nanoTime() - t0 < TimeUnit.MILLISECONDS.toNanos(TIMEOUT_MS));
        assertEquals(3, r.outputs().get(0).shape()[0]);
        assertEquals(1, journal.events().size());
        assertEquals("billed as inferred (the metadata's -1)", 2, journal.events().get(0).quantity());
        assertEquals(0, service.routes().get(0).failures());
    }

    /** Today's behaviour for a route-only model: a 3-row answer to 2 rows served, billed 2 (the -1 first axis). */
    private void assertInferredBehaviour() throws Exception {
        InferenceResponse r = infer("boxes");
        assertEquals(3, r.outputs().get(0).shape()[0]);
        assertEquals(1, journal.events().size());
        assertEquals("billed by the batch inferred from the metadata's -1", 2, journal.events().get(0).quantity());
        assertEquals(0, service.routes().get(0).failures());
    }
}
