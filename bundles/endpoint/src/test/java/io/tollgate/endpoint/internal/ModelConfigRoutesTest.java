package io.tollgate.endpoint.internal;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.tollgate.model.DataType;
import io.tollgate.model.ModelDescriptor;
import io.tollgate.model.TensorSpec;
import io.tollgate.serving.InferenceException;
import io.tollgate.serving.ModelConfig;
import io.tollgate.serving.ModelConfig.DynamicBatching;
import io.tollgate.serving.ModelConfig.InstanceGroup;
import io.tollgate.serving.ModelConfig.QueuePolicy;
import io.tollgate.serving.ModelConfig.VersionPolicy;
import io.tollgate.serving.ModelState;
import io.tollgate.serving.ModelStatus;
import io.tollgate.serving.RepositoryControl;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.After;
import org.junit.Before;
import org.junit.Test;

/** {@code GET .../config} in Triton's shape, field by field; load, unload and the index through RepositoryControl. */
public class ModelConfigRoutesTest {
    private TestServer server;

    @Before
    public void start() {
        server = new TestServer(1 << 20, 1_000);
    }

    @After
    public void stop() throws Exception {
        server.close();
    }

    private static ModelConfig classifier() {
        return new ModelConfig("classifier", "onnxruntime_onnx", "onnxruntime", 8,
                List.of(new TensorSpec("image", DataType.FP32, new long[] {1, 28, 28}),
                        new TensorSpec("names", DataType.BYTES, new long[] {-1})),
                List.of(new TensorSpec("probs", DataType.FP16, new long[] {10})),
                new VersionPolicy(VersionPolicy.Kind.LATEST, 2, List.of()), "1.0.0",
                new DynamicBatching(List.of(4, 8), 250, 2, 1,
                        new QueuePolicy(QueuePolicy.TimeoutAction.DELAY, 5000, false, 16),
                        Map.of(2, new QueuePolicy(QueuePolicy.TimeoutAction.REJECT, 0, true, 4))),
                List.of(new InstanceGroup("classifier_0", 2, InstanceGroup.Kind.KIND_CPU)),
                Map.of("intra_op_threads", "1"), List.of(new ModelConfig.ModelWarmup("random4", 4, true, 3)));
    }

    @Test
    public void configInTritonsShapeFieldByField() throws Exception {
        server.registry.configs.put("classifier/", classifier());
        HttpResponse<String> r = server.get("/v2/models/classifier/config");
        assertEquals(r.body(), 200, r.statusCode());
        JsonNode c = TestServer.json(r);
        assertEquals("classifier", c.get("name").textValue());
        assertEquals("onnxruntime_onnx", c.get("platform").textValue());
        assertEquals("onnxruntime", c.get("backend").textValue());
        assertTrue("an integer, as perf_analyzer reads it", c.get("max_batch_size").isInt());
        assertEquals(8, c.get("max_batch_size").intValue());
        assertEquals(json("{'latest':{'num_versions':2}}"), c.get("version_policy"));
        assertEquals(json("[{'name':'image','data_type':'TYPE_FP32','dims':[1,28,28]},"
                + "{'name':'names','data_type':'TYPE_STRING','dims':[-1]}]"), c.get("input"));
        assertEquals(json("[{'name':'probs','data_type':'TYPE_FP16','dims':[10]}]"), c.get("output"));
        assertEquals(json("{'preferred_batch_size':[4,8],'max_queue_delay_microseconds':250,'priority_levels':2,"
                + "'default_priority_level':1,'default_queue_policy':{'timeout_action':'DELAY',"
                + "'default_timeout_microseconds':5000,'allow_timeout_override':false,'max_queue_size':16},"
                + "'priority_queue_policy':{'2':{'timeout_action':'REJECT','default_timeout_microseconds':0,"
                + "'allow_timeout_override':true,'max_queue_size':4}}}"), c.get("dynamic_batching"));
        assertEquals(json("[{'name':'classifier_0','kind':'KIND_CPU','count':2}]"), c.get("instance_group"));
        assertEquals("1.0.0", c.get("default_model_version").textValue());
        // the model's meter (the unit its usage records count) joins the descriptor's parameters
        assertEquals(json("{'intra_op_threads':{'string_value':'1'},'meter':{'string_value':'inference'}}"),
                c.get("parameters"));
        assertEquals("Triton's model_warmup: every input, variable dimensions 1", json("[{'name':'random4',"
                + "'batch_size':4,'inputs':{'image':{'data_type':'TYPE_FP32','dims':[1,28,28],'random_data':true},"
                + "'names':{'data_type':'TYPE_STRING','dims':[1],'random_data':true}},'count':3}]"),
                c.get("model_warmup"));
        assertEquals("no other field", 12, c.size());
    }

