package io.tollgate.plugins.ocr;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.tollgate.engine.onnx.internal.OnnxEngine;
import io.tollgate.engine.spi.LoadedModel;
import io.tollgate.engine.spi.ModelArtifact;
import io.tollgate.model.ModelDescriptor;
import io.tollgate.model.Tensor;
import io.tollgate.pipeline.PipelineContext;
import io.tollgate.pipeline.PipelineException;
import io.tollgate.pipeline.PipelineRequest;
import io.tollgate.pipeline.PipelineStage;
import java.awt.Color;
import java.awt.Font;
import java.awt.FontMetrics;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.geom.AffineTransform;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import javax.imageio.ImageIO;

/**
 * The plugin as serving would run it, in-process: the three stage models the build put in target/ocr-model (the
 * files the plugin jar carries under TOLLGATE-INF/) loaded by the real ONNX Runtime engine, the descriptor's
 * parameters from src/main/model/model.json; and test images rendered with Java2D (DejaVu fonts, fonts-dejavu-core).
 */
final class OcrFixture {
    private static OcrPipeline pipeline;
    private static Map<String, PipelineStage> stages;
    private static Map<String, String> descriptorParameters;
    private static Path dir;

    private OcrFixture() {
    }

    /** The pipeline opened with the descriptor's parameters. */
    static synchronized OcrPipeline pipeline() throws Exception {
        if (pipeline == null) {
            pipeline = pipeline(Map.of());
        }
        return pipeline;
    }

    /** A new pipeline over the same loaded stages, {@code overrides} put over the descriptor's parameters. */
    static synchronized OcrPipeline pipeline(Map<String, String> overrides) throws Exception {
        if (stages == null) {
            dir = Path.of(System.getProperty("ocr.model.dir", "target/ocr-model"));
            JsonNode json = new ObjectMapper().readTree(Path.of(System.getProperty("ocr.descriptor",
                    "src/main/model/model.json")).toFile());
            Map<String, String> params = new LinkedHashMap<>();
            json.get("parameters").fields().forEachRemaining(e -> params.put(e.getKey(), e.getValue().asText()));
            OnnxEngine engine = new OnnxEngine();
            Map<String, PipelineStage> s = new LinkedHashMap<>();
            for (Iterator<Map.Entry<String, JsonNode>> it = json.get("pipeline").get("stages").fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> e = it.next();
                String file = e.getValue().asText();
                ModelDescriptor d = new ModelDescriptor("ocr", "1.0.0", "onnx", "onnx", file, List.of(), List.of(), 0,
                        List.of(), "images", "", params);
                LoadedModel m = engine.load(new ModelArtifact(d, Files.readAllBytes(dir.resolve(file)), "test " + file));
                s.put(e.getKey(), PipelineStage.of(e.getKey(), m));
            }
            stages = s;
            descriptorParameters = params;
        }
        Map<String, String> params = new LinkedHashMap<>(descriptorParameters);
        params.putAll(overrides);
        OcrPipeline p = new OcrPipeline();
        p.open(PipelineContext.of("ocr", "1.0.0", stages, path -> Files.readAllBytes(dir.resolve(path)), params,
                Files.createTempDirectory("ocr-work")));
        return p;
    }

    /** What one request answered, unpacked. */
    record Result(List<String> text, float[] confidence, float[] box, int[] imageIndex) {
        /** The lines of image {@code i}, in order. */
        List<String> linesOf(int i) {
            List<String> out = new ArrayList<>();
            for (int k = 0; k < text.size(); k++) {
                if (imageIndex[k] == i) {
                    out.add(text.get(k));
                }
            }
            return out;
        }
    }

    static PipelineRequest request(List<byte[]> images) {
        return new PipelineRequest("t", "default", List.of(Tensor.ofBytes("image", new long[] {images.size()}, images)),
                List.of(), Map.of());
    }

    static Result run(List<byte[]> images) throws Exception {
        return run(pipeline(), images);
    }

    static Result run(OcrPipeline p, List<byte[]> images) throws Exception {
        PipelineRequest r = request(images);
        if (p.quantity(r) != images.size()) {
            throw new AssertionError("quantity " + p.quantity(r) + " for " + images.size() + " images");
        }
        List<Tensor> out = p.run(r);
        List<String> text = new ArrayList<>();
        for (byte[] b : out.get(0).strings()) {
            text.add(new String(b, StandardCharsets.UTF_8));
        }
        int[] idx = new int[(int) out.get(3).elementCount()];
        out.get(3).data().asIntBuffer().get(idx);
        return new Result(text, out.get(1).toFloats(), out.get(2).toFloats(), idx);
    }

