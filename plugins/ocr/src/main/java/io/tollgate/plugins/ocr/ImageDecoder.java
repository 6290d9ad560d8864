package io.tollgate.plugins.ocr;

import io.tollgate.pipeline.PipelineException;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.util.Base64;
import java.util.Iterator;
import javax.imageio.ImageIO;
import javax.imageio.ImageReader;
import javax.imageio.event.IIOReadWarningListener;
import javax.imageio.stream.ImageInputStream;
import javax.imageio.stream.MemoryCacheImageInputStream;

/**
 * Turns one element of the {@code image} input into pixels: a PNG or JPEG file, raw or as base64 text (a JSON body
 * carries binary as base64; the Open Inference Protocol's binary-data extension carries raw bytes). The format is
 * told by its magic bytes (PNG: 89 50 4E 47 0D 0A 1A 0A, ISO/IEC 15948; JPEG: FF D8 FF, ITU T.81); anything else is
 * tried as base64 (RFC 4648, standard or URL alphabet, line breaks allowed) of such a file. Decoding is the JDK's
 * {@code javax.imageio}, reading from memory (never ImageIO's temporary-file cache); the dimensions are checked from
 * the header before any pixel is decoded.
 */
final class ImageDecoder {
    /** Largest accepted side, pixels. */
    static final int MAX_SIDE = 8192;
    /** Largest accepted area, pixels (40 megapixels). */
    static final long MAX_PIXELS = 40_000_000L;

    private ImageDecoder() {
    }

    /** A file's format and its header's dimensions. */
    record Header(String format, int width, int height, byte[] file) {
    }

    /**
     * Reads the format and dimensions of element {@code index} without decoding pixels.
     *
     * @throws PipelineException INVALID_INPUT naming {@code image[index]} when it is neither PNG nor JPEG (raw or
     *                           base64), its header is unreadable, or it is larger than {@link #MAX_SIDE} a side or
     *                           {@link #MAX_PIXELS} in all
     */
    static Header header(byte[] element, int index) throws PipelineException {
        return header(element, index, Integer.MAX_VALUE);
    }

    /**
     * As {@link #header(byte[], int)}, decoding at most the first {@code base64Prefix} characters of base64 text to find
     * the header (what {@code quantity} needs, kept cheap for a large picture); when the header is not within them, the
     * whole text is decoded. The returned {@link Header#file()} is then only that prefix.
     */
    static Header headerOnly(byte[] element, int index) throws PipelineException {
        if (format(element) == null && element.length > HEADER_PREFIX) {
            try {
                return header(element, index, HEADER_PREFIX);
            } catch (PipelineException e) {
                // the header is further in (a large EXIF block) or the prefix is not base64 on its own: decode it all
            }
        }
        return header(element, index, Integer.MAX_VALUE);
    }

    /** Base64 characters decoded to find a header in {@link #headerOnly} (768 KiB of file). */
    static final int HEADER_PREFIX = 1 << 20;

    private static Header header(byte[] element, int index, int base64Prefix) throws PipelineException {
        byte[] file = element;
        String format = format(file);
        if (format == null) {
            byte[] decoded = base64(element, base64Prefix);
            format = decoded == null ? null : format(decoded);
            if (format == null) {
                throw PipelineException.invalidInput("image[" + index + "] is not a PNG or JPEG file (" + element.length
                        + " bytes starting " + hex(element) + "), raw or base64; send the file's bytes (binary data"
                        + " extension) or their base64 text");
            }
            file = decoded;
        }
        try (ImageInputStream in = new MemoryCacheImageInputStream(new ByteArrayInputStream(file))) {
            ImageReader reader = reader(format);
            try {
                reader.setInput(in, true, true);
                int w = reader.getWidth(0);
                int h = reader.getHeight(0);
                checkSize(w, h, index, format);
                return new Header(format, w, h, file);
            } finally {
                reader.dispose();
            }
        } catch (IOException | RuntimeException e) {
            throw PipelineException.invalidInput("image[" + index + "] is a corrupt " + format + " file: its header"
                    + " cannot be read (" + e.getMessage() + ")");
        }
    }