    @Test
    public void versionedConfigAndNoDynamicBatchingWhenOff() throws Exception {
        ModelConfig off = new ModelConfig("classifier", "onnxruntime_onnx", "onnxruntime", 0, List.of(), List.of(),
                new VersionPolicy(VersionPolicy.Kind.SPECIFIC, 0, List.of("1.0.0")), "", null,
                List.of(new InstanceGroup("g", 1, InstanceGroup.Kind.KIND_AUTO)), Map.of());
        server.registry.configs.put("classifier/1.0.0", off);
        JsonNode c = TestServer.json(server.get("/v2/models/classifier/versions/1.0.0/config"));
        assertFalse(c.has("dynamic_batching"));
        assertEquals(json("{'specific':{'versions':['1.0.0']}}"), c.get("version_policy"));
        assertEquals("KIND_AUTO", c.get("instance_group").get(0).get("kind").textValue());
    }

    /**
     * Issue 11 follow-up: a version the version policy unloaded is not available. As Triton, model metadata lists only
     * the available versions, and its /config answers as for any version that is not ready (503 "not at ready state",
     * here with the reason); its statistics stay (Triton keeps those of every known version).
     */
    @Test
    public void aVersionThePolicyUnloadedIsNotInMetadataAndItsConfigIsNotReady() throws Exception {
        TensorSpec image = new TensorSpec("image", DataType.FP32, new long[] {-1, 4});
        String why = "model 'fm' 1.0.0 is not selected by the version policy (version_policy latest 1)";
        server.registry.models.add(new ModelStatus(FakeModelRegistry.descriptor("fm", "1.0.0", 8, List.of(image),
                List.of(image), List.of()), ModelState.UNLOADED, false, "io.acme.fm", "1.0.0", "", why, 0, 0));
        server.registry.models.add(FakeModelRegistry.status(FakeModelRegistry.descriptor("fm", "2.0.0", 8,
                List.of(image), List.of(image), List.of()), ModelState.READY, true));
        server.registry.configs.put("fm/1.0.0", classifier());
        server.registry.configs.put("fm/2.0.0", classifier());
        server.registry.configs.put("fm/", classifier());

        assertEquals("[\"2.0.0\"]", TestServer.json(server.get("/v2/models/fm")).get("versions").toString());
        HttpResponse<String> r = server.get("/v2/models/fm/versions/1.0.0/config");
        assertEquals(r.body(), 503, r.statusCode());
        assertTrue(r.body(), r.body().contains("model 'fm' version 1.0.0 is not at ready state: " + why));
        // like every other error, it names the request (it said "id":null)
        assertTrue(r.body(), TestServer.json(r).path("id").isTextual()
                && !TestServer.json(r).path("id").asText().isEmpty());
        assertEquals(200, server.get("/v2/models/fm/versions/2.0.0/config").statusCode());
        assertEquals(200, server.get("/v2/models/fm/config").statusCode());
        // a loading version is not ready either
        server.registry.configs.put("echo/2", classifier());
        r = server.get("/v2/models/echo/versions/2/config");
        assertEquals(r.body(), 503, r.statusCode());
        assertTrue(r.body(), r.body().contains("it is LOADING"));
    }

    @Test
    public void unknownModelOrVersionIs404() throws Exception {
        HttpResponse<String> r = server.get("/v2/models/nope/config");
        assertEquals(404, r.statusCode());
        assertTrue(r.body(), r.body().contains("model 'nope' is not installed"));
        assertEquals(404, server.get("/v2/models/classifier/versions/9/config").statusCode());
        // installed but no configuration (a refused plugin's placeholder)
        r = server.get("/v2/models/broken/versions/3/config");
        assertEquals(404, r.statusCode());
        assertTrue(r.body(), r.body().contains("GET /admin/plugins"));
        assertTrue("the version's own error, not a guess: " + r.body(), r.body().contains("model 'broken' 3 has no"
                + " configuration here: model.onnx is corrupt"));
        assertEquals(405, server.post("/v2/models/classifier/config", "{}").statusCode());
    }

