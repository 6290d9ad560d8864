package io.tollgate.serving.internal;

import static org.junit.Assert.assertArrayEquals;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

import io.tollgate.engine.onnx.internal.OnnxEngine;
import io.tollgate.engine.onnx.internal.OnnxSettings;
import io.tollgate.engine.spi.LoadedModel;
import io.tollgate.engine.spi.ModelArtifact;
import io.tollgate.metering.UsageEvent;
import io.tollgate.metering.UsageJournal;
import io.tollgate.metering.UsageRecord;
import io.tollgate.metering.testing.TestJournal;
import io.tollgate.model.ModelDescriptor;
import io.tollgate.model.Tensor;
import io.tollgate.serving.InferenceRequest;
import io.tollgate.serving.InferenceResponse;
import io.tollgate.serving.ModelConfig;
import io.tollgate.serving.ModelConfig.DynamicBatching;
import io.tollgate.serving.ModelConfig.InstanceGroup;
import io.tollgate.serving.ModelConfig.QueuePolicy;
import io.tollgate.serving.ModelState;
import io.tollgate.serving.ModelStatistics;
import io.tollgate.serving.testing.InMemoryEntitlements;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import org.junit.After;
import org.junit.Assume;
import org.junit.Before;
import org.junit.Test;

/**
 * Dynamic batching through the whole serving path with the real parts: the example fashion-mnist model on the real
 * ONNX Runtime, the real usage journal. 32 callers send requests of random batch sizes 1-4 at once; every answer must
 * equal, bit for bit, what the same model gives the request run alone, every request must have exactly one usage
 * record with its own id and quantity, and the engine must have run fewer times than there were requests.
 */
public class BatchingCorrectnessTest {
    private static final Path MODEL = Path.of(System.getProperty("basedir", "."))
            .resolve("../../plugins/fashion-mnist/src/main/model/model.onnx").normalize();
    private static final int CALLERS = 32;
    private static final int PER_CALLER = 12;

    private Path dir;
    private TestJournal device;
    private UsageJournal journal;
    private ServingService service;
    private LoadedModel alone;

    @Before
    public void open() throws Exception {
        Assume.assumeTrue("no fashion-mnist model at " + MODEL + " (plugins/fashion-mnist trains it)",
                Files.isRegularFile(MODEL));
        dir = Files.createTempDirectory("tollgate-batching");
        device = TestJournal.open(dir, 256, 1000, null);
        journal = device.journal();
    }

    @After
    public void close() throws Exception {
        if (service != null) {
            service.deactivate();
        }
        if (alone != null) {
            alone.close();
        }
        if (device != null) {
            device.close();
        }
        if (dir != null) {
            try (var files = Files.walk(dir)) {
                files.sorted((a, b) -> b.compareTo(a)).forEach(p -> p.toFile().delete());
            }
        }
    }

