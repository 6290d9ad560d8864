package io.tollgate.accelerators.internal;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

import io.tollgate.accelerator.Accelerator;
import io.tollgate.accelerator.AcceleratorKind;
import io.tollgate.accelerator.EngineAvailability;
import io.tollgate.accelerator.Placement;
import io.tollgate.accelerator.PlacementException;
import io.tollgate.accelerator.PlacementRequest;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.Test;

/** Placement on simulated inventories: order, engines, precision, budgets, LRU eviction. */
public class PlacementTableTest {
    private static final long MIB = 1024L * 1024;
    private static final EngineAvailability ONNX_CPU = EngineAvailability.on(AcceleratorKind.CPU);
    private static final EngineAvailability ONNX_GPU = EngineAvailability.on(AcceleratorKind.CPU, AcceleratorKind.GPU);
    private static final EngineAvailability TRT = EngineAvailability.on(AcceleratorKind.GPU, AcceleratorKind.DLA);

    private static AcceleratorsConfig config(String order, String engines, String precision, int cpuMb, int gpuMb,
                                             int max) {
        return config(order, engines, precision, cpuMb, gpuMb, max, 0);
    }

    private static AcceleratorsConfig config(String order, String engines, String precision, int cpuMb, int gpuMb,
                                             int max, long minResidencyMs) {
        return new AcceleratorsConfig() {
            public long min_residency_ms() {
                return minResidencyMs;
            }

            public Class<? extends java.lang.annotation.Annotation> annotationType() {
                return AcceleratorsConfig.class;
            }

            public String placement_order() {
                return order;
            }

            public String engine_order() {
                return engines;
            }

            public String precision() {
                return precision;
            }

            public int memory_budget_cpu_mb() {
                return cpuMb;
            }

            public int memory_budget_gpu_mb() {
                return gpuMb;
            }

            public int max_resident_models() {
                return max;
            }
        };
    }

    private static PlacementTable table(String fixture, AcceleratorsConfig c) {
        PlacementSettings s = PlacementSettings.of(c);
        return new PlacementTable(new InventoryReader(InventoryReaderTest.fixture(fixture)).read().stream()
                .map(s::withBudget).toList(), s);
    }

    private static PlacementRequest req(String model, long mib, List<String> precisions, Object... engines) {
        Map<String, EngineAvailability> m = new LinkedHashMap<>();
        for (int i = 0; i < engines.length; i += 2) {
            m.put((String) engines[i], (EngineAvailability) engines[i + 1]);
        }
        return new PlacementRequest(model, "1.0.0", m, precisions, mib * MIB);
    }

    private static String where(Placement p) {
        return p.acceleratorId() + "/" + p.engine() + "/" + p.precision();
    }

    @Test
    public void gpuBoxPutsTheModelOnTheFirstGpuWithoutAReason() throws Exception {
        PlacementTable t = table("x86-nvidia", config("gpu,cpu", "onnx", "fp32", 0, 4096, 0));
        Placement p = t.place(req("a", 100, List.of(), "onnx", ONNX_GPU)).placement();
        assertEquals("cuda:0/onnx/fp32", where(p));
        assertFalse(p.reason(), p.fallback());
    }

    @Test
    public void gpuOrderWithACpuOnlyEngineFallsBackToTheCpuAndSaysWhy() throws Exception {
        PlacementTable t = table("x86-nvidia", config("gpu,cpu", "onnx", "fp32", 0, 4096, 0));
        Placement p = t.place(req("a", 100, List.of(), "onnx", ONNX_CPU)).placement();
        assertEquals("cpu/onnx/fp32", where(p));
        assertEquals("on cpu with onnx: onnx does not run on gpu", p.reason());
    }

