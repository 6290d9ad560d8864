package io.tollgate.serving.internal;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertNotNull;
import static org.junit.Assert.assertNull;
import static org.junit.Assert.assertTrue;

import io.tollgate.accelerator.AcceleratorKind;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.EnumSet;
import java.util.Set;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import org.junit.After;
import org.junit.Before;
import org.junit.Test;

/**
 * Refusals of {@code conf/models/{m}.json} that need the file or the box, not only the document: each is visible in
 * {@link ModelConfigWatch#problems()} (so in {@code /admin/plugins}) naming the field, and nothing is applied.
 */
public class ModelConfigWatchTest {
    private Path models;
    private ScheduledExecutorService lifecycle;

    @Before
    public void setUp() throws Exception {
        models = Files.createTempDirectory("model-config-watch-test");
        lifecycle = Executors.newSingleThreadScheduledExecutor();
    }

    @After
    public void tearDown() throws Exception {
        lifecycle.shutdownNow();
        try (var files = Files.walk(models)) {
            files.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
    }

    private ModelConfigWatch watch(Set<AcceleratorKind> box) {
        return new ModelConfigWatch(models, new ModelRepository(1000, lifecycle), null, () -> box);
    }

    @Test
    public void aGpuInstanceGroupOnABoxWithoutAGpuIsRefusedVisibly() throws Exception {
        Files.writeString(models.resolve("fm.json"), "{\"instance_group\":[{\"count\":1,\"kind\":\"KIND_GPU\"}]}");
        ModelConfigWatch cpuBox = watch(EnumSet.of(AcceleratorKind.CPU));
        cpuBox.scan();
        assertNull("not applied", cpuBox.override("fm"));
        String why = cpuBox.problems().get("fm");
        assertNotNull(cpuBox.problems().toString(), why);
        assertTrue(why, why.contains("field 'instance_group[0].kind'") && why.contains("no GPU"));

        ModelConfigWatch gpuBox = watch(EnumSet.of(AcceleratorKind.CPU, AcceleratorKind.GPU));
        gpuBox.scan();
        assertEquals(gpuBox.problems().toString(), 0, gpuBox.problems().size());
        assertNotNull(gpuBox.override("fm"));

        ModelConfigWatch unknownBox = new ModelConfigWatch(models, new ModelRepository(1000, lifecycle), null);
        unknownBox.scan();
        assertNotNull("a box whose accelerators are unknown knows only its CPU", unknownBox.problems().get("fm"));
    }

    @Test
    public void aDuplicateKeyIsRefusedNamingTheKey() throws Exception {
        ModelConfigWatch watch = watch(EnumSet.of(AcceleratorKind.CPU));
        Files.writeString(models.resolve("fm.json"), "{\"max_batch_size\":4,\n \"max_batch_size\":8}");
        watch.scan();
        assertNull("not applied", watch.override("fm"));
        String why = watch.problems().get("fm");
        assertNotNull(watch.problems().toString(), why);
        assertTrue(why, why.contains("field 'max_batch_size'") && why.contains("twice") && why.contains("line 2"));

        // nested: the second policy of one level would have silently won
        Files.writeString(models.resolve("fm.json"), "{\"dynamic_batching\":{\"priority_levels\":2,"
                + "\"priority_queue_policy\":{\"1\":{\"max_queue_size\":1},\"1\":{\"max_queue_size\":2}}}}");
        watch.scan();
        why = watch.problems().get("fm");
        assertTrue(why, why.contains("field 'dynamic_batching.priority_queue_policy.1'") && why.contains("twice"));
    }
    /**
     * Content after the document is not JSON the owner meant: Jackson's tree reader stopped at the first value and the
     * rest (a second object that repeats a key, a note) was dropped silently.
     */
    @Test
    public void contentAfterTheDocumentIsRefused() throws Exception {
        ModelConfigWatch watch = watch(EnumSet.of(AcceleratorKind.CPU));
        for (String text : java.util.List.of("{\"max_batch_size\": 8}{\"max_batch_size\": 16}",
                "{\"max_batch_size\": 4} this is not JSON", "{\"max_batch_size\": 4}\n]")) {
            Files.writeString(models.resolve("fm.json"), text);
            watch.scan();
            assertNull(text + ": not applied", watch.override("fm"));
            String why = watch.problems().get("fm");
            assertNotNull(text + ": " + watch.problems(), why);
            assertTrue(why, why.contains("content after the JSON object at line ") && why.contains("a model"
                    + " configuration is one JSON object: remove what follows its closing '}'")
                    && !why.contains("max_batch_size"));
        }
        Files.writeString(models.resolve("fm.json"), "{\"max_batch_size\": 4,}");
        watch.scan();
        assertTrue("a fault inside the object is still one: " + watch.problems(), watch.problems().get("fm")
                .contains("not valid JSON at line 1, column "));
        Files.writeString(models.resolve("fm.json"), "{\"x\":" + "[".repeat(3000) + "]".repeat(3000) + "}");
        watch.scan();
        String deep = watch.problems().get("fm");
        assertTrue(deep, deep.contains("too deeply nested or too long to read (Document nesting depth (1001) exceeds"));
        Files.writeString(models.resolve("fm.json"), "{\"max_batch_size\": 4}\n \t\n");
        watch.scan();
        assertNotNull("white space after the document is fine: " + watch.problems(), watch.override("fm"));
    }

    private static io.tollgate.accelerator.AcceleratorInventory inventory(io.tollgate.accelerator.Accelerator... all) {
        return new io.tollgate.accelerator.AcceleratorInventory() {
            @Override
            public java.util.List<io.tollgate.accelerator.Accelerator> accelerators() {
                return java.util.List.of(all);
            }

            @Override
            public java.util.Optional<io.tollgate.accelerator.Accelerator> accelerator(String id) {
                return java.util.Arrays.stream(all).filter(a -> a.id().equals(id)).findFirst();
            }

            @Override
            public java.util.List<io.tollgate.accelerator.AcceleratorUsage> usage() {
                return java.util.List.of();
            }
        };
    }

    @Test
    public void servingChecksKindsAgainstTheInventoryItWasGiven() throws Exception {
        Files.writeString(models.resolve("fm.json"), "{\"instance_group\":[{\"count\":1,\"kind\":\"KIND_GPU\"}]}");
        io.tollgate.accelerator.Accelerator cpu = new io.tollgate.accelerator.Accelerator("cpu", AcceleratorKind.CPU,
                "cpu", "", 8L << 30, 0, 2);
        io.tollgate.accelerator.Accelerator gpu = new io.tollgate.accelerator.Accelerator("cuda:0",
                AcceleratorKind.GPU, "NVIDIA T4", "7.5", 16L << 30, 0, 0);
        FakeUsageJournal journal = new FakeUsageJournal();
        ServingService cpuBox = new ServingService(new ServingSettings(2, 16, 5_000, 10_000, 2_000, 50), journal);
        ServingService gpuBox = new ServingService(new ServingSettings(2, 16, 5_000, 10_000, 2_000, 50), journal);
        try {
            cpuBox.accelerators(inventory(cpu));
            cpuBox.watchModelConfigs(models);
            String why = cpuBox.configErrors().get("fm");
            assertNotNull("refused where /admin/plugins shows it", why);
            assertTrue(why, why.contains("instance_group[0].kind"));

            gpuBox.accelerators(inventory(gpu, cpu));
            gpuBox.watchModelConfigs(models);
            assertEquals(gpuBox.configErrors().toString(), 0, gpuBox.configErrors().size());
        } finally {
            cpuBox.deactivate();
            gpuBox.deactivate();
        }
    }
}
