package io.tollgate.plugins.ocr;

/**
 * An 8-bit, 3-channel image in OpenCV's layout: rows top to bottom, pixels left to right, bytes B, G, R per pixel
 * ({@code bgr.length == width * height * 3}). PaddleOCR's models were trained on images read by {@code cv2.imread},
 * so the pipeline feeds channels in this BGR order.
 */
record BgrImage(int width, int height, byte[] bgr) {
    BgrImage {
        if (width <= 0 || height <= 0 || bgr.length != Math.multiplyExact(Math.multiplyExact(width, height), 3)) {
            throw new IllegalArgumentException("image " + width + "x" + height + " needs " + (3L * width * height)
                    + " bytes, has " + bgr.length);
        }
    }

    /** Channel {@code c} (0 = B, 1 = G, 2 = R) of pixel (x, y), 0-255. */
    int at(int x, int y, int c) {
        return bgr[(y * width + x) * 3 + c] & 0xff;
    }

    /** The image turned by 180 degrees (what PaddleOCR does to a crop the direction classifier calls '180'). */
    BgrImage rotate180() {
        byte[] out = new byte[bgr.length];
        int n = width * height;
        for (int i = 0; i < n; i++) {
            int j = n - 1 - i;
            out[j * 3] = bgr[i * 3];
            out[j * 3 + 1] = bgr[i * 3 + 1];
            out[j * 3 + 2] = bgr[i * 3 + 2];
        }
        return new BgrImage(width, height, out);
    }

    /** The image turned 90 degrees counter-clockwise ({@code np.rot90}): a tall crop becomes a line. */
    BgrImage rotate90CounterClockwise() {
        int w = height;
        int h = width;
        byte[] out = new byte[bgr.length];
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                int sx = width - 1 - y;
                int sy = x;
                System.arraycopy(bgr, (sy * width + sx) * 3, out, (y * w + x) * 3, 3);
            }
        }
        return new BgrImage(w, h, out);
    }

    /**
     * Bilinear resize to {@code dw x dh} written as normalized planar floats: {@code out[off + c*dh*dw + y*dw + x] =
     * (value / 255 - mean[c]) / std[c]} for channel c in B, G, R order, sampled as OpenCV's {@code INTER_LINEAR} does
     * (pixel centres aligned, edges replicated). {@code rowStride} is the width of the destination plane (>= dw; the
     * rest of each row is left as it is, i.e. zero padding).
     */
    void resizeNormalized(int dw, int dh, float[] out, int off, int rowStride, float[] mean, float[] std) {
        double sx = (double) width / dw;
        double sy = (double) height / dh;
        int plane = dh * rowStride;
        int[] x0 = new int[dw];
        int[] x1 = new int[dw];
        float[] fx = new float[dw];
        for (int x = 0; x < dw; x++) {
            double src = (x + 0.5) * sx - 0.5;
            int i = (int) Math.floor(src);
            float f = (float) (src - i);
            if (i < 0) {
                i = 0;
                f = 0;
            }
            if (i >= width - 1) {
                i = width - 1;
                f = 0;
            }
            x0[x] = i;
            x1[x] = Math.min(i + 1, width - 1);
            fx[x] = f;
        }
        float[] scale = new float[3];
        float[] shift = new float[3];
        for (int c = 0; c < 3; c++) {
            scale[c] = 1f / (255f * std[c]);
            shift[c] = mean[c] / std[c];
        }
        for (int y = 0; y < dh; y++) {
            double src = (y + 0.5) * sy - 0.5;
            int j = (int) Math.floor(src);
            float fy = (float) (src - j);
            if (j < 0) {
                j = 0;
                fy = 0;
            }
            if (j >= height - 1) {
                j = height - 1;
                fy = 0;
            }
            int r0 = j * width;
            int r1 = Math.min(j + 1, height - 1) * width;
            for (int x = 0; x < dw; x++) {
                int a = (r0 + x0[x]) * 3;
                int b = (r0 + x1[x]) * 3;
                int cc = (r1 + x0[x]) * 3;
                int d = (r1 + x1[x]) * 3;
                float wx = fx[x];
                for (int c = 0; c < 3; c++) {
                    float top = (bgr[a + c] & 0xff) + wx * ((bgr[b + c] & 0xff) - (bgr[a + c] & 0xff));
                    float bottom = (bgr[cc + c] & 0xff) + wx * ((bgr[d + c] & 0xff) - (bgr[cc + c] & 0xff));
                    float v = top + fy * (bottom - top);
                    out[off + c * plane + y * rowStride + x] = v * scale[c] - shift[c];
                }
            }
        }
    }

    /**
     * The quadrilateral {@code quad} (4 corners, clockwise from top-left, in this image's pixels) warped to an upright
     * rectangle, as PaddleOCR's {@code get_rotate_crop_image}: width = the longer of the top and bottom edges, height
     * = the longer of the left and right edges, perspective mapping, bilinear sampling, edges replicated; a crop at
     * least 1.5 times taller than wide is turned 90 degrees counter-clockwise.
     */
    BgrImage crop(double[][] quad) {
        int cw = (int) Math.max(dist(quad[0], quad[1]), dist(quad[2], quad[3]));
        int ch = (int) Math.max(dist(quad[0], quad[3]), dist(quad[1], quad[2]));
        cw = Math.max(cw, 1);
        ch = Math.max(ch, 1);
        double[][] dst = {{0, 0}, {cw, 0}, {cw, ch}, {0, ch}};
        double[] m = Geometry.perspective(dst, quad);   // maps crop pixels to source pixels
        byte[] out = new byte[cw * ch * 3];
        for (int y = 0; y < ch; y++) {
            for (int x = 0; x < cw; x++) {
                double den = m[6] * x + m[7] * y + 1;
                double u = (m[0] * x + m[1] * y + m[2]) / den;
                double v = (m[3] * x + m[4] * y + m[5]) / den;
                int i = (int) Math.floor(u);
                int j = (int) Math.floor(v);
                double fu = u - i;
                double fv = v - j;
                int i0 = clamp(i, width);
                int i1 = clamp(i + 1, width);
                int j0 = clamp(j, height);
                int j1 = clamp(j + 1, height);
                int o = (y * cw + x) * 3;
                for (int c = 0; c < 3; c++) {
                    double top = at(i0, j0, c) * (1 - fu) + at(i1, j0, c) * fu;
                    double bottom = at(i0, j1, c) * (1 - fu) + at(i1, j1, c) * fu;
                    out[o + c] = (byte) Math.min(255, Math.max(0, Math.round(top * (1 - fv) + bottom * fv)));
                }
            }
        }
        BgrImage crop = new BgrImage(cw, ch, out);
        return (double) ch / cw >= 1.5 ? crop.rotate90CounterClockwise() : crop;
    }

    private static int clamp(int v, int size) {
        return v < 0 ? 0 : (v >= size ? size - 1 : v);
    }

    static double dist(double[] a, double[] b) {
        return Math.hypot(a[0] - b[0], a[1] - b[1]);
    }
}
