package io.tollgate.it;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertTrue;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import com.fasterxml.jackson.databind.JsonNode;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.nio.FloatBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.Stream;
import javax.imageio.ImageIO;
import org.junit.AfterClass;
import org.junit.Assume;
import org.junit.BeforeClass;
import org.junit.Test;

/**
 * Capability plugins on the real distribution (issue 13; docs/plugins.md, "Capability plugins"): one appliance
 * ({@code bin/tollgate run}, real Felix, real ONNX Runtime, the real usage journal) with vendor-signed pipeline plugins
 * licensed with {@code allow_code}. A plugin whose pipeline decodes PNGs and runs the Fashion-MNIST model as its stage
 * answers as the plain model does on the same pictures, billed one {@code images} per picture; a picture that is not a
 * PNG is 400 and unbilled; a pipeline class that is missing, not a Pipeline or whose open() refuses leaves its plugin
 * FAILED with the reason; a pipeline that throws is 500 and the appliance serves on; the same plugin unsigned or
 * licensed without code is refused; an uninstall while requests are in flight drops none and closes the pipeline.
 */
public class PipelinePluginIT {
    private static final String PNG = "io.tollgate.it.pipeline.PngClassifier";
    private static final int IMAGES = 6;

    private static Path tmp;
    private static Path data;
    private static Path plugins;
    private static ApplianceProcess appliance;
    private static Http http;
    private static byte[] model;
    private static FashionMnistData set;
    private static int port;
    private static Path outsideHome;
    private static Path outsideTmp;

    @BeforeClass
    public static void start() throws Exception {
        Assume.assumeTrue("skipped: Debian's dataset-fashion-mnist is not installed at " + FashionMnistData.DIR,
                FashionMnistData.available());
        set = FashionMnistData.testSet();
        tmp = Files.createTempDirectory("tollgate-pipeline-it");
        data = tmp.resolve("data");
        plugins = Files.createDirectories(tmp.resolve("plugins"));
        Path licenses = Files.createDirectories(tmp.resolve("licenses"));
        appliance = new ApplianceProcess(tmp.resolve("appliance.log"));
        model = TestPlugins.exampleEntry("TOLLGATE-INF/model.onnx");
        TestVendor vendor = TestVendor.get();
        Map<String, String> signedWithCode = Map.of("png", PNG, "png-slow", PNG,
                "pipe-missing", "io.tollgate.it.pipeline.Missing",
                "pipe-not-pipeline", "io.tollgate.it.pipeline.NotAPipeline",
                "pipe-open-fails", "io.tollgate.it.pipeline.FailingOpen",
                "pipe-throws", "io.tollgate.it.pipeline.ThrowingRun");
        for (Map.Entry<String, String> e : signedWithCode.entrySet()) {
            vendor.signOnly(PipelinePlugins.write(plugins, e.getKey(), e.getValue(), model));
            Files.write(licenses.resolve(e.getKey() + ".lic"), vendor.issuer().plugin(e.getKey()).meter("images")
                    .allowCode(true).issue());
        }
        PipelinePlugins.write(plugins, "png-unsigned", PNG, model);              // licensed with code, not signed
        Files.write(licenses.resolve("png-unsigned.lic"), vendor.issuer().plugin("png-unsigned").meter("images")
                .allowCode(true).issue());
        vendor.signOnly(PipelinePlugins.write(plugins, "png-no-code", PNG, model));   // signed, code not allowed
        Files.write(licenses.resolve("png-no-code.lic"), vendor.issuer().plugin("png-no-code").meter("images")
                .issue());
        vendor.signOnly(PipelinePlugins.write(plugins, "png-other-meter", PNG, model));  // a license for inferences
        Files.write(licenses.resolve("png-other-meter.lic"), vendor.issuer().plugin("png-other-meter")
                .allowCode(true).issue());
        port = TollgateExam.freePort();
        // HOME and TMPDIR of the appliance's caller: nothing may be written there (only under the data folder)
        outsideHome = Files.createDirectories(tmp.resolve("outside-home"));
        outsideTmp = Files.createDirectories(tmp.resolve("outside-tmp"));
        Process p = appliance.run(port, data, plugins, null, Map.of("HOME", outsideHome.toString(), "TMPDIR",
                outsideTmp.toString(), "XDG_CACHE_HOME", outsideHome.resolve(".cache").toString()),
                "--licenses", licenses.toString());
        appliance.awaitReady(p, port, 120_000);
        http = new Http(port);
        http.awaitPlugin("tollgate.plugin.png", "READY", 90_000);
    }

