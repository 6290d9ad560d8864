package io.tollgate.it;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.After;
import org.junit.Assume;
import org.junit.Before;
import org.junit.Test;

/**
 * Issue 12, "Firmware profiles", on the built distribution: detection on this machine (x86-64, no GPU) chooses x86-cpu
 * and its values reach the components and the JVM; the owner's conf key wins over the profile and {@code profile show}
 * says so; a forced x86-nvidia starts and serves on the CPU, saying the GPU is absent and what fell back; an unknown or
 * malformed profile exits 14 with the reason and never starts. Detection on recorded device roots:
 * tools' FirmwareProfilesTest and ProfileCommandTest.
 */
public class FirmwareProfileIT {
    private ApplianceProcess dist;
    private Path work;

    @Before
    public void setUp() throws Exception {
        work = Files.createTempDirectory("tollgate-profile-it");
        dist = new ApplianceProcess(work.resolve("tollgate.log"));
    }

    @After
    public void tearDown() {
        dist.killAll();
        ApplianceProcess.keepLogs(work, Path.of("target/profile-it-logs"));
        ApplianceProcess.deleteTree(work);
    }

    /** This machine: x86-64 without an NVIDIA GPU (CI's too); on a GPU box the detected profile is another one. */
    private static void assumeX86WithoutGpu() {
        Assume.assumeTrue("this test expects an x86-64 box without an NVIDIA GPU",
                System.getProperty("os.arch").equals("amd64") && !Files.isDirectory(Path.of("/proc/driver/nvidia/gpus")));
    }

    @Test
    public void detectionChoosesX86CpuAndAnOwnersConfKeyWinsOverTheProfile() throws Exception {
        assumeX86WithoutGpu();
        ApplianceProcess.Result detect = dist.tool("profile", "detect");
        assertEquals(detect.toString(), 0, detect.exit());
        assertTrue(detect.out(), detect.out().contains("chosen: x86-cpu (detected: the most specific match, "
                + "match.arch=x86_64 (box: x86_64), match.nvidia.gpu=false (box: none))"));

        Path conf = dist.copyConf(work.resolve("conf"));
        Files.writeString(conf.resolve("io.tollgate.serving.cfg"), "\nmax.queue.per.model=77\n", StandardCharsets.UTF_8,
                java.nio.file.StandardOpenOption.APPEND);
        ApplianceProcess.Result show = dist.tool("profile", "show", "--conf", conf.toString());
        assertEquals(show.toString(), 0, show.exit());
        assertTrue(show.out(), show.out().contains("  max.queue.per.model=77  (" + conf.resolve("io.tollgate.serving.cfg")
                + ", over profile x86-cpu's 256)\n"));
        assertTrue(show.out(), show.out().contains("  worker.threads=0  (profile x86-cpu)\n"));
        assertTrue(show.out(), show.out().contains("  sync.mode=BATCH  (profile x86-cpu)\n"));

        int port = TollgateExam.freePort();
        Path plugins = work.resolve("plugins");
        dist.copyExamplePlugin(plugins);
        Process p = dist.run(port, work.resolve("data"), plugins, conf);
        dist.awaitReady(p, port, 90_000);
        dist.awaitLogLine(" INFO ", "firmware profile x86-cpu (detected: match.arch=x86_64 (box: x86_64), "
                + "match.nvidia.gpu=false (box: none))", 1_000);
        // the owner's 77 reached serving; the profile's worker.threads=0 (one per processor) too
        dist.awaitLogLine(" INFO ", "serving started: " + Runtime.getRuntime().availableProcessors()
                + " worker threads, 77 requests per model queue", 1_000);
        // the profile's JVM options, then TOLLGATE_JAVA_OPTS (-Xmx512m: ApplianceProcess), which win
        List<String> jvm = List.of(Files.readString(Path.of("/proc/" + p.pid() + "/cmdline")).split("\0"));
        assertTrue(jvm.toString(), jvm.indexOf("-XX:MaxRAMPercentage=25") >= 0
                && jvm.indexOf("-XX:MaxRAMPercentage=25") < jvm.indexOf("-Xmx512m"));
        assertFalse("no WARN about the profile:\n" + dist.tail(80), dist.tail(400).contains("does not match this box"));
    }

