package io.tollgate.it;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.awt.Color;
import java.awt.Font;
import java.awt.FontMetrics;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import javax.imageio.ImageIO;
import org.junit.AfterClass;
import org.junit.BeforeClass;
import org.junit.Test;

/**
 * The OCR capability plugin (plugins/ocr, issue 13) on the real distribution: the plugin jar the build made, signed by
 * a vendor and licensed with {@code allow_code} and meter {@code images}, installed into {@code bin/tollgate run}.
 * PNGs sent as raw binary BYTES (the binary-data extension) and a JPEG sent as base64 in a JSON body are read back,
 * exactly as the same plugin's pipeline reads them in this JVM (text, confidence, boxes), each request billed one
 * {@code images} per picture; a body that is not a picture, 17 pictures, or two 40 MP pictures (the review's 12 KB
 * 1-bit PNG of 6324x6324) are 400 and unbilled.
 */
public class OcrPluginIT {
    private static Path tmp;
    private static Path data;
    private static ApplianceProcess appliance;
    private static Http http;
    private static int port;
    private static io.tollgate.pipeline.Pipeline local;

    /** The plugin jar the build made (on this module's test class path: dependency tollgate-plugin-ocr). */
    static Path ocrJar() throws Exception {
        URI uri = Class.forName("io.tollgate.plugins.ocr.OcrPipeline").getProtectionDomain().getCodeSource()
                .getLocation().toURI();
        Path p = Path.of(uri);
        if (!Files.isRegularFile(p)) {
            throw new AssertionError("the OCR plugin is not a jar here (" + p + "): build plugins/ocr with package");
        }
        return p;
    }

    @BeforeClass
    public static void start() throws Exception {
        tmp = Files.createTempDirectory("tollgate-ocr-it");
        data = tmp.resolve("data");
        Path plugins = Files.createDirectories(tmp.resolve("plugins"));
        Path licenses = Files.createDirectories(tmp.resolve("licenses"));
        Path jar = plugins.resolve("ocr-1.0.0.jar");
        Files.copy(ocrJar(), jar);
        TestVendor vendor = TestVendor.get();
        vendor.signOnly(jar);
        Files.write(licenses.resolve("ocr.lic"), vendor.issuer().plugin("ocr").meter("images").allowCode(true).issue());
        appliance = new ApplianceProcess(tmp.resolve("appliance.log"));
        port = TollgateExam.freePort();
        Process p = appliance.run(port, data, plugins, null, Map.of(), "--licenses", licenses.toString());
        appliance.awaitReady(p, port, 120_000);
        http = new Http(port);
        http.awaitPlugin("tollgate.plugin.ocr", "READY", 120_000);
        local = inProcess(ocrJar());
    }

    /** The same plugin's pipeline in this JVM: its class, models, files and parameters, on the real ONNX engine. */
    static io.tollgate.pipeline.Pipeline inProcess(Path jar) throws Exception {
        io.tollgate.engine.spi.InferenceEngine engine = io.tollgate.engine.onnx.testing.TestOnnxEngine.create(Map.of());
        try (java.util.jar.JarFile j = new java.util.jar.JarFile(jar.toFile())) {
            java.util.function.Function<String, byte[]> read = path -> {
                try (java.io.InputStream in = j.getInputStream(j.getEntry("TOLLGATE-INF/" + path))) {
                    return in.readAllBytes();
                } catch (Exception e) {
                    throw new IllegalStateException(path, e);
                }
            };
            JsonNode d = Http.JSON.readTree(read.apply("model.json"));
            Map<String, String> params = new java.util.LinkedHashMap<>();
            d.path("parameters").fields().forEachRemaining(e -> params.put(e.getKey(), e.getValue().asText()));
            Map<String, io.tollgate.pipeline.PipelineStage> stages = new java.util.LinkedHashMap<>();
            for (var it = d.path("pipeline").path("stages").fields(); it.hasNext(); ) {
                var e = it.next();
                io.tollgate.model.ModelDescriptor md = new io.tollgate.model.ModelDescriptor("ocr", "1.0.0", "onnx",
                        "onnx", e.getValue().asText(), List.of(), List.of(), 0, List.of(), "images", "", params);
                stages.put(e.getKey(), io.tollgate.pipeline.PipelineStage.of(e.getKey(), engine.load(
                        new io.tollgate.engine.spi.ModelArtifact(md, read.apply(e.getValue().asText()), "it"))));
            }
            Map<String, byte[]> files = Map.of("ppocr_keys_v1.txt", read.apply("ppocr_keys_v1.txt"));
            io.tollgate.pipeline.Pipeline p = (io.tollgate.pipeline.Pipeline) Class.forName(
                    d.path("pipeline").path("class").asText()).getConstructor().newInstance();
            p.open(io.tollgate.pipeline.PipelineContext.of("ocr", "1.0.0", stages, files::get, params,
                    Files.createTempDirectory(tmp, "ocr-local")));
            return p;
        }
    }