    /**
     * Issue 11: a model served here only through its route (no plugin installed) was answered "its plugin was
     * refused"; nothing was refused. Its configuration is the remote's: 404 saying so, and where to look instead.
     */
    @Test
    public void aRouteOnlyModelsConfigIsTheRemotesNotARefusedPlugin() throws Exception {
        TensorSpec image = new TensorSpec("image", DataType.FP32, new long[] {-1, 4});
        ModelDescriptor remote = new ModelDescriptor("fm-remote", "3.0.0", "onnxruntime_onnx", "remote", "",
                List.of(image), List.of(image), 0, List.of(), "inference", "", Map.of());
        server.registry.models.add(new ModelStatus(remote, ModelState.READY, true, "", "", "remote:plant-b", "", 0, 0));
        server.registry.routes.add(new io.tollgate.serving.RouteStatus("fm-remote", "plant-b", "remote",
                "http://10.0.0.7:8000", "closed", 0, 0));
        assertEquals(200, server.get("/v2/models/fm-remote").statusCode());
        HttpResponse<String> r = server.get("/v2/models/fm-remote/config");
        assertEquals(r.body(), 404, r.statusCode());
        assertFalse(r.body(), r.body().contains("refused"));
        assertTrue(r.body(), r.body().contains("model 'fm-remote' is not installed here: it is served through route"
                + " 'plant-b', so its configuration is the remote server's"));
        assertFalse("the remote's address is not told to infer callers: " + r.body(), r.body().contains("10.0.0.7"));
    }

    @Test
    public void adminPluginsShowsARefusedConfigFile() throws Exception {
        server.registry.configErrors.put("echo", "conf/models/echo.json is refused (field 'max_batch_sise'): ...");
        JsonNode plugins = TestServer.json(server.get("/admin/plugins"));
        assertEquals("conf/models/echo.json is refused (field 'max_batch_sise'): ...",
                plugins.get(0).get("config_error").textValue());
        assertFalse(plugins.get(1).has("config_error"));
    }

    /** Records calls; refuses "ghost". */
    private static class FakeControl implements RepositoryControl {
        final List<String> calls = java.util.Collections.synchronizedList(new ArrayList<>());

        @Override
        public List<IndexEntry> index(boolean readyOnly) {
            List<IndexEntry> all = List.of(new IndexEntry("echo", "1", "READY", ""),
                    new IndexEntry("echo", "2", "UNAVAILABLE", "not selected by the version policy (latest 1)"));
            return readyOnly ? all.subList(0, 1) : all;
        }

        @Override
        public void load(String name) throws InferenceException {
            calls.add("load " + name);
            if (name.equals("ghost")) {
                throw new InferenceException(InferenceException.Reason.MODEL_NOT_FOUND, "no installed plugin holds"
                        + " model 'ghost'");
            }
            if (name.equals("broken")) {
                throw new InferenceException(InferenceException.Reason.MODEL_NOT_READY, "model 'broken' did not"
                        + " become ready: corrupt");
            }
        }

        @Override
        public void unload(String name) throws InferenceException {
            calls.add("unload " + name);
            if (name.equals("ghost")) {
                throw new InferenceException(InferenceException.Reason.MODEL_NOT_FOUND, "no installed plugin holds"
                        + " model 'ghost'");
            }
        }
    }