    static PipelineException rejection(List<byte[]> images, boolean atQuantity) throws Exception {
        try {
            if (atQuantity) {
                pipeline().quantity(request(images));
            } else {
                pipeline().run(request(images));
            }
        } catch (PipelineException e) {
            return e;
        }
        throw new AssertionError("accepted");
    }

    /** How a line of text is drawn. */
    record Style(String font, int style, int size, double degrees, double noise, int ink, int paper) {
        static Style plain(String font, int size) {
            return new Style(font, Font.PLAIN, size, 0, 0, 0x101010, 0xffffff);
        }
    }

    /** Lines drawn one under the other, centred, the whole turned by the style's angle, Gaussian noise added. */
    static BufferedImage render(List<String> lines, Style s, long seed) {
        Font font = new Font(s.font(), s.style(), s.size());
        BufferedImage probe = new BufferedImage(1, 1, BufferedImage.TYPE_INT_RGB);
        Graphics2D pg = probe.createGraphics();
        FontMetrics fm = pg.getFontMetrics(font);
        int textW = 0;
        for (String l : lines) {
            textW = Math.max(textW, fm.stringWidth(l));
        }
        pg.dispose();
        int lineH = (int) Math.round(fm.getHeight() * 1.4);
        int w = textW + 2 * s.size() + 16;
        int h = lineH * lines.size() + 2 * s.size();
        BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = img.createGraphics();
        g.setColor(new Color(s.paper()));
        g.fillRect(0, 0, w, h);
        g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
        g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
        g.setRenderingHint(RenderingHints.KEY_FRACTIONALMETRICS, RenderingHints.VALUE_FRACTIONALMETRICS_ON);
        g.setTransform(AffineTransform.getRotateInstance(Math.toRadians(s.degrees()), w / 2.0, h / 2.0));
        g.setFont(font);
        g.setColor(new Color(s.ink()));
        int y = s.size() + fm.getAscent() + (lineH - fm.getHeight()) / 2;
        for (String l : lines) {
            g.drawString(l, (w - fm.stringWidth(l)) / 2, y);
            y += lineH;
        }
        g.dispose();
        if (s.noise() > 0) {
            Random r = new Random(seed);
            for (int yy = 0; yy < h; yy++) {
                for (int xx = 0; xx < w; xx++) {
                    int rgb = img.getRGB(xx, yy);
                    int n = (int) Math.round(r.nextGaussian() * s.noise());
                    int v = clamp(((rgb >> 16) & 0xff) + n) << 16 | clamp(((rgb >> 8) & 0xff) + n) << 8
                            | clamp((rgb & 0xff) + n);
                    img.setRGB(xx, yy, v);
                }
            }
        }
        return img;
    }

    private static int clamp(int v) {
        return Math.max(0, Math.min(255, v));
    }

    static byte[] encode(BufferedImage img, String format) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        if (!ImageIO.write(img, format, out)) {
            throw new IOException("no writer for " + format);
        }
        return out.toByteArray();
    }

    static byte[] png(BufferedImage img) throws IOException {
        return encode(img, "png");
    }

    /** A small PNG whose IHDR claims {@code w x h} pixels (CRC fixed): its header passes, its pixel data is 4x4. */
    static byte[] claiming(int w, int h) throws IOException {
        byte[] png = png(new BufferedImage(4, 4, BufferedImage.TYPE_INT_RGB)).clone();
        java.nio.ByteBuffer b = java.nio.ByteBuffer.wrap(png);
        b.putInt(16, w).putInt(20, h);
        java.util.zip.CRC32 crc = new java.util.zip.CRC32();
        crc.update(png, 12, 17);
        b.putInt(29, (int) crc.getValue());
        return png;
    }

    /** Levenshtein distance. */
    static int editDistance(String a, String b) {
        int[] prev = new int[b.length() + 1];
        int[] cur = new int[b.length() + 1];
        for (int j = 0; j <= b.length(); j++) {
            prev[j] = j;
        }
        for (int i = 1; i <= a.length(); i++) {
            cur[0] = i;
            for (int j = 1; j <= b.length(); j++) {
                cur[j] = Math.min(Math.min(cur[j - 1] + 1, prev[j] + 1),
                        prev[j - 1] + (a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1));
            }
            int[] t = prev;
            prev = cur;
            cur = t;
        }
        return prev[b.length()];
    }
}
