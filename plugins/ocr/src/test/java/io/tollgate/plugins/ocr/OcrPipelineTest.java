package io.tollgate.plugins.ocr;

import static org.junit.Assert.assertArrayEquals;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import io.tollgate.model.Tensor;
import io.tollgate.pipeline.PipelineException;
import io.tollgate.pipeline.PipelineRequest;
import java.awt.Font;
import java.awt.image.BufferedImage;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.zip.CRC32;
import org.junit.Test;

/**
 * The OCR pipeline in-process on the real ONNX Runtime with the plugin's own PP-OCRv4 models: fixed images read back
 * exactly (fonts, sizes, +-3 degrees, noise, a serial number, upside down, JPEG as base64), several lines in reading
 * order with their boxes, several images in one request, and each kind of bad input refused naming the element.
 */
public class OcrPipelineTest {
    private static OcrFixture.Result read(BufferedImage img) throws Exception {
        return OcrFixture.run(List.of(OcrFixture.png(img)));
    }

    private static void assertReads(String text, OcrFixture.Style style) throws Exception {
        OcrFixture.Result r = read(OcrFixture.render(List.of(text), style, 42));
        assertEquals(style.toString(), List.of(text), r.text());
        assertTrue("confidence " + r.confidence()[0], r.confidence()[0] > 0.8f && r.confidence()[0] <= 1f);
    }

    @Test
    public void aSerialNumberIsReadExactlyInEachFontAndAtEachAngle() throws Exception {
        for (String font : new String[] {"DejaVu Sans", "DejaVu Serif", "DejaVu Sans Mono"}) {
            for (double degrees : new double[] {-3, 0, 3}) {
                assertReads("SN 4821-XK7-0093", new OcrFixture.Style(font, Font.PLAIN, 30, degrees, 8, 0x101010,
                        0xffffff));
            }
        }
    }

    @Test
    public void fixedLinesAreReadExactly() throws Exception {
        assertReads("Tollgate OCR 2026", OcrFixture.Style.plain("DejaVu Sans", 24));
        assertReads("Lot 7731/B exp 12.2027", new OcrFixture.Style("DejaVu Serif", Font.PLAIN, 36, 2.5, 0, 0x202020,
                0xf0f0f0));
        assertReads("PART NO AX-5521", new OcrFixture.Style("DejaVu Sans", Font.BOLD, 20, -2, 12, 0x000000,
                0xffffff));
        assertReads("Net weight 12.5 kg", new OcrFixture.Style("DejaVu Sans Mono", Font.PLAIN, 40, 1, 6, 0x303030,
                0xe0e0e0));
        assertReads("pressure 4.2 bar", new OcrFixture.Style("DejaVu Serif", Font.PLAIN, 28, -1, 4, 0x101010,
                0xffffff));
    }

    @Test
    public void anUpsideDownLineIsTurnedByTheDirectionClassifier() throws Exception {
        OcrFixture.Style s = new OcrFixture.Style("DejaVu Sans", Font.PLAIN, 30, 180, 4, 0x101010, 0xffffff);
        OcrFixture.Result r = read(OcrFixture.render(List.of("SERIAL 7731-QX"), s, 7));
        assertEquals(List.of("SERIAL 7731-QX"), r.text());
        OcrFixture.Result without = OcrFixture.run(OcrFixture.pipeline(Map.of("use_angle_cls", "false")),
                List.of(OcrFixture.png(OcrFixture.render(List.of("SERIAL 7731-QX"), s, 7))));
        assertTrue("without the classifier it is not read: " + without.text(),
                !without.text().equals(List.of("SERIAL 7731-QX")));
    }