    /** The in-process answer for {@code images} as the JSON outputs the endpoint writes, to compare. */
    private static void assertSameAsInProcess(JsonNode answer, List<byte[]> images) throws Exception {
        List<io.tollgate.model.Tensor> out = local.run(new io.tollgate.pipeline.PipelineRequest("local", "default",
                List.of(io.tollgate.model.Tensor.ofBytes("image", new long[] {images.size()}, images)), List.of(),
                Map.of()));
        List<String> text = new ArrayList<>();
        for (byte[] b : out.get(0).strings()) {
            text.add(new String(b, StandardCharsets.UTF_8));
        }
        List<String> httpText = new ArrayList<>();
        output(answer, "text").path("data").forEach(x -> httpText.add(x.asText()));
        assertEquals(answer.toString(), text, httpText);
        float[] conf = out.get(1).toFloats();
        float[] box = out.get(2).toFloats();
        for (int i = 0; i < conf.length; i++) {
            assertEquals(conf[i], output(answer, "confidence").path("data").get(i).floatValue(), 0f);
        }
        for (int i = 0; i < box.length; i++) {
            assertEquals(box[i], output(answer, "box").path("data").get(i).floatValue(), 0f);
        }
    }

    /** The text without spaces (word spaces are the recognizer's weakest point; see plugins/ocr/README.md). */
    private static String compact(String s) {
        return s.replace(" ", "");
    }

    @AfterClass
    public static void stop() {
        if (appliance != null) {
            appliance.killAll();
            ApplianceProcess.keepLogs(tmp, Path.of("target", "ocr-plugin-it-logs"));
            ApplianceProcess.deleteTree(tmp);
        }
    }

    private static BufferedImage render(String text, String font, int size) {
        Font f = new Font(font, Font.PLAIN, size);
        BufferedImage probe = new BufferedImage(1, 1, BufferedImage.TYPE_INT_RGB);
        FontMetrics fm = probe.createGraphics().getFontMetrics(f);
        int w = fm.stringWidth(text) + 2 * size;
        int h = fm.getHeight() + 2 * size;
        BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = img.createGraphics();
        g.setColor(Color.WHITE);
        g.fillRect(0, 0, w, h);
        g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
        g.setColor(new Color(0x101010));
        g.setFont(f);
        g.drawString(text, size, size + fm.getAscent());
        g.dispose();
        return img;
    }