    /**
     * Brief H4b (issue 11's start-to-ready goal): the second start takes the profile's JVM options from
     * DATA/profile.jvm-options and runs no profile step (no second JVM); an override changed in conf/ runs it again.
     * TOLLGATE_DEBUG makes bin/tollgate say which it did, on stderr (this log), before the appliance's JVM starts.
     */
    @Test
    public void aWarmStartTakesTheJvmOptionsFromTheDataFolderUntilAnOverrideChanges() throws Exception {
        assumeX86WithoutGpu();
        Path conf = dist.copyConf(work.resolve("conf"));
        Path data = work.resolve("data");
        Path plugins = work.resolve("plugins");
        dist.copyExamplePlugin(plugins);
        Path cache = data.resolve("profile.jvm-options");
        Path log = work.resolve("tollgate.log");
        String step = "tollgate run: JVM options of the firmware profile from the profile step";
        String cached = "tollgate run: JVM options of the firmware profile from " + cache;
        Map<String, String> env = Map.of("TOLLGATE_DEBUG", "1");

        int port = TollgateExam.freePort();
        Process first = dist.run(port, data, plugins, conf, env);
        dist.awaitReady(first, port, 90_000);
        dist.awaitLogLine(" INFO ", "JVM options of firmware profile x86-cpu: -XX:MaxRAMPercentage=25 (from bin/tollgate's "
                + "profile step; kept in " + cache + " for the next start)", 1_000);
        assertEquals("SIGTERM: a clean stop", 143, dist.stop(first, 30));
        assertEquals(1, count(log, step));
        assertEquals(0, count(log, cached));
        assertEquals("rw-r--r--", java.nio.file.attribute.PosixFilePermissions.toString(
                Files.getPosixFilePermissions(cache)));
        assertTrue(Files.readString(cache), Files.readString(cache).contains("\nprofile=x86-cpu\noption=-XX:MaxRAMPercentage=25\n"));

        Process second = dist.run(port, data, plugins, conf, env);
        dist.awaitReady(second, port, 90_000);
        dist.awaitLogLine(" INFO ", "JVM options of firmware profile x86-cpu: -XX:MaxRAMPercentage=25 (from " + cache
                + "; bin/tollgate skipped its profile step)", 1_000);
        assertEquals("no second profile step", 1, count(log, step));
        assertEquals(1, count(log, cached));
        List<String> jvm = List.of(Files.readString(Path.of("/proc/" + second.pid() + "/cmdline")).split("\0"));
        assertTrue(jvm.toString(), jvm.indexOf("-XX:MaxRAMPercentage=25") >= 0
                && jvm.indexOf("-XX:MaxRAMPercentage=25") < jvm.indexOf("-Xmx512m"));
        assertEquals("SIGTERM: a clean stop", 143, dist.stop(second, 30));

        // the owner names a profile in conf/: the cached options no longer say what it needs
        Files.writeString(conf.resolve("io.tollgate.profile.cfg"), "name=x86-nvidia\n", StandardCharsets.UTF_8);
        Process third = dist.run(port, data, plugins, conf, env);
        dist.awaitReady(third, port, 90_000);
        assertEquals("the override changed: the profile step again", 2, count(log, step));
        dist.awaitLogLine(" INFO ", "JVM options of firmware profile x86-nvidia: -XX:MaxRAMPercentage=25 (from "
                + "bin/tollgate's profile step", 1_000);
        assertTrue(Files.readString(cache), Files.readString(cache).contains("\nprofile=x86-nvidia\n"));
        assertEquals("SIGTERM: a clean stop", 143, dist.stop(third, 30));
    }

    private static long count(Path log, String text) throws java.io.IOException {
        return Files.readString(log).lines().filter(l -> l.contains(text)).count();
    }