    @Test
    public void linesComeTopToBottomWithTheirBoxesInTheOriginalImage() throws Exception {
        List<String> lines = List.of("Model TX-200", "Serial 5591-0042", "Made in 2026");
        BufferedImage img = OcrFixture.render(lines, OcrFixture.Style.plain("DejaVu Sans", 26), 1);
        OcrFixture.Result r = read(img);
        assertEquals(lines, r.text());
        assertArrayEquals(new int[] {0, 0, 0}, r.imageIndex());
        float[] b = r.box();
        assertEquals(3 * 8, b.length);
        for (int i = 0; i < 3; i++) {
            float x0 = b[i * 8];
            float y0 = b[i * 8 + 1];
            float x1 = b[i * 8 + 2];
            float y1 = b[i * 8 + 3];
            float x2 = b[i * 8 + 4];
            float y2 = b[i * 8 + 5];
            float x3 = b[i * 8 + 6];
            float y3 = b[i * 8 + 7];
            assertTrue("clockwise from top-left: " + Arrays.toString(Arrays.copyOfRange(b, i * 8, i * 8 + 8)),
                    x1 > x0 && x2 > x3 && y3 > y0 && y2 > y1);
            for (int k = 0; k < 4; k++) {
                assertTrue(b[i * 8 + 2 * k] >= 0 && b[i * 8 + 2 * k] < img.getWidth());
                assertTrue(b[i * 8 + 2 * k + 1] >= 0 && b[i * 8 + 2 * k + 1] < img.getHeight());
            }
            if (i > 0) {
                assertTrue("line " + i + " is below line " + (i - 1), y0 > b[(i - 1) * 8 + 7] - 4);
            }
            // the box holds the ink of its line: the line's text height is about the font size
            assertTrue("box height " + (y3 - y0), y3 - y0 > 20 && y3 - y0 < 60);
        }
    }

    @Test
    public void severalImagesInOneRequestPngAndBase64Jpeg() throws Exception {
        byte[] png = OcrFixture.png(OcrFixture.render(List.of("ALPHA 101"), OcrFixture.Style.plain("DejaVu Sans", 28),
                1));
        byte[] blank = OcrFixture.png(new BufferedImage(120, 60, BufferedImage.TYPE_INT_RGB));
        byte[] jpeg64 = Base64.getEncoder().encode(OcrFixture.encode(OcrFixture.render(List.of("BRAVO 202"),
                OcrFixture.Style.plain("DejaVu Serif", 28), 1), "jpeg"));
        OcrFixture.Result r = OcrFixture.run(List.of(png, blank, jpeg64));
        assertEquals(List.of("ALPHA 101", "BRAVO 202"), r.text());
        assertArrayEquals("the blank image gives no line", new int[] {0, 2}, r.imageIndex());
        assertEquals(3, OcrFixture.pipeline().quantity(OcrFixture.request(List.of(png, blank, jpeg64))));
    }

    @Test
    public void anImageWithoutTextGivesEmptyOutputsOfTheDeclaredShapes() throws Exception {
        BufferedImage white = new BufferedImage(200, 100, BufferedImage.TYPE_INT_RGB);
        java.awt.Graphics2D g = white.createGraphics();
        g.setColor(java.awt.Color.WHITE);
        g.fillRect(0, 0, 200, 100);
        g.dispose();
        List<Tensor> out = OcrFixture.pipeline().run(OcrFixture.request(List.of(OcrFixture.png(white))));
        assertEquals(List.of("text", "confidence", "box", "image_index"), out.stream().map(Tensor::name).toList());
        assertArrayEquals(new long[] {0}, out.get(0).shape());
        assertArrayEquals(new long[] {0, 4, 2}, out.get(2).shape());
    }

    private static void assertRefused(List<byte[]> images, String... fragments) throws Exception {
        for (boolean atQuantity : new boolean[] {true, false}) {
            PipelineException e = OcrFixture.rejection(images, atQuantity);
            assertEquals(e.getMessage(), PipelineException.Reason.INVALID_INPUT, e.reason());
            for (String f : fragments) {
                assertTrue(e.getMessage(), e.getMessage().contains(f));
            }
        }
    }

    @Test
    public void notAnImageIsRefusedNamingTheElement() throws Exception {
        byte[] good = OcrFixture.png(OcrFixture.render(List.of("OK"), OcrFixture.Style.plain("DejaVu Sans", 20), 1));
        assertRefused(List.of(good, "hello, world".getBytes(StandardCharsets.UTF_8)), "image[1] is not a PNG or JPEG");
        assertRefused(List.of(Base64.getEncoder().encode("GIF89a not supported".getBytes(StandardCharsets.UTF_8))),
                "image[0] is not a PNG or JPEG");
        assertRefused(List.of(new byte[0]), "image[0] is not a PNG or JPEG", "(empty)");
    }