    @Test
    public void cpuOnlyBoxFallsBackToTheCpuAndSaysTheGpuIsAbsent() throws Exception {
        PlacementTable t = table("x86-cpu", config("gpu,cpu", "onnx", "fp32", 0, 0, 0));
        Placement p = t.place(req("a", 100, List.of(), "onnx", ONNX_GPU)).placement();
        assertEquals("cpu/onnx/fp32", where(p));
        assertEquals("on cpu with onnx: no gpu in the inventory", p.reason());
        // the default CPU budget is half of MemTotal
        assertEquals(16303516L * 1024 / 2, t.usage().get(0).accelerator().budgetBytes());
    }

    @Test
    public void jetsonPrefersDlaWithTensorrtAtFp16() throws Exception {
        PlacementTable t = table("jetson-agx-orin", config("dla,gpu,cpu", "tensorrt,onnx", "fp16", 0, 0, 0));
        Placement p = t.place(req("a", 100, List.of("fp32", "fp16"), "onnx", ONNX_CPU, "tensorrt", TRT)).placement();
        assertEquals("dla:0/tensorrt/fp16", where(p));
        assertEquals("", p.reason());
        // the second DLA is used once the first is full; the default budget is 80% of the shared memory
        assertEquals(64335836L * 1024 * 8 / 10, t.usage().get(1).accelerator().budgetBytes());
    }

    @Test
    public void dlaRefusesFp32SoTheGpuTakesIt() throws Exception {
        PlacementTable t = table("jetson-agx-orin", config("dla,gpu,cpu", "tensorrt,onnx", "fp32", 0, 0, 0));
        Placement p = t.place(req("a", 100, List.of("fp32"), "tensorrt", TRT)).placement();
        assertEquals("cuda:0/tensorrt/fp32", where(p));
        assertEquals("on cuda:0 with tensorrt: dla runs fp16 or int8 only, the precision is fp32", p.reason());
    }

    @Test
    public void unsupportedPrecisionRunsAtThePluginsFirstPrecision() throws Exception {
        PlacementTable t = table("jetson-agx-orin", config("dla,gpu,cpu", "tensorrt", "int8", 0, 0, 0));
        Placement p = t.place(req("a", 100, List.of("fp16", "fp32"), "tensorrt", TRT)).placement();
        assertEquals("dla:0/tensorrt/fp16", where(p));
        assertEquals("on dla:0 with tensorrt: the plugin offers no int8 (it offers fp16, fp32); runs fp16", p.reason());
    }

    @Test
    public void unavailableTensorrtFallsBackToOnnxOnTheCpu() throws Exception {
        PlacementTable t = table("x86-nvidia", config("gpu,cpu", "tensorrt,onnx", "fp16", 0, 4096, 0));
        Placement p = t.place(req("a", 100, List.of("fp16", "fp32"), "tensorrt",
                EngineAvailability.unavailable("no CUDA driver"), "onnx", ONNX_CPU)).placement();
        assertEquals("cpu/onnx/fp16", where(p));
        assertEquals("on cpu with onnx: tensorrt unavailable: no CUDA driver; onnx does not run on gpu", p.reason());
    }

    @Test
    public void noAvailableEngineIsRefusedWithEachReason() {
        PlacementTable t = table("x86-cpu", config("gpu,cpu", "onnx", "fp32", 0, 0, 0));
        try {
            t.place(req("a", 1, List.of(), "tensorrt", EngineAvailability.unavailable("no CUDA driver")));
            fail();
        } catch (PlacementException e) {
            assertEquals(PlacementException.Reason.NO_ENGINE, e.reason());
            assertEquals("a:1.0.0: no engine it supports is available here (tensorrt: no CUDA driver)", e.getMessage());
        }
    }

    @Test
    public void aModelLargerThanEveryBudgetIsTooLarge() {
        PlacementTable t = table("x86-cpu", config("cpu", "onnx", "fp32", 10, 0, 0));
        try {
            t.place(req("a", 11, List.of(), "onnx", ONNX_CPU));
            fail();
        } catch (PlacementException e) {
            assertEquals(PlacementException.Reason.TOO_LARGE, e.reason());
            assertTrue(e.getMessage(), e.getMessage().contains("cpu budget 10.0 MiB is below the model's 11.0 MiB"));
        }
    }