    @Test
    public void aForcedX86NvidiaStartsAndServesOnTheCpuSayingTheGpuIsAbsent() throws Exception {
        assumeX86WithoutGpu();
        int port = TollgateExam.freePort();
        Path plugins = work.resolve("plugins");
        dist.copyExamplePlugin(plugins);
        // TOLLGATE_PROFILE, as a systemd unit's Environment= would set it
        Process p = dist.run(port, work.resolve("data"), plugins, null, Map.of("TOLLGATE_PROFILE", "x86-nvidia"));
        dist.awaitReady(p, port, 90_000);
        String warn = dist.awaitLogLine(" WARN ", "firmware profile x86-nvidia (chosen by TOLLGATE_PROFILE) does not "
                + "match this box: match.nvidia.gpu=true (box: none). The GPU is absent: models run on the CPU", 1_000);
        assertTrue(warn, warn.endsWith("io.tollgate.accelerators/engine.order=tensorrt,onnx, "
                + "io.tollgate.accelerators/placement.order=gpu,cpu, io.tollgate.engine.onnx/execution.providers="
                + "tensorrt,cuda,cpu fall back to cpu"));
        dist.awaitLogLine(" WARN ", "execution provider(s) [tensorrt, cuda] requested by io.tollgate.engine.onnx "
                + "execution.providers are not available in this ONNX Runtime", 1_000);
        dist.awaitLogLine(" INFO ", "512 requests per model queue", 1_000);
        Http http = new Http(port);
        http.await("/v2/models/fashion-mnist/ready", 200, 60_000);
        Http.Response r = http.post("/v2/models/fashion-mnist/infer", ApplianceProcess.fashionMnistBody("gpu-less", 1, 0.5f));
        assertEquals(r.toString(), 200, r.status());
        JsonNode body = r.json();
        assertEquals("cpu", body.get("parameters").get("accelerator").asText());
    }

    @Test
    public void anUnknownProfileExits14WithTheReasonAndNeverStarts() throws Exception {
        ApplianceProcess.Result r = dist.tool("run", "--port", Integer.toString(TollgateExam.freePort()), "--data",
                work.resolve("data").toString(), "--profile", "x86-gpu");
        assertEquals(r.toString(), 14, r.exit());
        assertTrue(r.err(), r.err().startsWith("tollgate run: firmware profile 'x86-gpu' (--profile) is not in " + dist.dist()
                .resolve("profiles") + "; the profiles are [arm64-cpu, jetson-agx-orin-jp6, jetson-orin-nano-jp6, "
                + "x86-cpu, x86-nvidia] (bin/tollgate profile list)"));
        assertFalse(r.err(), r.err().contains(" started: "));
        assertFalse("the data folder was not even made", Files.exists(work.resolve("data")));
    }

    /**
     * A distribution whose profiles/ holds a malformed file: a home of its own (bin, lib, system linked to the built
     * distribution, profiles and conf copied), so that the shared distribution is never edited.
     */
    @Test
    public void aMalformedProfileExits14NamingTheFileAndTheKey() throws Exception {
        Path home = Files.createDirectories(work.resolve("home"));
        for (String linked : List.of("bin", "lib", "system")) {
            Files.createSymbolicLink(home.resolve(linked), dist.dist().resolve(linked));
        }
        dist.copyConf(home.resolve("conf"));
        Path profiles = Files.createDirectories(home.resolve("profiles"));
        try (var files = Files.list(dist.dist().resolve("profiles"))) {
            for (Path f : files.toList()) {
                Files.copy(f, profiles.resolve(f.getFileName()));
            }
        }
        Files.writeString(profiles.resolve("x86-cpu.profile"), Files.readString(profiles.resolve("x86-cpu.profile"))
                .replace("io.tollgate.accelerators/precision=fp32", "io.tollgate.accelerators/precision=fp64"));
        Process p = new ProcessBuilder(home.resolve("bin/tollgate").toString(), "run", "--port",
                Integer.toString(TollgateExam.freePort()), "--data", work.resolve("data").toString())
                .redirectErrorStream(true).redirectOutput(work.resolve("malformed.log").toFile()).start();
        try {
            assertTrue("exits at once", p.waitFor(60, TimeUnit.SECONDS));
            String out = Files.readString(work.resolve("malformed.log"));
            assertEquals(out, 14, p.exitValue());
            assertTrue(out, out.startsWith("tollgate run: firmware profile " + profiles.resolve("x86-cpu.profile") + " is malformed: "
                    + "io.tollgate.accelerators/precision must be fp32, fp16 or int8, not 'fp64'"));
            assertFalse(out, out.contains(" started: "));
        } finally {
            p.destroyForcibly();
        }
        File unused = work.resolve("data").toFile();
        assertFalse("bin/tollgate stopped before the JVM of the appliance: no data folder", unused.exists());
    }
}