    @AfterClass
    public static void stop() {
        if (appliance != null) {
            appliance.killAll();
            ApplianceProcess.keepLogs(tmp, Path.of("target", "pipeline-plugin-it-logs"));
            ApplianceProcess.deleteTree(tmp);
        }
    }

    /** Image {@code i} of the test set as a grey PNG. */
    private static byte[] png(int i) throws Exception {
        BufferedImage img = new BufferedImage(28, 28, BufferedImage.TYPE_BYTE_GRAY);
        for (int y = 0; y < 28; y++) {
            for (int x = 0; x < 28; x++) {
                img.getRaster().setSample(x, y, 0, set.pixels[i * 784 + y * 28 + x] & 0xff);
            }
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        assertTrue(ImageIO.write(img, "png", out));
        return out.toByteArray();
    }

    /** An infer body with BYTES input {@code image} (base64 text, as JSON carries binary data). */
    private static String body(String id, List<byte[]> elements, String extra) {
        StringBuilder b = new StringBuilder("{\"id\":\"" + id + "\",\"inputs\":[{\"name\":\"image\",\"datatype\":"
                + "\"BYTES\",\"shape\":[" + elements.size() + "],\"data\":[");
        for (int i = 0; i < elements.size(); i++) {
            b.append(i == 0 ? "\"" : ",\"").append(Base64.getEncoder().encodeToString(elements.get(i))).append('"');
        }
        return b.append("]}]").append(extra).append('}').toString();
    }

    /** The plain model's classes of images {@code 0..n-1}, by ONNX Runtime in this JVM. */
    private static int[] plainClasses(int n) throws Exception {
        OrtEnvironment env = OrtEnvironment.getEnvironment();
        try (OrtSession session = env.createSession(model, new OrtSession.SessionOptions());
             OnnxTensor input = OnnxTensor.createTensor(env, FloatBuffer.wrap(set.batch(0, n)),
                     new long[] {n, 1, 28, 28});
             OrtSession.Result result = session.run(Map.of(session.getInputNames().iterator().next(), input))) {
            float[][] probs = (float[][]) result.get(0).getValue();
            int[] classes = new int[n];
            for (int i = 0; i < n; i++) {
                for (int c = 1; c < 10; c++) {
                    if (probs[i][c] > probs[i][classes[i]]) {
                        classes[i] = c;
                    }
                }
            }
            return classes;
        }
    }

    private static List<JsonNode> usage(String requestId) throws Exception {
        return appliance.usageOf(data, requestId);
    }

    private static JsonNode output(JsonNode response, String name) {
        return Http.outputNode(response, name);
    }

    @Test
    public void pngsAreClassifiedAsThePlainModelDoesAndBilledOneImageEach() throws Exception {
        List<byte[]> pngs = new ArrayList<>();
        for (int i = 0; i < IMAGES; i++) {
            pngs.add(png(i));
        }
        Http.Response r = http.post("/v2/models/png/infer", body("png-six", pngs, ""));
        assertEquals(r.body(), 200, r.status());
        JsonNode answer = r.json();
        int[] expected = plainClasses(IMAGES);
        List<String> names = PipelinePlugins.CLASSES.lines().toList();
        JsonNode classes = output(answer, "class");
        JsonNode labels = output(answer, "label");
        assertEquals(answer.toString(), "BYTES", labels.path("datatype").asText());
        int agreeWithTruth = 0;
        for (int i = 0; i < IMAGES; i++) {
            assertEquals("image " + i + ": the pipeline's class is the plain model's", expected[i],
                    classes.path("data").get(i).asInt());
            assertEquals(names.get(expected[i]), labels.path("data").get(i).asText());
            agreeWithTruth += expected[i] == set.label(i) ? 1 : 0;
        }
        assertTrue("the model is right on most of them: " + agreeWithTruth, agreeWithTruth >= IMAGES - 2);

        List<JsonNode> records = usage("png-six");
        assertEquals(records.toString(), 1, records.size());
        assertEquals("images", records.get(0).path("meter").asText());
        assertEquals(IMAGES, records.get(0).path("quantity").asLong());
        assertEquals("png", records.get(0).path("model").asText());

        // only the output asked for comes back
        Http.Response one = http.post("/v2/models/png/infer", body("png-one", List.of(png(0)),
                ",\"outputs\":[{\"name\":\"label\"}]"));
        assertEquals(one.body(), 200, one.status());
        assertEquals(one.body(), 1, one.json().path("outputs").size());
        assertEquals(names.get(expected[0]), one.json().path("outputs").get(0).path("data").get(0).asText());
    }

    /** The binary tensor data extension: the PNGs travel as raw bytes (4-byte length, then the bytes). */
    @Test
    public void rawPngBytesWithTheBinaryDataExtensionAnswerAsBase64Does() throws Exception {
        byte[] a = png(0);
        byte[] b = png(1);
        String header = "{\"id\":\"png-binary\",\"inputs\":[{\"name\":\"image\",\"datatype\":\"BYTES\","
                + "\"shape\":[2],\"parameters\":{\"binary_data_size\":" + (8 + a.length + b.length) + "}}],"
                + "\"outputs\":[{\"name\":\"class\"}]}";
        byte[] json = header.getBytes(java.nio.charset.StandardCharsets.UTF_8);
        java.nio.ByteBuffer body = java.nio.ByteBuffer.allocate(json.length + 8 + a.length + b.length)
                .order(java.nio.ByteOrder.LITTLE_ENDIAN);
        body.put(json).putInt(a.length).put(a).putInt(b.length).put(b);
        java.net.http.HttpResponse<String> r = java.net.http.HttpClient.newHttpClient().send(
                java.net.http.HttpRequest.newBuilder(java.net.URI.create("http://127.0.0.1:" + port
                                + "/v2/models/png/infer"))
                        .header("Content-Type", "application/octet-stream")
                        .header("Inference-Header-Content-Length", Integer.toString(json.length))
                        .POST(java.net.http.HttpRequest.BodyPublishers.ofByteArray(body.array())).build(),
                java.net.http.HttpResponse.BodyHandlers.ofString());
        assertEquals(r.body(), 200, r.statusCode());
        int[] expected = plainClasses(2);
        JsonNode classes = output(Http.JSON.readTree(r.body()), "class");
        assertEquals(r.body(), expected[0], classes.path("data").get(0).asInt());
        assertEquals(r.body(), expected[1], classes.path("data").get(1).asInt());
        assertEquals(2, usage("png-binary").get(0).path("quantity").asLong());
    }

    @Test
    public void metadataConfigAndStatisticsShowThePipeline() throws Exception {
        assertEquals(200, http.post("/v2/models/png/infer", body("png-meta", List.of(png(1)), "")).status());
        JsonNode meta = http.get("/v2/models/png").json();
        assertEquals(meta.toString(), "image", meta.path("inputs").get(0).path("name").asText());
        assertEquals(meta.toString(), "BYTES", meta.path("inputs").get(0).path("datatype").asText());
        assertEquals(meta.toString(), 2, meta.path("outputs").size());
        JsonNode config = http.get("/v2/models/png/config").json();
        assertEquals(config.toString(), "pipeline", config.path("backend").asText());
        assertEquals(config.toString(), "pipeline", config.path("platform").asText());
        assertEquals("metadata and config agree", "pipeline", meta.path("platform").asText());
        assertTrue("no warm-up runs into a pipeline, none shown: " + config, config.path("model_warmup").isMissingNode());
        assertEquals(config.toString(), "images", config.path("parameters").path("meter").path("string_value").asText());
        JsonNode plugin = http.awaitPlugin("tollgate.plugin.png", "READY", 10_000);
        assertEquals(plugin.toString(), "images", plugin.path("meter").asText());
        JsonNode stages = plugin.path("stages");
        assertEquals(plugin.toString(), 1, stages.size());
        assertEquals(plugin.toString(), "classify", stages.get(0).path("name").asText());
        assertEquals(plugin.toString(), "cpu", stages.get(0).path("accelerator").asText());
        assertEquals(plugin.toString(), "onnx", stages.get(0).path("engine").asText());
        JsonNode stats = http.get("/v2/models/png/stats").json();
        long success = stats.path("model_stats").get(0).path("inference_stats").path("success").path("count").asLong();
        assertTrue(stats.toString(), success >= 1);
    }

    @Test
    public void nothingIsWrittenOutsideTheDataFolder() throws Exception {
        // ONNX Runtime's telemetry store and the native libraries ONNX Runtime, jffi and Netty extract land under
        // the data folder (DATA/home/.cache, DATA/tmp), never in the caller's HOME or TMPDIR
        assertEquals(200, http.post("/v2/models/png/infer", body("png-where", List.of(png(2)), "")).status());
        try (Stream<Path> home = Files.walk(outsideHome); Stream<Path> t = Files.walk(outsideTmp)) {
            List<Path> written = Stream.concat(home, t).filter(f -> !f.equals(outsideHome) && !f.equals(outsideTmp))
                    .toList();
            assertTrue("written outside the data folder: " + written, written.isEmpty());
        }
        Path dataTmp = data.resolve("tmp");
        assertEquals("rwx------", java.nio.file.attribute.PosixFilePermissions.toString(
                Files.getPosixFilePermissions(dataTmp)));
        try (Stream<Path> t = Files.list(dataTmp)) {
            List<String> names = t.map(f -> f.getFileName().toString()).toList();
            assertTrue("ONNX Runtime's native library was extracted under DATA/tmp: " + names,
                    names.stream().anyMatch(n -> n.startsWith("onnxruntime-java")));
        }
    }

    @Test
    public void notAPngIsABadRequestAndIsNotBilled() throws Exception {
        Http.Response r = http.post("/v2/models/png/infer", body("png-bad", List.of(
                "just some text".getBytes(java.nio.charset.StandardCharsets.UTF_8)), ""));
        assertEquals(r.body(), 400, r.status());
        assertTrue(r.body(), r.json().path("error").asText().contains("image 0 is not a PNG"));
        assertTrue("no usage record for a refused request", usage("png-bad").isEmpty());
        assertEquals(200, http.post("/v2/models/png/infer", body("png-after-bad", List.of(png(2)), "")).status());
    }

    @Test
    public void aPipelineThatCannotBeMadeOrOpenedLeavesItsPluginFailedWithTheReason() throws Exception {
        assertFailed("pipe-missing", "pipeline class io.tollgate.it.pipeline.Missing (field 'pipeline.class' of"
                + " TOLLGATE-INF/model.json) cannot be loaded from the plugin");
        assertFailed("pipe-not-pipeline", "pipeline class io.tollgate.it.pipeline.NotAPipeline does not implement"
                + " io.tollgate.pipeline.Pipeline");
        assertFailed("pipe-open-fails", "pipeline io.tollgate.it.pipeline.FailingOpen could not open: the"
                + " dictionary dict.txt is missing");
        JsonNode index = http.post("/v2/repository/index", "").json();
        for (JsonNode m : index) {
            if ("pipe-open-fails".equals(m.path("name").asText())) {
                assertEquals(m.toString(), "UNAVAILABLE", m.path("state").asText());
                assertTrue(m.toString(), m.path("reason").asText().contains("the dictionary dict.txt is missing"));
            }
        }
        assertEquals("the others serve", 200,
                http.post("/v2/models/png/infer", body("png-others", List.of(png(3)), "")).status());
    }

    private static void assertFailed(String name, String reason) throws Exception {
        JsonNode p = http.awaitPlugin("tollgate.plugin." + name, "FAILED", 60_000);
        assertTrue(p.toString(), p.path("error").asText().contains(reason));
    }

    @Test
    public void aPipelineThatThrowsIs500AndTheApplianceServesOn() throws Exception {
        http.awaitPlugin("tollgate.plugin.pipe-throws", "READY", 60_000);
        Http.Response r = http.post("/v2/models/pipe-throws/infer", body("throws-1", List.of(png(0)), ""));
        assertEquals(r.body(), 500, r.status());
        assertTrue(r.body(), r.json().path("error").asText().contains(
                "pipeline pipe-throws failed: java.lang.IllegalStateException: the plugin's own bug"));
        appliance.awaitLogLine("ERROR", "ThrowingRun.run threw on request throws-1", 10_000);
        assertTrue("a failed request is not billed", usage("throws-1").isEmpty());
        assertEquals(200, http.post("/v2/models/png/infer", body("png-after-throw", List.of(png(4)), "")).status());
        assertEquals("it stays READY", 500,
                http.post("/v2/models/pipe-throws/infer", body("throws-2", List.of(png(0)), "")).status());
    }

    @Test
    public void anErrorFromAPipelineIsAnsweredAtOnceCountedAndReleased() throws Exception {
        // an Error (not an Exception) thrown by plugin code: answered at once (503 for out of memory, 500 else), one
        // ERROR line with the stack trace in the appliance's log, counted as a failure, the model's in-flight back to
        // 0, nothing billed, and the appliance serves on
        http.awaitPlugin("tollgate.plugin.pipe-throws", "READY", 60_000);
        long before = failures("pipe-throws");
        long t0 = System.nanoTime();
        Http.Response oom = http.post("/v2/models/pipe-throws/infer", body("oom-1", List.of(png(0)),
                ",\"parameters\":{\"throw\":\"oom\"}"));
        assertTrue("answered at once", System.nanoTime() - t0 < 10_000_000_000L);
        assertEquals(oom.body(), 503, oom.status());
        assertTrue(oom.body(), oom.json().path("error").asText().contains(
                "out of memory while serving pipeline pipe-throws: retry later"));
        appliance.awaitLogLine("ERROR", "ThrowingRun.run threw on request oom-1", 10_000);
        Http.Response stack = http.post("/v2/models/pipe-throws/infer", body("stack-1", List.of(png(0)),
                ",\"parameters\":{\"throw\":\"stack\"}"));
        assertEquals(stack.body(), 500, stack.status());
        assertTrue(stack.body(), stack.json().path("error").asText().contains("java.lang.StackOverflowError: test"));
        Http.Response error = http.post("/v2/models/pipe-throws/infer", body("error-1", List.of(png(0)),
                ",\"parameters\":{\"throw\":\"error\"}"));
        assertEquals(error.body(), 500, error.status());
        assertTrue(error.body(), error.json().path("error").asText().contains("java.lang.Error: test"));
        appliance.awaitLogLine("ERROR", "ThrowingRun.run threw on request error-1", 10_000);
        assertEquals("each counted as a failure", before + 3, failures("pipe-throws"));
        String metrics = http.get("/metrics").body();
        assertTrue(metrics, metrics.lines().anyMatch(l -> l.startsWith("tollgate_model_in_flight{")
                && l.contains("model=\"pipe-throws\"") && l.endsWith(" 0")));
        assertTrue("a failed request is not billed", usage("oom-1").isEmpty() && usage("error-1").isEmpty());
        assertEquals(200, http.post("/v2/models/png/infer", body("png-after-error", List.of(png(4)), "")).status());
    }

    private static long failures(String model) throws Exception {
        JsonNode stats = http.get("/v2/models/" + model + "/stats").json();
        return stats.path("model_stats").get(0).path("inference_stats").path("fail").path("count").asLong();
    }

    @Test
    public void theSamePluginUnsignedOrWithoutCodeAllowedOrForAnotherMeterIsRefused() throws Exception {
        JsonNode unsigned = http.awaitPlugin("tollgate.plugin.png-unsigned", "FAILED", 60_000);
        assertTrue(unsigned.toString(), unsigned.path("error").asText().contains("is refused"));
        JsonNode noCode = http.awaitPlugin("tollgate.plugin.png-no-code", "FAILED", 60_000);
        assertTrue(noCode.toString(), noCode.path("error").asText().contains("plugin carries code"));
        assertTrue(http.get("/v2/models/png-unsigned/ready").status() != 200);
        assertTrue(http.get("/v2/models/png-no-code/ready").status() != 200);
        Http.Response other = http.post("/v2/models/png-other-meter/infer", body("meter-1", List.of(png(0)), ""));
        assertEquals(other.body(), 403, other.status());
        assertTrue(other.body(), other.json().path("error").asText().contains("counts meter 'inference' but the"
                + " model bills meter 'images'"));
    }

    @Test
    public void anUninstallWithRequestsInFlightDropsNoneAndClosesThePipeline() throws Exception {
        http.awaitPlugin("tollgate.plugin.png-slow", "READY", 60_000);
        Path work = data.resolve("plugins").resolve("tollgate.plugin.png-slow");
        assertTrue("the work folder exists: " + work, Files.isDirectory(work));
        assertEquals("rwx------", java.nio.file.attribute.PosixFilePermissions.toString(
                Files.getPosixFilePermissions(work)));
        ExecutorService clients = Executors.newFixedThreadPool(4);
        try {
            List<Future<Http.Response>> inFlight = new ArrayList<>();
            byte[] picture = png(5);
            for (int i = 0; i < 4; i++) {
                String id = "slow-" + i;
                inFlight.add(clients.submit(() -> http.post("/v2/models/png-slow/infer", body(id, List.of(picture),
                        ",\"parameters\":{\"sleep_ms\":2500}"))));
            }
            Thread.sleep(700);   // all four are running
            Files.delete(plugins.resolve("png-slow.jar"));
            for (Future<Http.Response> f : inFlight) {
                Http.Response r = f.get();
                assertEquals(r.body(), 200, r.status());
            }
        } finally {
            clients.shutdownNow();
        }
        long end = System.currentTimeMillis() + 30_000;
        while (System.currentTimeMillis() < end && !closed(work)) {
            Thread.sleep(100);
        }
        assertTrue("the pipeline's close() left its marker in " + work, closed(work));
        long gone = System.currentTimeMillis() + 30_000;
        while (System.currentTimeMillis() < gone && http.get("/v2/models/png-slow/ready").status() == 200) {
            Thread.sleep(100);
        }
        assertTrue("the uninstalled model no longer serves", http.get("/v2/models/png-slow/ready").status() != 200);
        for (int i = 0; i < 4; i++) {
            assertEquals("slow-" + i + " billed once", 1, usage("slow-" + i).size());
        }
    }

    private static boolean closed(Path work) throws Exception {
        try (Stream<Path> s = Files.list(work)) {
            return s.anyMatch(p -> p.getFileName().toString().startsWith("closed-"));
        }
    }
}