    private static byte[] encode(BufferedImage img, String format) throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        assertTrue(ImageIO.write(img, format, out));
        return out.toByteArray();
    }

    private static List<JsonNode> usage(String requestId) throws Exception {
        List<JsonNode> out = new ArrayList<>();
        for (JsonNode r : appliance.exportAll(data)) {
            if ("usage".equals(r.path("kind").asText()) && requestId.equals(r.path("request_id").asText())) {
                out.add(r);
            }
        }
        return out;
    }

    private static JsonNode output(JsonNode response, String name) {
        for (JsonNode o : response.path("outputs")) {
            if (name.equals(o.path("name").asText())) {
                return o;
            }
        }
        throw new AssertionError("no output " + name + " in " + response);
    }

    private static void assertBilled(String id, long images) throws Exception {
        List<JsonNode> records = usage(id);
        assertEquals(records.toString(), 1, records.size());
        assertEquals("images", records.get(0).path("meter").asText());
        assertEquals(images, records.get(0).path("quantity").asLong());
        assertEquals("ocr", records.get(0).path("model").asText());
    }

    @Test
    public void pngsSentAsBinaryBytesAreReadAndBilledOneImageEach() throws Exception {
        List<byte[]> pngs = List.of(encode(render("SN 4821-XK7-0093", "DejaVu Sans Mono", 30), "png"),
                encode(render("Tollgate OCR 2026", "DejaVu Sans", 28), "png"));
        ByteArrayOutputStream raw = new ByteArrayOutputStream();
        for (byte[] png : pngs) {   // binary BYTES: each element a 4-byte little-endian length, then its bytes
            raw.write(ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(png.length).array());
            raw.write(png);
        }
        byte[] header = ("{\"id\":\"ocr-binary\",\"inputs\":[{\"name\":\"image\",\"datatype\":\"BYTES\",\"shape\":[2],"
                + "\"parameters\":{\"binary_data_size\":" + raw.size() + "}}]}").getBytes(StandardCharsets.UTF_8);
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        body.write(header);
        body.write(raw.toByteArray());
        HttpResponse<String> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                        URI.create("http://127.0.0.1:" + port + "/v2/models/ocr/infer"))
                .timeout(Duration.ofSeconds(60)).header("Content-Type", "application/octet-stream")
                .header("Inference-Header-Content-Length", Integer.toString(header.length))
                .POST(HttpRequest.BodyPublishers.ofByteArray(body.toByteArray())).build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(r.body(), 200, r.statusCode());
        JsonNode answer = Http.JSON.readTree(r.body());
        JsonNode text = output(answer, "text");
        assertEquals(answer.toString(), "BYTES", text.path("datatype").asText());
        assertEquals(answer.toString(), "SN4821-XK7-0093", compact(text.path("data").get(0).asText()));
        assertEquals(answer.toString(), "TollgateOCR2026", compact(text.path("data").get(1).asText()));
        assertSameAsInProcess(answer, pngs);
        assertEquals("[0,1]", output(answer, "image_index").path("data").toString());
        assertEquals("[2,4,2]", output(answer, "box").path("shape").toString());
        assertEquals("FP32", output(answer, "confidence").path("datatype").asText());
        assertTrue(answer.toString(), output(answer, "confidence").path("data").get(0).asDouble() > 0.8);
        assertBilled("ocr-binary", 2);
    }

    @Test
    public void aJpegSentAsBase64JsonIsReadAndNonsenseIsRefusedUnbilled() throws Exception {
        byte[] jpegBytes = encode(render("Lot 7731/B exp 12.2027", "DejaVu Serif", 32), "jpeg");
        String jpeg = Base64.getEncoder().encodeToString(jpegBytes);
        Http.Response r = http.post("/v2/models/ocr/infer", "{\"id\":\"ocr-json\",\"inputs\":[{\"name\":\"image\","
                + "\"datatype\":\"BYTES\",\"shape\":[1],\"data\":[\"" + jpeg + "\"]}]}");
        assertEquals(r.body(), 200, r.status());
        assertEquals(r.body(), "Lot7731/Bexp12.2027", compact(output(r.json(), "text").path("data").get(0).asText()));
        assertSameAsInProcess(r.json(), List.of(jpegBytes));
        assertBilled("ocr-json", 1);

        Http.Response bad = http.post("/v2/models/ocr/infer", "{\"id\":\"ocr-bad\",\"inputs\":[{\"name\":\"image\","
                + "\"datatype\":\"BYTES\",\"shape\":[1],\"data\":[\"not a picture\"]}]}");
        assertEquals(bad.body(), 400, bad.status());
        assertTrue(bad.body(), bad.json().path("error").asText().contains("image[0] is not a PNG or JPEG"));
        assertTrue("no usage record for a refused request", usage("ocr-bad").isEmpty());
    }

    @Test
    public void tooManyImagesOrPixelsAreRefusedUnbilledBeforeDecoding() throws Exception {
        // the review's attack: a valid 12 KB 1-bit PNG of 6324x6324 (40 MP, 120 MB decoded) sent many times at once
        String page = Base64.getEncoder().encodeToString(encode(new BufferedImage(6324, 6324,
                BufferedImage.TYPE_BYTE_BINARY), "png"));
        String small = Base64.getEncoder().encodeToString(encode(render("OK", "DejaVu Sans", 20), "png"));
        StringBuilder seventeen = new StringBuilder();
        for (int i = 0; i < 17; i++) {
            seventeen.append(i == 0 ? "" : ",").append('"').append(small).append('"');
        }
        Http.Response many = http.post("/v2/models/ocr/infer", "{\"id\":\"ocr-many\",\"inputs\":[{\"name\":"
                + "\"image\",\"datatype\":\"BYTES\",\"shape\":[17],\"data\":[" + seventeen + "]}]}");
        assertEquals(many.body(), 400, many.status());
        assertTrue(many.body(), many.json().path("error").asText().contains("at most 16 images a request"));
        Http.Response big = http.post("/v2/models/ocr/infer", "{\"id\":\"ocr-big\",\"inputs\":[{\"name\":"
                + "\"image\",\"datatype\":\"BYTES\",\"shape\":[2],\"data\":[\"" + page + "\",\"" + page + "\"]}]}");
        assertEquals(big.body(), 400, big.status());
        assertTrue(big.body(), big.json().path("error").asText().contains("at most 64 megapixels a request"));
        assertTrue("no usage record for a refused request", usage("ocr-many").isEmpty() && usage("ocr-big").isEmpty());
    }
}