    @Test
    public void loadUnloadAndIndexGoToRepositoryControl() throws Exception {
        FakeControl control = new FakeControl();
        server.endpoint.bindRepository(control);
        HttpResponse<String> r = server.post("/v2/repository/models/echo/unload", "");
        assertEquals(r.body(), 200, r.statusCode());
        assertEquals("{}", r.body());
        assertEquals(200, server.post("/v2/repository/models/echo/load",
                "{\"parameters\":{\"unload_dependents\":false}}").statusCode());
        assertEquals(List.of("unload echo", "load echo"), control.calls);
        r = server.post("/v2/repository/models/ghost/load", "");
        assertEquals(404, r.statusCode());
        assertTrue(r.body(), r.body().contains("no installed plugin holds model 'ghost'"));
        assertEquals(404, server.post("/v2/repository/models/ghost/unload", "").statusCode());
        r = server.post("/v2/repository/models/broken/load", "");
        assertEquals(503, r.statusCode());
        assertTrue(r.body(), r.body().contains("did not become ready: corrupt"));
        r = server.post("/v2/repository/models/echo/load", "{\"parameters\":{\"config\":\"{}\"}}");
        assertEquals(400, r.statusCode());
        assertTrue(r.body(), r.body().contains("parameter 'config' is not supported"));
        assertEquals(400, server.post("/v2/repository/models/echo/load", "[1]").statusCode());
        assertEquals(400, server.post("/v2/repository/models/echo/load", "{").statusCode());
        assertEquals(json("[{'name':'echo','version':'1','state':'READY','reason':''},{'name':'echo','version':'2',"
                + "'state':'UNAVAILABLE','reason':'not selected by the version policy (latest 1)'}]"),
                TestServer.json(server.post("/v2/repository/index", "")));
        assertEquals(1, TestServer.json(server.post("/v2/repository/index", "{\"ready\":true}")).size());
        server.endpoint.unbindRepository(control);
        assertEquals(503, server.post("/v2/repository/models/echo/load", "").statusCode());
    }

    @Test(timeout = 60_000)
    public void aLoadIsAnsweredWhileAnotherIsStillInTheServingLayer() throws Exception {
        java.util.concurrent.CountDownLatch stuck = new java.util.concurrent.CountDownLatch(1);
        java.util.concurrent.atomic.AtomicInteger inSlow = new java.util.concurrent.atomic.AtomicInteger();
        FakeControl control = new FakeControl() {
            @Override
            public void load(String name) throws InferenceException {
                if (name.equals("slow")) {
                    inSlow.incrementAndGet();
                    try {
                        stuck.await();      // the serving layer bounds its own wait; this stands in for it
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                }
                super.load(name);
            }
        };
        server.endpoint.bindRepository(control);
        try {
            java.util.concurrent.CompletableFuture<HttpResponse<String>> slow = server.client.sendAsync(
                    java.net.http.HttpRequest.newBuilder(server.uri("/v2/repository/models/slow/load"))
                            .POST(java.net.http.HttpRequest.BodyPublishers.noBody()).build(),
                    HttpResponse.BodyHandlers.ofString());
            long t0 = System.nanoTime();
            while (inSlow.get() < 1 && System.nanoTime() - t0 < 10_000_000_000L) {
                Thread.sleep(5);
            }
            // before: one endpoint thread ran every call, so this one queued behind "slow" for as long as it took
            HttpResponse<String> r = server.post("/v2/repository/models/echo/unload", "");
            assertEquals(r.body(), 200, r.statusCode());
            assertFalse(slow.isDone());
            List<java.util.concurrent.CompletableFuture<HttpResponse<String>>> more = new ArrayList<>();
            for (int i = 1; i < RepositoryRoutes.MAX_CALLS; i++) {
                more.add(server.client.sendAsync(java.net.http.HttpRequest.newBuilder(
                        server.uri("/v2/repository/models/slow/load")).POST(java.net.http.HttpRequest.BodyPublishers
                        .noBody()).build(), HttpResponse.BodyHandlers.ofString()));
            }
            while (inSlow.get() < RepositoryRoutes.MAX_CALLS && System.nanoTime() - t0 < 10_000_000_000L) {
                Thread.sleep(5);
            }
            r = server.post("/v2/repository/models/echo/load", "");     // one more than MAX_CALLS: 503 at once
            assertEquals(r.body(), 503, r.statusCode());
            assertEquals("5", r.headers().firstValue("Retry-After").orElse(""));
            assertTrue(r.body(), r.body().contains("4 repository loads or unloads are in progress already"));
            stuck.countDown();
            assertEquals(200, slow.get(10, java.util.concurrent.TimeUnit.SECONDS).statusCode());
            for (java.util.concurrent.CompletableFuture<HttpResponse<String>> f : more) {
                assertEquals(200, f.get(10, java.util.concurrent.TimeUnit.SECONDS).statusCode());
            }
        } finally {
            stuck.countDown();
        }
    }

    private static JsonNode json(String text) throws Exception {
        return TestServer.JSON.readTree(text.replace('\'', '"'));
    }
}