    /**
     * Decodes element {@code index} to BGR pixels; a transparent pixel is composed over white.
     *
     * @throws PipelineException INVALID_INPUT as {@link #header}, and when the pixel data is corrupt or truncated
     */
    static BgrImage decode(byte[] element, int index) throws PipelineException {
        Header header = header(element, index);
        java.awt.image.BufferedImage image;
        try (ImageInputStream in = new MemoryCacheImageInputStream(new ByteArrayInputStream(header.file()))) {
            ImageReader reader = reader(header.format());
            try {
                StringBuilder warnings = new StringBuilder();
                reader.addIIOReadWarningListener(new IIOReadWarningListener() {
                    @Override
                    public void warningOccurred(ImageReader source, String warning) {
                        warnings.append(warnings.length() == 0 ? "" : "; ").append(warning);
                    }
                });
                reader.setInput(in, true, true);
                image = reader.read(0);
                if (warnings.length() > 0) {
                    throw new IOException(warnings.toString());
                }
            } finally {
                reader.dispose();
            }
        } catch (IOException | RuntimeException e) {
            throw PipelineException.invalidInput("image[" + index + "] is a corrupt or truncated " + header.format()
                    + " file (" + header.width() + "x" + header.height() + "): " + e.getMessage());
        }
        int w = image.getWidth();
        int h = image.getHeight();
        byte[] bgr = new byte[Math.multiplyExact(w * h, 3)];
        int[] row = new int[w];
        for (int y = 0; y < h; y++) {
            image.getRGB(0, y, w, 1, row, 0, w);
            int o = y * w * 3;
            for (int x = 0; x < w; x++) {
                int argb = row[x];
                int a = argb >>> 24;
                int r = (argb >> 16) & 0xff;
                int g = (argb >> 8) & 0xff;
                int b = argb & 0xff;
                if (a != 255) {
                    r = (r * a + 255 * (255 - a)) / 255;
                    g = (g * a + 255 * (255 - a)) / 255;
                    b = (b * a + 255 * (255 - a)) / 255;
                }
                bgr[o++] = (byte) b;
                bgr[o++] = (byte) g;
                bgr[o++] = (byte) r;
            }
        }
        return new BgrImage(w, h, bgr);
    }

    private static void checkSize(int w, int h, int index, String format) throws PipelineException {
        if (w <= 0 || h <= 0) {
            throw PipelineException.invalidInput("image[" + index + "] is a " + format + " of " + w + "x" + h
                    + " pixels; it has no pixels");
        }
        if (w > MAX_SIDE || h > MAX_SIDE || (long) w * h > MAX_PIXELS) {
            throw PipelineException.invalidInput("image[" + index + "] is a " + format + " of " + w + "x" + h
                    + " pixels; the limit is " + MAX_SIDE + " pixels a side and " + MAX_PIXELS / 1_000_000
                    + " megapixels; scale it down");
        }
    }

    private static ImageReader reader(String format) throws IOException {
        Iterator<ImageReader> readers = ImageIO.getImageReadersByFormatName(format);
        if (!readers.hasNext()) {
            throw new IOException("this Java runtime has no " + format + " reader");
        }
        return readers.next();
    }

    /** "PNG", "JPEG" or null, by magic bytes. */
    static String format(byte[] b) {
        if (b.length >= 8 && (b[0] & 0xff) == 0x89 && b[1] == 'P' && b[2] == 'N' && b[3] == 'G'
                && b[4] == 0x0d && b[5] == 0x0a && b[6] == 0x1a && b[7] == 0x0a) {
            return "PNG";
        }
        if (b.length >= 3 && (b[0] & 0xff) == 0xff && (b[1] & 0xff) == 0xd8 && (b[2] & 0xff) == 0xff) {
            return "JPEG";
        }
        return null;
    }

    /** The bytes {@code text} encodes in base64 (standard or URL-safe, white space ignored), or null if it is not. */
    static byte[] base64(byte[] text) {
        return base64(text, Integer.MAX_VALUE);
    }

    /** As {@link #base64(byte[])} over the first {@code limit} base64 characters only (rounded down to a multiple of 4). */
    private static byte[] base64(byte[] text, int limit) {
        byte[] compact = new byte[Math.min(text.length, limit)];
        int n = 0;
        boolean url = false;
        for (byte c : text) {
            if (n == compact.length) {
                n -= n % 4;
                break;
            }
            if (c == ' ' || c == '\n' || c == '\r' || c == '\t') {
                continue;
            }
            boolean ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+'
                    || c == '/' || c == '=' || c == '-' || c == '_';
            if (!ok) {
                return null;
            }
            url |= c == '-' || c == '_';
            compact[n++] = c;
        }
        if (n == 0) {
            return null;
        }
        try {
            byte[] in = java.util.Arrays.copyOf(compact, n);
            return (url ? Base64.getUrlDecoder() : Base64.getDecoder()).decode(in);
        } catch (IllegalArgumentException e) {
            return null;
        }
    }

    private static String hex(byte[] b) {
        StringBuilder s = new StringBuilder();
        for (int i = 0; i < Math.min(8, b.length); i++) {
            s.append(String.format("%02X ", b[i] & 0xff));
        }
        return b.length == 0 ? "(empty)" : s.toString().trim();
    }
}