    @Test
    public void everyBatchedAnswerEqualsItsRunAloneAndHasItsOwnRecord() throws Exception {
        byte[] bytes = Files.readAllBytes(MODEL);
        OnnxEngine engine = new OnnxEngine(OnnxSettings.fromProperties(Map.of("intra_op_threads", "1")));
        service = new ServingService(new ServingSettings(2, 1024, 2_000, 10_000, 2_000, 50), journal);
        DynamicBatching batching = new DynamicBatching(List.of(8, 16), 2_000, 0, 0, QueuePolicy.DEFAULT, Map.of());
        service.schedulers().configs(v -> config(v.descriptor(), batching));
        service.bindEngine(engine);
        service.bindEntitlements(InMemoryEntitlements.everything());
        FakePluginSource plugin = new FakePluginSource(1, "io.acme.fashion-mnist", "1.0.0");
        plugin.declaredModel = "fashion-mnist";
        plugin.declaredModelVersion = "1.0.0";
        plugin.put("TOLLGATE-INF/model.json", "{\"name\":\"fashion-mnist\",\"version\":\"1.0.0\",\"platform\":\"onnx\","
                + "\"engine\":\"onnx\",\"file\":\"model.onnx\",\"max_batch_size\":16}");
        plugin.put("TOLLGATE-INF/model.onnx", bytes);
        service.trackerOpened(Set.of());
        service.pluginStarted(plugin);
        awaitReady();
        alone = engine.load(new ModelArtifact(new ModelDescriptor("fashion-mnist", "1.0.0", "onnx", "onnx",
                "model.onnx", List.of(), List.of(), 16, List.of(), "inference", "", Map.of()), bytes, "alone"));
        long before = journal.status().lastSeq();

        Map<String, Tensor> inputs = new ConcurrentHashMap<>();
        Map<String, Tensor> answers = new ConcurrentHashMap<>();
        List<Throwable> failures = java.util.Collections.synchronizedList(new ArrayList<>());
        List<Thread> callers = new ArrayList<>();
        for (int t = 0; t < CALLERS; t++) {
            int caller = t;
            Thread thread = new Thread(() -> {
                Random random = new Random(caller);
                for (int i = 0; i < PER_CALLER; i++) {
                    String id = "c" + caller + "-" + i;
                    int rows = 1 + random.nextInt(4);
                    float[] pixels = new float[rows * 784];
                    for (int p = 0; p < pixels.length; p++) {
                        pixels[p] = random.nextInt(256) / 255f;
                    }
                    Tensor image = Tensor.ofFloats("image", new long[] {rows, 1, 28, 28}, pixels);
                    inputs.put(id, image);
                    try {
                        InferenceResponse r = service.infer(new InferenceRequest("fashion-mnist", null, id,
                                List.of(image), List.of(), "tenant-" + caller, null)).toCompletableFuture()
                                .get(30, TimeUnit.SECONDS);
                        assertEquals(id, r.id());
                        answers.put(id, r.outputs().get(0));
                    } catch (Throwable e) {
                        failures.add(e);
                    }
                }
            }, "caller-" + t);
            callers.add(thread);
            thread.start();
        }
        for (Thread t : callers) {
            t.join(120_000);
        }
        assertTrue("failed requests: " + failures, failures.isEmpty());
        assertEquals(CALLERS * PER_CALLER, answers.size());

        // each answer equals the request's own run on the model, alone, bit for bit
        for (Map.Entry<String, Tensor> a : answers.entrySet()) {
            Tensor input = inputs.get(a.getKey());
            Tensor expected = alone.run(List.of(input), Set.of()).get(0);
            assertArrayEquals(a.getKey() + " " + input, expected.shape(), a.getValue().shape());
            assertEquals(a.getKey() + ": batched answer differs from its run alone", bytes(expected),
                    bytes(a.getValue()));
        }

        // one usage record per request, with its own quantity
        Map<String, UsageEvent> byId = new HashMap<>();
        for (UsageRecord r : journal.readFrom(before + 1, Integer.MAX_VALUE)) {
            if (r.kind() != UsageRecord.Kind.USAGE) {
                continue;
            }
            UsageEvent e = TestJournal.usageOf(r.canonicalBytes());
            assertEquals("request " + e.requestId() + " has two records", null, byId.put(e.requestId(), e));
        }
        assertEquals(answers.keySet(), byId.keySet());
        for (String id : answers.keySet()) {
            assertEquals(id, inputs.get(id).batchSize(), byId.get(id).quantity());
            assertEquals("tenant-" + id.substring(1, id.indexOf('-')), byId.get(id).tenant());
        }

        // batching happened, and the statistics say so
        Thread.sleep(200);   // a success is counted just after its answer completes
        ModelStatistics st = service.statistics("fashion-mnist", null).get(0);
        assertEquals(CALLERS * PER_CALLER, st.inferenceCount());
        assertTrue("engine runs " + st.executionCount() + " for " + st.inferenceCount() + " requests",
                st.executionCount() < st.inferenceCount());
        long rowsRun = st.batchStats().stream().mapToLong(b -> b.batchSize() * b.computeInfer().count()).sum();
        long rowsSent = inputs.values().stream().mapToLong(Tensor::batchSize).sum();
        assertEquals("rows run = rows sent", rowsSent, rowsRun);
        assertTrue("a batch larger than one request (4 rows): " + st.batchStats(),
                st.batchStats().stream().anyMatch(b -> b.batchSize() > 4));
        System.out.println("BatchingCorrectnessTest: " + st.inferenceCount() + " requests (" + rowsSent + " rows) in "
                + st.executionCount() + " engine runs; batch sizes " + st.batchStats().stream()
                .map(b -> b.batchSize() + "x" + b.computeInfer().count()).toList());
    }

    private static ModelConfig config(ModelDescriptor d, DynamicBatching batching) {
        return new ModelConfig(d.name(), "onnxruntime_onnx", "onnxruntime", d.maxBatchSize(), d.inputs(), d.outputs(),
                ModelConfig.VersionPolicy.LATEST_ONE, "", batching,
                List.of(new InstanceGroup("", 2, InstanceGroup.Kind.KIND_CPU)), Map.of());
    }

    private static ByteBuffer bytes(Tensor t) {
        return t.data();
    }

    private void awaitReady() throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (service.model("fashion-mnist", null).map(s -> s.state() != ModelState.READY).orElse(true)) {
            if (System.nanoTime() > deadline) {
                fail("fashion-mnist did not become ready: " + service.models() + " " + service.plugins());
            }
            Thread.sleep(10);
        }
    }
}
