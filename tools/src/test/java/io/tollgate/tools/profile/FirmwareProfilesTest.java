package io.tollgate.tools.profile;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertNull;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.junit.Rule;
import org.junit.Test;
import org.junit.rules.TemporaryFolder;

/**
 * Issue 12, "Firmware profiles": the shipped profiles (firmware-profiles/profiles) chosen for the recorded files of
 * each device class (src/test/resources/device-roots, never this machine's), overrides, and the errors for a
 * malformed, unknown or ambiguous profile.
 */
public class FirmwareProfilesTest {
    /** The profiles the distribution ships (runtime copies them to profiles/). */
    static final Path SHIPPED = Paths.get("../firmware-profiles/profiles");
    static final Path ROOTS = Paths.get("src/test/resources/device-roots");

    @Rule
    public TemporaryFolder tmp = new TemporaryFolder();

    static DeviceFacts facts(String root) {
        // os.arch "s390x": a fixture that names no architecture in its cpuinfo would show it, never this machine's
        return DeviceFacts.read(ROOTS.resolve(root), "s390x");
    }

    private static String detect(String root) throws ProfileException {
        return FirmwareProfiles.load(SHIPPED).select(facts(root), null).profile().name();
    }

    @Test
    public void eachDeviceClassGetsItsProfile() throws Exception {
        assertEquals("jetson-orin-nano-jp6", detect("jetson-orin-nano-jp6"));
        assertEquals("jetson-agx-orin-jp6", detect("jetson-agx-orin-jp6"));
        assertEquals("x86-nvidia", detect("x86-nvidia"));
        assertEquals("x86-cpu", detect("x86-cpu"));
        assertEquals("arm64-cpu", detect("arm64-cpu"));
    }

    @Test
    public void boxesWithoutAProfileOfTheirOwnGetTheCpuProfileOfTheirArchitecture() throws Exception {
        assertEquals("JetPack 5 is L4T R35", "arm64-cpu", detect("jetson-agx-orin-jp5"));
        assertEquals("no Orin NX profile", "arm64-cpu", detect("jetson-orin-nx-jp6"));
        assertEquals("a driver without a GPU is no GPU", "x86-cpu", detect("x86-nvidia-driver-no-gpu"));
    }

    @Test
    public void theFactsSayWhatWasReadWhere() {
        DeviceFacts nano = facts("jetson-orin-nano-jp6");
        assertEquals("aarch64", nano.arch());
        assertEquals("R36", nano.l4tRelease());
        assertEquals("NVIDIA Jetson Orin Nano Developer Kit", nano.deviceTreeModel());
        assertEquals(7441, nano.memTotalMiB());
        assertEquals(List.of(), nano.nvidiaGpus());
        assertTrue(nano.evidence().toString(), nano.evidence().contains("L4T R36.3.0 (/etc/nv_tegra_release under "
                + ROOTS.resolve("jetson-orin-nano-jp6") + ")"));
        DeviceFacts gpu = facts("x86-nvidia");
        assertEquals("x86_64", gpu.arch());
        assertEquals(List.of("NVIDIA GeForce RTX 3060"), gpu.nvidiaGpus());
        assertEquals("550.54.14", gpu.nvidiaDriver());
        assertNull(gpu.l4tRelease());
        assertEquals("560.35.03", facts("x86-nvidia-driver-no-gpu").nvidiaDriver());
        assertEquals("R35", facts("jetson-agx-orin-jp5").l4tRelease());
    }

    @Test
    public void withoutCpuinfoTheArchitectureIsTheJvmsOsArch() throws Exception {
        Path empty = tmp.newFolder("empty").toPath();
        DeviceFacts f = DeviceFacts.read(empty, "amd64");
        assertEquals("x86_64", f.arch());
        assertTrue(f.evidence().get(0), f.evidence().get(0).startsWith("arch x86_64 (os.arch amd64;"));
        assertEquals("x86-cpu", FirmwareProfiles.load(SHIPPED).select(f, null).profile().name());
    }

    @Test
    public void noMatchingProfileIsAnErrorThatSaysWhatTheBoxIsAndWhatToDo() throws Exception {
        try {
            detect("riscv64");
            fail();
        } catch (ProfileException e) {
            assertEquals(ProfileException.Reason.NO_MATCH, e.reason());
            assertTrue(e.getMessage(), e.getMessage().contains("matches this box (arch riscv64 (/proc/cpuinfo under "));
            assertTrue(e.getMessage(), e.getMessage().contains("choose one with run --profile NAME"));
        }
    }

