package io.tollgate.serving.internal;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

import com.sun.net.httpserver.HttpServer;
import io.tollgate.metering.UsageEvent;
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
import org.junit.After;
import org.junit.Before;
import org.junit.Test;

/**
 * ServingService with a route to a real HTTP server (the JDK's): a model that exists only as a route is listed with
 * the remote's metadata, its successful answers are metered here as {@code remote:<route>} (one record each), and a
 * failed remote call is answered 502 and never metered.
 */
public class HybridServingTest {
    private HttpServer server;
    private final AtomicInteger status = new AtomicInteger(200);
    private final AtomicInteger posts = new AtomicInteger();
    /** The remote's 200 answer to an inference when set, else the valid one. */
    private final java.util.concurrent.atomic.AtomicReference<String> answer =
            new java.util.concurrent.atomic.AtomicReference<>();
    private final FakeUsageJournal journal = new FakeUsageJournal();
    private ServingService service;
    private Path conf;

    @Before
    public void setUp() throws Exception {
        server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.createContext("/", ex -> {
            ex.getRequestBody().readAllBytes();
            if (ex.getRequestMethod().equals("POST")) {
                posts.incrementAndGet();
            }
            if (ex.getRequestURI().getPath().equals("/v2/models/garbage")) {
                // a remote whose metadata is not metadata (no inputs, outputs a string)
                byte[] b = "{\"name\":\"garbage\",\"inputs\":[],\"outputs\":\"probs\"}"
                        .getBytes(StandardCharsets.UTF_8);
                ex.sendResponseHeaders(200, b.length);
                ex.getResponseBody().write(b);
                ex.close();
                return;
            }
            String body = ex.getRequestMethod().equals("GET")
                    ? "{\"name\":\"fm\",\"versions\":[\"3.0.0\"],\"platform\":\"onnxruntime_onnx\",\"inputs\":[{\"name\":"
                    + "\"image\",\"datatype\":\"FP32\",\"shape\":[-1,2]}],\"outputs\":[{\"name\":\"probs\",\"datatype\":"
                    + "\"FP32\",\"shape\":[-1,1]}]}"
                    : status.get() == 200 && answer.get() != null ? answer.get()
                    : status.get() == 200 ? "{\"model_name\":\"fm\",\"model_version\":\"3.0.0\",\"outputs\":[{\"name\":"
                    + "\"probs\",\"datatype\":\"FP32\",\"shape\":[3,1],\"data\":[0.5,0.25,1]}]}"
                    : "{\"error\":\"model crashed\"}";
            byte[] b = body.getBytes(StandardCharsets.UTF_8);
            ex.sendResponseHeaders(status.get(), b.length);
            ex.getResponseBody().write(b);
            ex.close();
        });
        server.start();
        conf = Files.createTempDirectory("hybrid-serving");
        Path models = Files.createDirectories(conf.resolve("models"));
        Files.writeString(models.resolve("rm.json"), "{\"route\":{\"mode\":\"remote\",\"name\":\"plant-b\",\"url\":"
                + "\"http://127.0.0.1:" + server.getAddress().getPort() + "\",\"model\":\"fm\",\"binary_data\":false}}");
        service = new ServingService(new ServingSettings(2, 256, 2_000, 10_000, 2_000, 50), journal);
        service.bindEntitlements(io.tollgate.serving.testing.InMemoryEntitlements.everything());
        service.watchModelConfigs(models);
    }

    @After
    public void tearDown() throws Exception {
        service.deactivate();
        server.stop(0);
        try (var files = Files.walk(conf)) {
            files.sorted((a, b) -> b.compareTo(a)).forEach(p -> p.toFile().delete());
        }
    }

    private static InferenceRequest request(String id) {
        return new InferenceRequest("rm", null, id, List.of(Tensor.ofFloats("image", new long[] {3, 2},
                new float[6])), List.of(), "acme", Map.of());
    }

    @Test
    public void aRouteOnlyModelIsListedServedRemotelyAndMeteredHereOnlyWhenServed() throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        ModelStatus listed;
        while ((listed = service.model("rm", null).orElseThrow()).state() != ModelState.READY) {
            if (System.nanoTime() > deadline) {
                fail("the route's metadata was not fetched: " + listed);
            }
            Thread.sleep(20);
        }
        assertEquals("3.0.0", listed.version());
        assertEquals("image", listed.descriptor().inputs().get(0).name());
        assertTrue(service.models().stream().anyMatch(m -> m.name().equals("rm")));