    @Test
    public void aFullBudgetEvictsTheLeastRecentlyUsedByLastRequest() throws Exception {
        PlacementTable t = table("x86-cpu", config("cpu", "onnx", "fp32", 10, 0, 0));
        t.place(req("a", 4, List.of(), "onnx", ONNX_CPU));
        t.place(req("b", 4, List.of(), "onnx", ONNX_CPU));
        t.touch("a:1.0.0");                       // b is now the least recently used
        PlacementTable.Result r = t.place(req("c", 4, List.of(), "onnx", ONNX_CPU));
        assertEquals(1, r.evicted().size());
        assertEquals("b:1.0.0", r.evicted().get(0).placement().key());
        assertEquals("evicted (memory budget)", r.evicted().get(0).reason());
        assertEquals(List.of("a:1.0.0", "c:1.0.0"), keys(t.placements()));
        assertEquals(8 * MIB, t.usage().get(0).usedBytes());
        assertEquals(2 * MIB, t.usage().get(0).freeBytes());
    }

    @Test
    public void evictsAsManyAsNeededOldestFirst() throws Exception {
        PlacementTable t = table("x86-cpu", config("cpu", "onnx", "fp32", 10, 0, 0));
        t.place(req("a", 3, List.of(), "onnx", ONNX_CPU));
        t.place(req("b", 3, List.of(), "onnx", ONNX_CPU));
        t.place(req("c", 3, List.of(), "onnx", ONNX_CPU));
        PlacementTable.Result r = t.place(req("d", 7, List.of(), "onnx", ONNX_CPU));
        assertEquals(List.of("a:1.0.0", "b:1.0.0"), keys(r.evicted().stream().map(PlacementTable.Eviction::placement)
                .toList()));
        assertEquals(List.of("c:1.0.0", "d:1.0.0"), keys(t.placements()));
    }

    @Test
    public void maxResidentModelsEvictsTheLeastRecentlyUsedAcrossAccelerators() throws Exception {
        PlacementTable t = table("x86-nvidia", config("gpu,cpu", "onnx", "fp32", 1000, 1000, 2));
        t.place(req("a", 1, List.of(), "onnx", ONNX_GPU));
        t.place(req("b", 1, List.of(), "onnx", ONNX_CPU));
        PlacementTable.Result r = t.place(req("c", 1, List.of(), "onnx", ONNX_CPU));
        assertEquals("a:1.0.0", r.evicted().get(0).placement().key());
        assertEquals("evicted (max.resident.models)", r.evicted().get(0).reason());
        assertEquals(2, t.placements().size());
    }

    @Test
    public void placingAResidentModelAgainTouchesItAndEvictsNothing() throws Exception {
        PlacementTable t = table("x86-cpu", config("cpu", "onnx", "fp32", 10, 0, 1));
        Placement first = t.place(req("a", 4, List.of(), "onnx", ONNX_CPU)).placement();
        PlacementTable.Result again = t.place(req("a", 4, List.of(), "onnx", ONNX_CPU));
        assertEquals(first, again.placement());
        assertTrue(again.evicted().isEmpty());
        t.release("a:1.0.0");
        assertTrue(t.placements().isEmpty());
        assertEquals(0, t.usage().get(0).usedBytes());
    }

    @Test
    public void badConfigurationIsRefusedNamingTheKey() {
        for (String[] c : new String[][]{{"tpu,cpu", "onnx", "fp32", "'placement.order' 'tpu' is no accelerator kind"},
                {"cpu", "", "fp32", "'engine.order' is empty"}, {"cpu", "onnx", "fp8", "'precision' is 'fp8'"}}) {
            try {
                PlacementSettings.of(config(c[0], c[1], c[2], 0, 0, 0));
                fail(c[3]);
            } catch (IllegalArgumentException e) {
                assertTrue(e.getMessage(), e.getMessage().contains(c[3]));
            }
        }
        try {
            PlacementSettings.of(config("cpu", "onnx", "fp32", -1, 0, 0));
            fail();
        } catch (IllegalArgumentException e) {
            assertTrue(e.getMessage(), e.getMessage().contains("'memory.budget.cpu.mb' is -1"));
        }
    }

