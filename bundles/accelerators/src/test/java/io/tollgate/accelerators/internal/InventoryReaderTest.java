package io.tollgate.accelerators.internal;

import static org.junit.Assert.assertEquals;

import io.tollgate.accelerator.Accelerator;
import io.tollgate.accelerator.AcceleratorKind;
import java.net.URISyntaxException;
import java.nio.file.Path;
import java.util.List;
import org.junit.Test;

/** The inventory read from recorded /proc and device-tree files of each device class (src/test/resources/inventory). */
public class InventoryReaderTest {
    static Path fixture(String name) {
        try {
            return Path.of(InventoryReaderTest.class.getResource("/inventory/" + name).toURI());
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    private static String ids(List<Accelerator> list) {
        return String.join(",", list.stream().map(Accelerator::id).toList());
    }

    @Test
    public void cpuOnlyBoxHasTheCpuWithMemTotalAndCores() {
        List<Accelerator> found = new InventoryReader(fixture("x86-cpu")).read();
        assertEquals("cpu", ids(found));
        Accelerator cpu = found.get(0);
        assertEquals(AcceleratorKind.CPU, cpu.kind());
        assertEquals(16303516L * 1024, cpu.totalMemoryBytes());
        assertEquals(2, cpu.cores());
        assertEquals("Intel(R) Xeon(R) CPU E5-2680 v4 @ 2.40GHz", cpu.name());
    }

    @Test
    public void nvidiaDriverFilesGiveOneGpuPerBusByDeviceMinor() {
        List<Accelerator> found = new InventoryReader(fixture("x86-nvidia")).read();
        assertEquals("cuda:0,cuda:1,cpu", ids(found));
        assertEquals(AcceleratorKind.GPU, found.get(1).kind());
        // the driver's information file says nothing of memory; a recorded root does not ask this host's nvidia-smi
        assertEquals(0, found.get(0).totalMemoryBytes());
        assertEquals("NVIDIA RTX A2000 12GB [memory unknown: nvidia-smi not asked (inventory of a recorded root);"
                + " set memory.budget.gpu.mb]", found.get(0).name());
    }

    static String recorded(String name) throws Exception {
        return java.nio.file.Files.readString(Path.of(InventoryReaderTest.class.getResource("/nvidia-smi/" + name)
                .toURI()));
    }

    /** Issue 12 on x86: nvidia-smi's memory.total (MiB) and compute_cap fill in what /proc leaves out. */
    @Test
    public void nvidiaSmiGivesEachGpuItsMemoryAndComputeCapability() throws Exception {
        String out = recorded("a2000-t4.csv");
        List<Accelerator> found = new InventoryReader(fixture("x86-nvidia"), () -> NvidiaSmi.parse(out)).read();
        assertEquals("cuda:0,cuda:1,cpu", ids(found));
        assertEquals("NVIDIA RTX A2000 12GB", found.get(0).name());
        assertEquals(12282L * 1024 * 1024, found.get(0).totalMemoryBytes());
        assertEquals("8.6", found.get(0).computeCapability());
        assertEquals(15360L * 1024 * 1024, found.get(1).totalMemoryBytes());
        assertEquals("7.5", found.get(1).computeCapability());
    }

    @Test
    public void withoutNvidiaSmiOrItsMemoryTheGpuSaysWhy() throws Exception {
        List<Accelerator> none = new InventoryReader(fixture("x86-nvidia"),
                () -> NvidiaSmi.Result.unavailable("nvidia-smi is not on PATH")).read();
        assertEquals(0, none.get(1).totalMemoryBytes());
        assertEquals("NVIDIA T4 [memory unknown: nvidia-smi is not on PATH; set memory.budget.gpu.mb]",
                none.get(1).name());
        String na = recorded("memory-na.csv");
        List<Accelerator> partial = new InventoryReader(fixture("x86-nvidia"), () -> NvidiaSmi.parse(na)).read();
        assertEquals(0, partial.get(0).totalMemoryBytes());
        assertEquals("8.6", partial.get(0).computeCapability());
        assertEquals("NVIDIA RTX A2000 12GB [memory unknown: nvidia-smi reports no memory.total; set"
                + " memory.budget.gpu.mb]", partial.get(0).name());
        assertEquals("NVIDIA T4 [memory unknown: nvidia-smi does not list index 1; set memory.budget.gpu.mb]",
                partial.get(1).name());
    }

    @Test
    public void malformedNvidiaSmiOutputIsAReasonNotAnError() {
        NvidiaSmi.Result r = NvidiaSmi.parse("Failed to initialize NVML: Driver/library version mismatch\n");
        assertEquals(List.of(), r.gpus());
        assertEquals("nvidia-smi line 'Failed to initialize NVML: Driver/library version mismatch' is not index, name,"
                + " memory.total, compute_cap", r.reason());
        assertEquals(null, NvidiaSmi.find("/nonexistent:"));
    }

    @Test
    public void jetsonAgxOrinHasAnIgpuSharingSystemMemoryAndTwoDlas() {
        List<Accelerator> found = new InventoryReader(fixture("jetson-agx-orin")).read();
        assertEquals("cuda:0,dla:0,dla:1,cpu", ids(found));
        assertEquals("8.7", found.get(0).computeCapability());
        assertEquals("NVIDIA Jetson AGX Orin Developer Kit (iGPU)", found.get(0).name());
        assertEquals(64335836L * 1024, found.get(0).totalMemoryBytes());
        assertEquals(AcceleratorKind.DLA, found.get(2).kind());
        assertEquals(4, found.get(3).cores());
    }

    @Test
    public void jetsonOrinNanoHasNoEnabledDla() {
        assertEquals("cuda:0,cpu", ids(new InventoryReader(fixture("jetson-orin-nano")).read()));
    }

    @Test
    public void anEmptyRootStillHasTheCpu() throws Exception {
        Path empty = java.nio.file.Files.createTempDirectory("tollgate-inventory-empty");
        try {
            List<Accelerator> found = new InventoryReader(empty).read();
            assertEquals("cpu", ids(found));
            assertEquals(0, found.get(0).totalMemoryBytes());
            assertEquals(Runtime.getRuntime().availableProcessors(), found.get(0).cores());
        } finally {
            java.nio.file.Files.delete(empty);
        }
    }
}