    @Test
    public void anOverrideWinsAndListsWhatTheBoxLacks() throws Exception {
        FirmwareProfiles catalog = FirmwareProfiles.load(SHIPPED);
        FirmwareProfiles.Selection s = catalog.select(facts("x86-cpu"),
                new FirmwareProfiles.Choice("x86-nvidia", "--profile"));
        assertEquals("x86-nvidia", s.profile().name());
        assertEquals("--profile", s.how());
        assertEquals(List.of("match.nvidia.gpu=true (box: none)"), s.mismatches());
    }

    @Test
    public void overridesComeFromTheOptionThenTheEnvironmentThenTheConfFile() throws Exception {
        Path conf = tmp.newFolder("conf").toPath();
        assertNull(FirmwareProfiles.override(null, Map.of(), conf));
        Files.writeString(conf.resolve("io.tollgate.profile.cfg"), "name=\n");
        assertNull("empty = detect", FirmwareProfiles.override(null, Map.of(), conf));
        Files.writeString(conf.resolve("io.tollgate.profile.cfg"), "name = arm64-cpu\n");
        assertEquals(new FirmwareProfiles.Choice("arm64-cpu", conf.resolve("io.tollgate.profile.cfg").toString()),
                FirmwareProfiles.override(null, Map.of(), conf));
        assertEquals(new FirmwareProfiles.Choice("x86-cpu", "TOLLGATE_PROFILE"),
                FirmwareProfiles.override(null, Map.of("TOLLGATE_PROFILE", "x86-cpu"), conf));
        assertEquals(new FirmwareProfiles.Choice("x86-nvidia", "--profile"),
                FirmwareProfiles.override("x86-nvidia", Map.of("TOLLGATE_PROFILE", "x86-cpu"), conf));
        Files.writeString(conf.resolve("io.tollgate.profile.cfg"), "nmae=arm64-cpu\n");
        try {
            FirmwareProfiles.override(null, Map.of(), conf);
            fail();
        } catch (ProfileException e) {
            assertTrue(e.getMessage(), e.getMessage().endsWith("io.tollgate.profile.cfg: unknown key 'nmae'; it holds "
                    + "only name= (a profile name, empty = detect)"));
        }
    }

    @Test
    public void anOverrideNamingNoProfileIsUnknown() throws Exception {
        try {
            FirmwareProfiles.load(SHIPPED).select(facts("x86-cpu"), new FirmwareProfiles.Choice("x86-gpu", "TOLLGATE_PROFILE"));
            fail();
        } catch (ProfileException e) {
            assertEquals(ProfileException.Reason.UNKNOWN, e.reason());
            assertTrue(e.getMessage(), e.getMessage().startsWith("firmware profile 'x86-gpu' (TOLLGATE_PROFILE) is not in "));
            assertTrue(e.getMessage(), e.getMessage().endsWith("; the profiles are [arm64-cpu, jetson-agx-orin-jp6, "
                    + "jetson-orin-nano-jp6, x86-cpu, x86-nvidia] (bin/tollgate profile list)"));
        }
    }

    @Test
    public void theShippedProfilesAreFiveAndSetTheSameKeys() throws Exception {
        List<FirmwareProfile> all = FirmwareProfiles.load(SHIPPED).all();
        assertEquals(5, all.size());
        Set<String> first = keys(all.get(0));
        for (FirmwareProfile p : all) {
            assertEquals(p.name(), first, keys(p));
            assertTrue(p.name(), !p.jvmOptions().isEmpty());
        }
        assertTrue(first.toString(), first.containsAll(List.of("io.tollgate.accelerators/placement.order",
                "io.tollgate.accelerators/engine.order", "io.tollgate.accelerators/precision",
                "io.tollgate.accelerators/memory.budget.cpu.mb", "io.tollgate.accelerators/memory.budget.gpu.mb",
                "io.tollgate.accelerators/max.resident.models", "io.tollgate.accelerators/min.residency.ms",
                "io.tollgate.engine.onnx/intra.op.threads",
                "io.tollgate.serving/worker.threads", "io.tollgate.endpoint/max.body.bytes",
                "io.tollgate.metering.journal/disk.budget.bytes", "io.tollgate.metering.journal/sync.mode")));
    }

    private static Set<String> keys(FirmwareProfile p) {
        Set<String> keys = new TreeSet<>();
        p.configuration().forEach((pid, values) -> values.keySet().forEach(k -> keys.add(pid + "/" + k)));
        return keys;
    }