    @Test
    public void aTruncatedPngIsRefused() throws Exception {
        byte[] png = OcrFixture.png(OcrFixture.render(List.of("TRUNCATED 123"), OcrFixture.Style.plain("DejaVu Sans",
                28), 1));
        byte[] half = Arrays.copyOf(png, png.length / 2);
        PipelineException e = OcrFixture.rejection(List.of(half), false);
        assertEquals(PipelineException.Reason.INVALID_INPUT, e.reason());
        assertTrue(e.getMessage(), e.getMessage().contains("image[0] is a corrupt or truncated PNG"));
        byte[] header = Arrays.copyOf(png, 20);   // cut inside the IHDR chunk: even the header is unreadable
        assertRefused(List.of(header), "image[0] is a corrupt PNG");
    }

    /** A PNG whose IHDR claims {@code w x h} (CRC fixed), with the small image's data behind it. */
    private static byte[] claiming(int w, int h) throws Exception {
        byte[] png = OcrFixture.png(new BufferedImage(4, 4, BufferedImage.TYPE_INT_RGB)).clone();
        ByteBuffer b = ByteBuffer.wrap(png);
        b.putInt(16, w).putInt(20, h);
        CRC32 crc = new CRC32();
        crc.update(png, 12, 17);
        b.putInt(29, (int) crc.getValue());
        return png;
    }

    @Test
    public void hugeDimensionsAreRefusedFromTheHeader() throws Exception {
        assertRefused(List.of(claiming(9000, 100)), "image[0] is a PNG of 9000x100 pixels", "8192 pixels a side");
        assertRefused(List.of(claiming(7000, 7000)), "image[0] is a PNG of 7000x7000", "40 megapixels");
        assertEquals("8000x5000 is within the limits", 1,
                OcrFixture.pipeline().quantity(OcrFixture.request(List.of(claiming(8000, 5000)))));
    }

    @Test
    public void aLargeBase64PictureIsCountedFromItsHeaderAndRefusedWhenItsTailIsBroken() throws Exception {
        BufferedImage noise = new BufferedImage(1200, 900, BufferedImage.TYPE_INT_RGB);
        java.util.Random r = new java.util.Random(3);
        for (int y = 0; y < 900; y++) {
            for (int x = 0; x < 1200; x++) {
                noise.setRGB(x, y, r.nextInt(0x1000000));
            }
        }
        byte[] b64 = Base64.getMimeEncoder().encode(OcrFixture.png(noise));   // with line breaks, as mail sends it
        assertTrue("larger than the header prefix: " + b64.length, b64.length > ImageDecoder.HEADER_PREFIX);
        assertEquals(1, OcrFixture.pipeline().quantity(OcrFixture.request(List.of(b64))));
        byte[] broken = b64.clone();
        broken[broken.length - 10] = '!';
        assertEquals("the header alone is read for the quantity", 1,
                OcrFixture.pipeline().quantity(OcrFixture.request(List.of(broken))));
        PipelineException e = OcrFixture.rejection(List.of(broken), false);
        assertEquals(PipelineException.Reason.INVALID_INPUT, e.reason());
        assertTrue(e.getMessage(), e.getMessage().contains("image[0] is not a PNG or JPEG file"));
    }

    @Test
    public void anEmptyOrMissingInputIsRefused() throws Exception {
        PipelineException e = OcrFixture.rejection(List.of(), true);
        assertEquals(PipelineException.Reason.INVALID_INPUT, e.reason());
        assertTrue(e.getMessage(), e.getMessage().contains("input 'image' is empty (shape [0])"));
        PipelineRequest none = new PipelineRequest("t", "default", List.of(Tensor.ofBytes("picture", new long[] {1},
                List.of(new byte[] {1}))), List.of(), Map.of());
        try {
            OcrFixture.pipeline().run(none);
            throw new AssertionError("accepted");
        } catch (PipelineException x) {
            assertEquals(PipelineException.Reason.INVALID_INPUT, x.reason());
            assertTrue(x.getMessage(), x.getMessage().contains("input 'image' is missing"));
        }
    }
}
