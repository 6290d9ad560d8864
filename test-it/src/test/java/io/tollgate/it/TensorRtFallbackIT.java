package io.tollgate.it;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import org.junit.After;
import org.junit.Assume;
import org.junit.Before;
import org.junit.Test;

/**
 * Issue 12 on a machine without an NVIDIA GPU (every build machine): the distribution's TensorRT engine bundle
 * resolves and starts in Felix, says once why it is unavailable (no stack trace), and a plugin packed with
 * {@code --engine tensorrt --precision fp16} is served by the onnx engine on the CPU with the same answers as the
 * same model packed for onnx. The GPU itself is NOT exercised here: bench/gpu-check does that on real hardware.
 */
public class TensorRtFallbackIT {
    private static final Path FASHION = Paths.get("../plugins/fashion-mnist/src/main/model/model.onnx");

    private Path tmp;
    private ApplianceProcess appliance;

    @Before
    public void setUp() throws Exception {
        Assume.assumeFalse("an NVIDIA device is present: this test proves the CPU fallback",
                Files.exists(Path.of("/dev/nvidia0")) || Files.exists(Path.of("/dev/nvhost-ctrl-gpu")));
        tmp = Files.createTempDirectory("tollgate-trt-it").toRealPath();
        appliance = new ApplianceProcess(tmp.resolve("appliance.log"));
    }

    @After
    public void tearDown() {
        if (appliance != null) {
            appliance.killAll();
            ApplianceProcess.keepLogs(tmp, Path.of("target", "tensorrt-fallback-it-logs"));
            ApplianceProcess.deleteTree(tmp);
        }
    }

    @Test
    public void tensorrtPluginFallsBackToOnnxOnTheCpuWithTheReasonLoggedOnce() throws Exception {
        Path plugins = Files.createDirectories(tmp.resolve("plugins"));
        Path packed = Files.createDirectories(tmp.resolve("packed"));
        ApplianceProcess.Result trt = appliance.tool("plugin", "pack", "--model", FASHION.toString(), "--name",
                "garments-trt", "--version", "1.0.0", "--output", packed.resolve("trt.jar").toString(),
                "--engine", "tensorrt", "--precision", "fp16");
        assertEquals(trt.toString(), 0, trt.exit());
        ApplianceProcess.Result cpu = appliance.tool("plugin", "pack", "--model", FASHION.toString(), "--name",
                "garments-cpu", "--version", "1.0.0", "--output", packed.resolve("cpu.jar").toString());
        assertEquals(cpu.toString(), 0, cpu.exit());
        ApplianceProcess.drop(packed.resolve("trt.jar"), plugins);
        ApplianceProcess.drop(packed.resolve("cpu.jar"), plugins);

        int port = TollgateExam.freePort();
        // x86-nvidia prefers tensorrt on the gpu (engine.order=tensorrt,onnx): placement must fall back, and say why
        Process p = appliance.run(port, tmp.resolve("data"), plugins, null,
                java.util.Map.of("TOLLGATE_PROFILE", "x86-nvidia"));
        appliance.awaitReady(p, port, 120_000);
        Http http = new Http(port);

        for (int i = 0; i < 3; i++) {
            float v = 0.25f * (i + 1);
            Http.Response a = http.post("/v2/models/garments-trt/infer",
                    ApplianceProcess.fashionMnistBody("trt-" + i, 2, v));
            Http.Response b = http.post("/v2/models/garments-cpu/infer",
                    ApplianceProcess.fashionMnistBody("cpu-" + i, 2, v));
            assertEquals(a.body(), 200, a.status());
            assertEquals(b.body(), 200, b.status());
            assertEquals(a.body(), "cpu", Http.JSON.readTree(a.body()).path("parameters").path("accelerator").asText());
            float[] fromTrt = Http.output(Http.JSON.readTree(a.body()), "probs");
            float[] fromCpu = Http.output(Http.JSON.readTree(b.body()), "probs");
            assertEquals(20, fromTrt.length);
            for (int k = 0; k < fromTrt.length; k++) {
                assertEquals("same engine, same model: identical answers", fromCpu[k], fromTrt[k], 0f);
            }
        }
        JsonNode meta = Http.JSON.readTree(http.get("/v2/models/garments-trt").body());
        assertEquals("as Triton names it, as /config shows it", "onnxruntime_onnx", meta.path("platform").asText());

        // placement was offered tensorrt (unavailable, by its own report) and onnx; it chose onnx on the cpu
        JsonNode trtPlugin = null;
        for (JsonNode plugin : http.get("/admin/plugins").json()) {
            if ("garments-trt".equals(plugin.path("model").asText())) {
                trtPlugin = plugin;
            }
        }
        assertTrue("garments-trt in /admin/plugins", trtPlugin != null);
        JsonNode placement = trtPlugin.path("placement");
        assertEquals(trtPlugin.toString(), "cpu", placement.path("accelerator").asText());
        assertEquals(trtPlugin.toString(), "onnx", placement.path("engine").asText());
        assertEquals(trtPlugin.toString(), "fp16", placement.path("precision").asText());
        assertTrue(trtPlugin.toString(), placement.path("fallback").asBoolean());
        assertEquals(trtPlugin.toString(), "on cpu with onnx: no gpu in the inventory; tensorrt unavailable: no CUDA"
                + " driver (libcuda.so.1 not found): this box has no NVIDIA GPU or its driver is not installed",
                placement.path("reason").asText());
        String metrics = http.get("/metrics").body();
        assertTrue(metrics, metrics.contains("tollgate_accelerator_fallback_models{accelerator=\"cpu\",kind=\"cpu\"}"
                + " 2\n"));

        assertEquals("a clean stop (SIGTERM)", 143, appliance.stop(p, 30));
        String log = Files.readString(tmp.resolve("appliance.log"), StandardCharsets.UTF_8);
        String unavailable = "TensorRT engine unavailable: no CUDA driver (libcuda.so.1 not found)";
        assertEquals(log, 1, count(log, unavailable));
        assertTrue(log, log.contains("engine 'tensorrt' is unavailable (no CUDA driver (libcuda.so.1 not found): this box"
                + " has no NVIDIA GPU or its driver is not installed); the model runs on engine 'onnx' on the CPU"
                + " instead"));
        assertFalse("no stack trace from the JNI boundary", log.contains("at org.bytedeco"));
        assertFalse(log, log.contains("UnsatisfiedLinkError"));
        assertTrue(log, log.contains("engine 'tensorrt' registered but unavailable here"));
    }

    private static int count(String text, String what) {
        int n = 0;
        for (int i = text.indexOf(what); i >= 0; i = text.indexOf(what, i + 1)) {
            n++;
        }
        return n;
    }
}