    @Test
    public void malformedProfilesAreRefusedNamingTheFileTheKeyAndTheProblem() throws Exception {
        String ok = "description=test\nmatch.arch=x86_64\n";
        assertMalformed("broken.profile", "description=test\nbad=\\u12\n", "not a properties file: Malformed \\uxxxx encoding.");
        assertMalformed("a.profile", "match.arch=x86_64\n", "no 'description'");
        assertMalformed("a.profile", ok + "match.gpu=true\n", "unknown key 'match.gpu'; a profile matches on match.arch, "
                + "match.device.tree.model, match.l4t.release, match.memory.min.mb, match.nvidia.gpu");
        assertMalformed("a.profile", ok + "match.nvidia.gpu=yes\n", "match.nvidia.gpu must be true or false, not 'yes'");
        assertMalformed("a.profile", ok + "match.device.tree.model=Orin (Nano\n", "match.device.tree.model is not a "
                + "regular expression: Unclosed group");
        assertMalformed("a.profile", ok + "jvm.options=-Xmx1g -javaagent:/tmp/x.jar\n", "jvm.options: "
                + "'-javaagent:/tmp/x.jar' is not a heap or GC option");
        assertMalformed("a.profile", ok + "worker.threads=4\n", "unknown key 'worker.threads'; a profile holds");
        assertMalformed("a.profile", ok + "serving/worker.threads=4\n", "'serving/worker.threads' is not PID/KEY");
        assertMalformed("a.profile", ok + "io.tollgate.accelerators/precision=fp8\n",
                "io.tollgate.accelerators/precision must be fp32, fp16 or int8, not 'fp8'");
        assertMalformed("a.profile", ok + "io.tollgate.accelerators/placement.order=gpu,npu\n",
                "io.tollgate.accelerators/placement.order must be a comma list of distinct [cpu, dla, gpu], not 'gpu,npu'");
        assertMalformed("a.profile", ok + "io.tollgate.accelerators/memory.budget.gpu.mb=-1\n",
                "io.tollgate.accelerators/memory.budget.gpu.mb must be a whole number, 0 or more, not '-1'");
        assertMalformed("a.profile", ok + "io.tollgate.accelerators/gpu.budget=1\n",
                "unknown key 'io.tollgate.accelerators/gpu.budget'");
        assertMalformed("a.profile", ok + "io.tollgate.nosuch/foo=1\n",
                "'io.tollgate.nosuch/foo': unknown PID 'io.tollgate.nosuch'; a profile sets values of io.tollgate.accelerators");
        assertMalformed("a.profile", ok + "io.tollgate.serving/worker.threads=-5\n",
                "io.tollgate.serving/worker.threads must be a whole number, 0 or more, not '-5'");
        assertMalformed("a.profile", ok + "io.tollgate.endpoint/max.body.bytes=lots\n",
                "io.tollgate.endpoint/max.body.bytes must be a whole number, 0 or more, not 'lots'");
        assertMalformed("X86.profile", ok, "the name 'X86' (the file name without .profile) must be lower-case");
    }

    private void assertMalformed(String file, String text, String expected) throws IOException {
        Path dir = tmp.newFolder().toPath();
        Files.copy(SHIPPED.resolve("x86-cpu.profile"), dir.resolve("x86-cpu.profile"));
        Files.writeString(dir.resolve(file), text, StandardCharsets.UTF_8);
        try {
            FirmwareProfiles.load(dir);
            fail(text);
        } catch (ProfileException e) {
            assertEquals(ProfileException.Reason.MALFORMED, e.reason());
            assertTrue(e.getMessage(), e.getMessage().startsWith("firmware profile " + dir.resolve(file)
                    + " is malformed: " + expected));
        }
    }

    @Test
    public void twoEquallySpecificMatchesAreAnErrorNotAGuess() throws Exception {
        Path dir = tmp.newFolder().toPath();
        Files.copy(SHIPPED.resolve("x86-cpu.profile"), dir.resolve("x86-cpu.profile"));
        Files.writeString(dir.resolve("x86-box.profile"), "description=mine\nmatch.arch=x86_64\nmatch.memory.min.mb=1024\n");
        try {
            FirmwareProfiles.load(dir).select(facts("x86-cpu"), null);
            fail();
        } catch (ProfileException e) {
            assertEquals(ProfileException.Reason.NO_MATCH, e.reason());
            assertEquals("firmware profiles x86-box and x86-cpu both match this box with 2 conditions; make one more "
                    + "specific, or choose with run --profile NAME", e.getMessage());
        }
    }

    @Test
    public void aMissingOrEmptyFolderIsUnknown() throws Exception {
        for (Path dir : List.of(tmp.getRoot().toPath().resolve("nope"), tmp.newFolder().toPath())) {
            try {
                FirmwareProfiles.load(dir);
                fail();
            } catch (ProfileException e) {
                assertEquals(ProfileException.Reason.UNKNOWN, e.reason());
                assertTrue(e.getMessage(), e.getMessage().contains("the distribution is incomplete"));
            }
        }
    }
}
