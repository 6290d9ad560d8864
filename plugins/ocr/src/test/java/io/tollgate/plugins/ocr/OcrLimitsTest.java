package io.tollgate.plugins.ocr;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import io.tollgate.pipeline.PipelineException;
import java.awt.Color;
import java.awt.Font;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.Test;

/**
 * The limits that keep one request's memory and work bounded (reviewer findings of issue 13): images per request and
 * decoded pixels per request refused from the headers in {@code quantity}, before any pixel is decoded; text lines
 * per image refused after detection, before recognition; the detector's candidate regions capped.
 */
public class OcrLimitsTest {
    private static PipelineException refusedAtQuantity(OcrPipeline p, List<byte[]> images) throws Exception {
        try {
            p.quantity(OcrFixture.request(images));
        } catch (PipelineException e) {
            assertEquals(e.getMessage(), PipelineException.Reason.INVALID_INPUT, e.reason());
            return e;
        }
        throw new AssertionError("quantity accepted " + images.size() + " images");
    }

    private static PipelineException refusedAtRun(OcrPipeline p, List<byte[]> images) throws Exception {
        try {
            p.run(OcrFixture.request(images));
        } catch (PipelineException e) {
            assertEquals(e.getMessage(), PipelineException.Reason.INVALID_INPUT, e.reason());
            return e;
        }
        throw new AssertionError("run accepted " + images.size() + " images");
    }

    @Test
    public void moreImagesThanTheLimitAreRefusedFromTheCount() throws Exception {
        byte[] small = OcrFixture.claiming(64, 64);
        List<byte[]> seventeen = Collections.nCopies(17, small);
        PipelineException e = refusedAtQuantity(OcrFixture.pipeline(), seventeen);
        assertTrue(e.getMessage(), e.getMessage().contains("17 images")
                && e.getMessage().contains("at most 16 images a request"));
        // run checks the same (a caller that skipped quantity), before decoding: the claimed pixels are not there
        e = refusedAtRun(OcrFixture.pipeline(), seventeen);
        assertTrue(e.getMessage(), e.getMessage().contains("at most 16 images a request"));
        assertEquals(16, OcrFixture.pipeline().quantity(OcrFixture.request(Collections.nCopies(16, small))));
        OcrPipeline four = OcrFixture.pipeline(Map.of("max_images", "4"));
        e = refusedAtQuantity(four, Collections.nCopies(5, small));
        assertTrue(e.getMessage(), e.getMessage().contains("at most 4 images a request"));
    }

    @Test
    public void morePixelsThanTheRequestLimitAreRefusedFromTheHeaders() throws Exception {
        // each within the 40 MP a picture, together 80 MP > 64 MP; their pixel data is not there: decoding would fail
        List<byte[]> two = List.of(OcrFixture.claiming(8000, 5000), OcrFixture.claiming(8000, 5000));
        PipelineException e = refusedAtQuantity(OcrFixture.pipeline(), two);
        assertTrue(e.getMessage(), e.getMessage().contains("80.0 megapixels")
                && e.getMessage().contains("64 megapixels a request"));
        e = refusedAtRun(OcrFixture.pipeline(), two);
        assertTrue(e.getMessage(), e.getMessage().contains("64 megapixels a request"));
        OcrPipeline small = OcrFixture.pipeline(Map.of("max_request_megapixels", "1"));
        e = refusedAtQuantity(small, List.of(OcrFixture.claiming(1000, 1001)));
        assertTrue(e.getMessage(), e.getMessage().contains("1 megapixels a request"));
        assertEquals(1, small.quantity(OcrFixture.request(List.of(OcrFixture.claiming(1000, 1000)))));
    }

    @Test
    public void theReviewersRequestIsRefusedQuicklyWithoutDecoding() throws Exception {
        // a valid 1-bit PNG of 6324x6324 (40.0 MP, ~12 KB) sent 60 times: ~7 GB of BGR if decoded
        BufferedImage page = new BufferedImage(6324, 6324, BufferedImage.TYPE_BYTE_BINARY);
        byte[] png = OcrFixture.png(page);
        assertTrue("small file: " + png.length, png.length < 200_000);
        long t0 = System.nanoTime();
        PipelineException e = refusedAtQuantity(OcrFixture.pipeline(), Collections.nCopies(60, png));
        assertTrue(e.getMessage(), e.getMessage().contains("60 images"));
        e = refusedAtQuantity(OcrFixture.pipeline(), Collections.nCopies(2, png));
        assertTrue(e.getMessage(), e.getMessage().contains("80.0 megapixels"));
        long ms = (System.nanoTime() - t0) / 1_000_000;
        assertTrue("refused from the headers in " + ms + " ms", ms < 2000);
    }