        InferenceResponse r = service.infer(request("ok-1")).toCompletableFuture().get(10, TimeUnit.SECONDS);
        assertEquals("remote:plant-b", r.accelerator());
        assertEquals("rm", r.model());
        assertEquals(0.25f, r.outputs().get(0).toFloats()[1], 0f);
        List<UsageEvent> events = journal.events();
        assertEquals(1, events.size());
        UsageEvent e = events.get(0);
        assertEquals("remote:plant-b", e.accelerator());
        assertEquals("ok-1", e.requestId());
        assertEquals("acme", e.tenant());
        assertEquals("rm", e.model());
        assertEquals("3.0.0", e.modelVersion());
        assertEquals("the remote batches (-1): its first dimension", 3, e.quantity());

        status.set(500);
        try {
            service.infer(request("bad-1")).toCompletableFuture().get(10, TimeUnit.SECONDS);
            fail("served");
        } catch (ExecutionException x) {
            InferenceException ie = (InferenceException) x.getCause();
            assertEquals(Reason.REMOTE_FAILED, ie.reason());
            assertTrue(ie.getMessage(), ie.getMessage().contains("route 'plant-b'")
                    && ie.getMessage().contains("model crashed"));
        }
        assertEquals("a failed remote request is not metered", 1, journal.events().size());
        assertEquals(2, service.routes().get(0).requests());
        assertEquals(1, service.routes().get(0).failures());
    }

    /**
     * Issue 11: a model served here only through its route has no configuration here (the remote's is not this box's)
     * but real statistics: this box's of the requests it routed, under the version the remote's metadata names.
     */
    @Test
    public void aRouteOnlyModelsStatisticsAreTheRequestsThisBoxRouted() throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (service.model("rm", null).orElseThrow().state() != ModelState.READY) {
            if (System.nanoTime() > deadline) {
                fail("the route's metadata was not fetched");
            }
            Thread.sleep(20);
        }
        assertTrue("no configuration here", service.config("rm", null).isEmpty());
        service.infer(request("ok-1")).toCompletableFuture().get(10, TimeUnit.SECONDS);
        service.infer(request("ok-2")).toCompletableFuture().get(10, TimeUnit.SECONDS);
        status.set(500);
        try {
            service.infer(request("bad-1")).toCompletableFuture().get(10, TimeUnit.SECONDS);
            fail("served");
        } catch (ExecutionException expected) {
            // counted as a failure below
        }
        List<io.tollgate.serving.ModelStatistics> stats = service.statistics("rm", null);
        assertEquals(stats.toString(), 1, stats.size());
        io.tollgate.serving.ModelStatistics s = stats.get(0);
        assertEquals("rm", s.name());
        assertEquals("3.0.0", s.version());
        assertEquals(2, s.inferenceCount());
        assertEquals(2, s.executionCount());
        assertEquals(2, s.inferenceStats().success().count());
        assertTrue("the time of the remote calls", s.inferenceStats().success().ns() > 0);
        assertEquals(2, s.inferenceStats().computeInfer().count());
        assertEquals(1, s.inferenceStats().fail().count());
        assertEquals("batches of 3 rows", 3, s.batchStats().get(0).batchSize());
        assertTrue(s.lastInference() > 0);
        assertEquals(1, service.statistics("rm", "3.0.0").size());
        assertTrue(service.statistics("rm", "1.0.0").isEmpty());
        assertTrue("listed with every model's", service.statistics(null, null).stream()
                .anyMatch(x -> x.name().equals("rm") && x.inferenceCount() == 2));
    }

    private ModelStatus awaitState(String model, ModelState state) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        ModelStatus listed;
        while ((listed = service.model(model, null).orElseThrow()).state() != state) {
            if (System.nanoTime() > deadline) {
                fail(model + " did not turn " + state + ": " + listed);
            }
            Thread.sleep(20);
        }
        return listed;
    }

    /** Defect 2: a version in the path that is not a version name is 400 before anything is sent or claimed. */
    @Test
    public void aRoutedRequestWithAVersionThatIsNotANameIs400AndNeverSent() throws Exception {
        awaitState("rm", ModelState.READY);
        for (String version : List.of("..", ".", "a/b", "../../v2/repository/models/x/unload")) {
            try {
                service.infer(new InferenceRequest("rm", version, "v-1", List.of(Tensor.ofFloats("image",
                        new long[] {3, 2}, new float[6])), List.of(), "acme", Map.of()))
                        .toCompletableFuture().get(10, TimeUnit.SECONDS);
                fail("served " + version);
            } catch (ExecutionException x) {
                InferenceException ie = (InferenceException) x.getCause();
                assertEquals(version, Reason.BAD_REQUEST, ie.reason());
                assertTrue(ie.getMessage(), ie.getMessage().contains("'" + version + "'"));
            }
        }
        assertEquals("nothing went to the remote", 0, posts.get());
        assertEquals(0, journal.events().size());
        assertEquals(0, service.routes().get(0).requests());
    }

    /** Defect 3: a route-only model whose remote gives garbage metadata says why (502), never empty metadata. */
    @Test
    public void garbageMetadataOfARouteOnlyModelIsAFailureNamingTheRouteAndWhatWasWrong() throws Exception {
        Files.writeString(conf.resolve("models").resolve("bad.json"), "{\"route\":{\"mode\":\"remote\",\"name\":"
                + "\"plant-c\",\"url\":\"http://127.0.0.1:" + server.getAddress().getPort() + "\",\"model\":"
                + "\"garbage\",\"binary_data\":false}}");
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (service.metadataFailure("bad").isEmpty()
                || service.metadataFailure("bad").get().reason() != Reason.REMOTE_FAILED) {
            if (System.nanoTime() > deadline) {
                fail("no metadata failure: " + service.metadataFailure("bad") + " " + service.model("bad", null));
            }
            Thread.sleep(20);
        }
        InferenceException failure = service.metadataFailure("bad").get();
        assertTrue(failure.getMessage(), failure.getMessage().startsWith("route 'plant-c': ")
                && failure.getMessage().contains("invalid metadata for model 'garbage'")
                && failure.getMessage().contains("\"outputs\" is a JSON string"));
        ModelStatus listed = service.model("bad", null).orElseThrow();
        assertEquals(ModelState.FAILED, listed.state());
        assertEquals(failure.getMessage(), listed.error());

        // its requests are not sent: without metadata the answer could be neither checked nor counted (billed 1)
        int postsBefore = posts.get();
        try {
            service.infer(new InferenceRequest("bad", null, "r-bad", List.of(Tensor.ofFloats("image",
                    new long[] {8, 2}, new float[16])), List.of(), "acme", Map.of())).toCompletableFuture()
                    .get(10, TimeUnit.SECONDS);
            fail("a route-only model without metadata served a request");
        } catch (ExecutionException e) {
            InferenceException ie = (InferenceException) e.getCause();
            assertEquals(ie.getMessage(), Reason.REMOTE_FAILED, ie.reason());
            assertTrue(ie.getMessage(), ie.getMessage().startsWith("route 'plant-c': ")
                    && ie.getMessage().contains("the request was not sent"));
        }
        assertEquals("nothing sent", postsBefore, posts.get());
        assertEquals("nothing metered", 0, journal.events().size());

        awaitState("rm", ModelState.READY);
        assertTrue("valid metadata: no failure", service.metadataFailure("rm").isEmpty());
        assertTrue("not a route", service.metadataFailure("nothing-here").isEmpty());
    }

    @Test
    public void aRouteOnlyModelsAnswerIsNotRefusedForABatchItsMetadataCannotShow() throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (service.model("rm", null).orElseThrow().state() != ModelState.READY) {
            if (System.nanoTime() > deadline) {
                fail("the route's metadata was not fetched");
            }
            Thread.sleep(20);
        }
        // metadata [-1,2] -> [-1,1] is also a model without batching whose first axis is dynamic (a detector: 3
        // images in, 1 box out): the remote's answer is right, and refusing it would open the breaker
        answer.set("{\"model_name\":\"fm\",\"model_version\":\"3.0.0\",\"outputs\":[{\"name\":\"probs\","
                + "\"datatype\":\"FP32\",\"shape\":[1,1],\"data\":[0.5]}]}");
        InferenceResponse r = service.infer(request("boxes")).toCompletableFuture().get(10, TimeUnit.SECONDS);
        assertEquals(1, r.outputs().get(0).shape()[0]);
        assertEquals("served and metered", 1, journal.events().size());
        assertEquals(0, service.routes().get(0).failures());
    }

    /**
     * Red-team review 2026-12-02: a 200 answer for another batch than the request's, or with an output the model
     * does not declare, is a 502 naming the route and what was wrong; it is never metered nor handed on.
     */
    @Test
    public void aWrongAnswerOfTheRemoteIs502AndNeverMetered() throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (service.model("rm", null).orElseThrow().state() != ModelState.READY) {
            if (System.nanoTime() > deadline) {
                fail("the route's metadata was not fetched");
            }
            Thread.sleep(20);
        }
        String[][] wrong = {
                {"{\"model_name\":\"fm\",\"model_version\":\"3.0.0\",\"outputs\":[{\"name\":\"probs\",\"datatype\":"
                        + "\"INT32\",\"shape\":[3,1],\"data\":[1,2,3]}]}", "declares FP32"},
                {"{\"model_name\":\"fm\",\"model_version\":\"3.0.0\",\"outputs\":[{\"name\":\"probs\",\"datatype\":"
                        + "\"FP32\",\"shape\":[3,1],\"data\":[0.5,0.25,1]},{\"name\":\"other\",\"datatype\":"
                        + "\"FP32\",\"shape\":[3,1],\"data\":[1,2,3]}]}", "output 'other'"}};
        for (String[] w : wrong) {
            answer.set(w[0]);
            try {
                service.infer(request("wrong")).toCompletableFuture().get(10, TimeUnit.SECONDS);
                fail("served " + w[0]);
            } catch (ExecutionException x) {
                InferenceException ie = (InferenceException) x.getCause();
                assertEquals(Reason.REMOTE_FAILED, ie.reason());
                assertTrue(ie.getMessage(), ie.getMessage().contains("route 'plant-b'")
                        && ie.getMessage().contains(w[1]));
            }
        }
        assertEquals("a wrong answer is never metered", 0, journal.events().size());
        assertEquals(2, service.routes().get(0).failures());
    }

    /**
     * Review 2026-12-03: two boxes whose local-first routes overflow into each other while both are full: the request
     * comes back to the first, which refuses it 508; the second relays that 508 (not its own queue-full 503, which
     * the first would count as a failure of a working remote), and nothing is metered.
     */
    @Test
    public void aQueueFullOverflowThatComesBackAsALoopIsAnswered508NotOverloaded() throws Exception {
        Path models = conf.resolve("models");
        Files.writeString(models.resolve("fm.json"), "{\"dynamic_batching\":{\"default_queue_policy\":"
                + "{\"max_queue_size\":1}},\"route\":{\"mode\":\"local-first\",\"name\":\"plant-b\",\"url\":"
                + "\"http://127.0.0.1:" + server.getAddress().getPort() + "\",\"binary_data\":false}}");
        FakeEngine engine = new FakeEngine("fake");
        service.bindEngine(engine);
        service.trackerOpened(java.util.Set.of());
        service.pluginStarted(FakePluginSource.plugin(1, "fm", "1.0.0", FakeEngine.model(1)));
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (service.model("fm", null).map(m -> m.state() != ModelState.READY).orElse(true)
                || service.config("fm", null).map(c -> c.dynamicBatching() == null).orElse(true)) {
            if (System.nanoTime() > deadline) {
                fail("fm not READY with its queue of 1: " + service.models());
            }
            Thread.sleep(20);
        }
        FakeModel m = engine.models.get(0);
        m.runGate = new java.util.concurrent.CountDownLatch(1);
        status.set(508);     // the remote: the request came back to a box it passed through
        List<java.util.concurrent.CompletableFuture<InferenceResponse>> sent = new java.util.ArrayList<>();
        try {
            for (int i = 0; i < 6; i++) {
                sent.add(service.infer(new InferenceRequest("fm", null, "q-" + i, List.of(Tensor.ofFloats("image",
                        new long[] {1, 4}, new float[4])), List.of(), "acme", Map.of())).toCompletableFuture());
            }
            int loops = 0;
            for (java.util.concurrent.CompletableFuture<InferenceResponse> f : sent) {
                if (f.isDone() && f.isCompletedExceptionally()) {
                    try {
                        f.get();
                    } catch (ExecutionException x) {
                        InferenceException ie = (InferenceException) x.getCause();
                        assertEquals(ie.getMessage(), Reason.LOOP_DETECTED, ie.reason());
                        assertTrue(ie.getMessage(), ie.getMessage().startsWith("route 'plant-b': "));
                        loops++;
                    }
                }
            }
            deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (loops == 0 && System.nanoTime() < deadline) {
                Thread.sleep(20);
                loops = (int) sent.stream().filter(f -> f.isCompletedExceptionally()).count();
            }
            assertTrue("some requests overflowed and came back as loops", loops > 0);
        } finally {
            m.runGate.countDown();
        }
        for (java.util.concurrent.CompletableFuture<InferenceResponse> f : sent) {
            try {
                assertEquals("served here", "fake-cpu", f.get(10, TimeUnit.SECONDS).accelerator());
            } catch (ExecutionException x) {
                assertEquals(x.getCause().getMessage(), Reason.LOOP_DETECTED,
                        ((InferenceException) x.getCause()).reason());
            }
        }
        assertEquals("the remote works: no breaker failure", 0, service.routes().stream()
                .filter(r -> r.model().equals("fm")).findFirst().orElseThrow().failures());
        assertTrue("only what was served here is metered", journal.events().stream()
                .allMatch(e -> !e.accelerator().startsWith("remote:")));
    }
}