    @Test
    public void aModelUsedWithinMinResidencyIsNotEvictedAndTheRequestIsToldWhenToRetry() throws Exception {
        long[] now = {1_000_000};
        PlacementSettings s = PlacementSettings.of(config("cpu", "onnx", "fp32", 3, 0, 0, 30_000));
        PlacementTable t = new PlacementTable(new InventoryReader(InventoryReaderTest.fixture("x86-cpu")).read()
                .stream().map(s::withBudget).toList(), s, () -> now[0]);
        t.place(req("a", 2, List.of(), "onnx", ONNX_CPU));
        now[0] += 10_000;
        t.touch("a:1.0.0");                     // used 10 s after its load: pinned until 40 s after
        now[0] += 5_000;
        try {
            t.place(req("b", 2, List.of(), "onnx", ONNX_CPU));
            fail("a was used 5 s ago and must not be evicted");
        } catch (PlacementException e) {
            assertEquals(PlacementException.Reason.BUDGET_FULL, e.reason());
            assertEquals(25_000, e.retryAfterMs());
            assertTrue(e.getMessage(), e.getMessage().contains("min.residency.ms=30000"));
            assertTrue(e.getMessage(), e.getMessage().contains("may be evicted in 25000 ms"));
        }
        assertEquals(List.of("a:1.0.0"), keys(t.placements()));
        assertEquals(0, t.evictions());
        now[0] += 25_000;                        // a's residency is over: b may take its place
        PlacementTable.Result r = t.place(req("b", 2, List.of(), "onnx", ONNX_CPU));
        assertEquals("a:1.0.0", r.evicted().get(0).placement().key());
        assertEquals(1, t.evictions());
        assertEquals(0, t.reloads());
        now[0] += 30_000;
        t.place(req("a", 2, List.of(), "onnx", ONNX_CPU));   // a loads again: a reload
        assertEquals(2, t.evictions());
        assertEquals(1, t.reloads());
    }

    @Test
    public void minResidencyAlsoHoldsForMaxResidentModels() throws Exception {
        long[] now = {0};
        PlacementSettings s = PlacementSettings.of(config("cpu", "onnx", "fp32", 100, 0, 1, 1_000));
        PlacementTable t = new PlacementTable(new InventoryReader(InventoryReaderTest.fixture("x86-cpu")).read()
                .stream().map(s::withBudget).toList(), s, () -> now[0]);
        t.place(req("a", 1, List.of(), "onnx", ONNX_CPU));
        now[0] = 400;
        try {
            t.place(req("b", 1, List.of(), "onnx", ONNX_CPU));
            fail();
        } catch (PlacementException e) {
            assertEquals(PlacementException.Reason.BUDGET_FULL, e.reason());
            assertEquals(600, e.retryAfterMs());
        }
        now[0] = 1_000;
        assertEquals("a:1.0.0", t.place(req("b", 1, List.of(), "onnx", ONNX_CPU)).evicted().get(0).placement().key());
    }

    @Test
    public void aNegativeMinResidencyIsRefused() {
        try {
            PlacementSettings.of(config("cpu", "onnx", "fp32", 0, 0, 0, -1));
            fail();
        } catch (IllegalArgumentException e) {
            assertTrue(e.getMessage(), e.getMessage().contains("'min.residency.ms' is -1"));
        }
    }

    private static List<String> keys(List<Placement> ps) {
        List<String> out = new ArrayList<>();
        for (Placement p : ps) {
            out.add(p.key());
        }
        return out;
    }
}