    /** A 960x960 page of 4-digit numbers, 12 px DejaVu Sans, 20 columns by 45 rows (900 numbers). */
    static BufferedImage denseGrid() {
        BufferedImage img = new BufferedImage(960, 960, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = img.createGraphics();
        g.setColor(Color.WHITE);
        g.fillRect(0, 0, 960, 960);
        g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
        g.setFont(new Font("DejaVu Sans", Font.PLAIN, 12));
        g.setColor(Color.BLACK);
        Random r = new Random(5);
        for (int row = 0; row < 45; row++) {
            for (int col = 0; col < 20; col++) {
                g.drawString(String.format("%04d", r.nextInt(10000)), 6 + col * 48, 16 + row * 21);
            }
        }
        g.dispose();
        return img;
    }

    @Test
    public void aPageWithMoreLinesThanTheLimitIsRefusedBeforeRecognition() throws Exception {
        byte[] grid = OcrFixture.png(denseGrid());
        // warm up the detector on a blank picture of the same size (ORT's first run of a shape is slow)
        OcrFixture.pipeline().run(OcrFixture.request(List.of(OcrFixture.png(new BufferedImage(960, 960,
                BufferedImage.TYPE_INT_RGB)))));
        long t0 = System.nanoTime();
        PipelineException e = refusedAtRun(OcrFixture.pipeline(), 
                List.of(OcrFixture.png(new BufferedImage(32, 32, BufferedImage.TYPE_INT_RGB)), grid));
        long ms = (System.nanoTime() - t0) / 1_000_000;
        System.out.println("dense grid (960x960, 900 numbers): refused in " + ms + " ms: " + e.getMessage());
        assertTrue(e.getMessage(), e.getMessage().contains("image[1] has more than 300 text lines"));
        // reading its 900 lines took 39 s on an idle build machine (44 ms a line); detection alone is ~1.5 s
        assertTrue("refused after detection only, in " + ms + " ms", ms < 20_000);
    }

    @Test
    public void maxLinesIsTheExactLimit() throws Exception {
        List<String> lines = List.of("Model TX-200", "Serial 5591-0042", "Made in 2026");
        byte[] img = OcrFixture.png(OcrFixture.render(lines, OcrFixture.Style.plain("DejaVu Sans", 26), 1));
        assertEquals(lines, OcrFixture.run(OcrFixture.pipeline(Map.of("max_lines", "3")), List.of(img)).text());
        PipelineException e = refusedAtRun(OcrFixture.pipeline(Map.of("max_lines", "2")), List.of(img));
        assertTrue(e.getMessage(), e.getMessage().contains("image[0] has more than 2 text lines"));
    }

    @Test
    public void theDetectorKeepsAtMostMaxCandidatesRegions() throws Exception {
        OcrFixture.Result r = OcrFixture.run(OcrFixture.pipeline(Map.of("det_max_candidates", "12")),
                List.of(OcrFixture.png(denseGrid())));
        assertTrue("lines " + r.text().size(), r.text().size() > 0 && r.text().size() <= 12);
        List<String> numbers = new ArrayList<>(r.text());
        numbers.removeIf(t -> !t.matches("\\d{4}"));
        assertTrue("read as numbers: " + r.text(), numbers.size() >= r.text().size() / 2);
    }

    @Test
    public void aOnePixelRegionIsARectangleOfNoSizeNotANullPointer() {
        // the dense grid's probability map has such regions: the detector's post-processing threw (a 500) on them
        double[] rect = Geometry.minAreaRect(new double[] {5, 7, 5, 7});
        assertEquals(5, rect[0], 0);
        assertEquals(7, rect[1], 0);
        assertEquals(0, rect[2], 0);
        assertEquals(0, rect[3], 0);
    }
}
