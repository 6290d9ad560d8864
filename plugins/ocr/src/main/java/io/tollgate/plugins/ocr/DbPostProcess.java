package io.tollgate.plugins.ocr;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * The text detector's post-processing, as PaddleOCR's {@code DBPostProcess} (box_type quad, score_mode fast) and
 * {@code filter_tag_det_res} / {@code sorted_boxes} do it: binarize the probability map at {@code threshold}; each
 * 8-connected region gives its least-area rotated rectangle; regions whose short side is under 3 px or whose mean
 * probability inside the rectangle is under {@code boxThreshold} are dropped; the rectangle is grown on every side by
 * {@code area * unclipRatio / perimeter} (the Vatti offset of a rectangle, whose least-area rectangle this is) and
 * dropped if its short side is then under 5 px; corners are scaled to the original image, rounded and clipped; boxes
 * narrower or lower than 4 px are dropped; the rest are sorted top to bottom, then left to right within 10 px rows.
 */
final class DbPostProcess {
    private static final int MIN_SIZE = 3;

    private final float threshold;
    private final float boxThreshold;
    private final float unclipRatio;
    private final int maxCandidates;

    /**
     * @param maxCandidates at most this many connected regions of the binarized map are looked at, in scan order
     *                      (PaddleOCR's {@code max_candidates}, default 1000): the bound on the work per image
     */
    DbPostProcess(float threshold, float boxThreshold, float unclipRatio, int maxCandidates) {
        this.threshold = threshold;
        this.boxThreshold = boxThreshold;
        this.unclipRatio = unclipRatio;
        this.maxCandidates = maxCandidates;
    }

    /**
     * Boxes of the text in a probability map.
     *
     * @param prob  the detector's map, {@code mh x mw} row-major, values 0-1
     * @param destW width of the original image, pixels
     * @param destH height of the original image, pixels
     * @return quadrilaterals, each 4 corners (x, y) clockwise from top-left in original-image pixels, in reading order
     */
    List<double[][]> boxes(float[] prob, int mw, int mh, int destW, int destH) {
        int[] label = new int[mw * mh];
        int[] stack = new int[mw * mh];
        List<double[][]> out = new ArrayList<>();
        int regions = 0;
        for (int start = 0; start < prob.length && regions < maxCandidates; start++) {
            if (label[start] != 0 || !(prob[start] > threshold)) {
                continue;
            }
            regions++;
            // Flood fill, 8-connected; per row the leftmost and rightmost pixel (their hull is the region's hull).
            int sp = 0;
            stack[sp++] = start;
            label[start] = regions;
            java.util.Map<Integer, int[]> span = new java.util.HashMap<>();
            while (sp > 0) {
                int p = stack[--sp];
                int x = p % mw;
                int y = p / mw;
                int[] s = span.get(y);
                if (s == null) {
                    span.put(y, new int[] {x, x});
                } else {
                    s[0] = Math.min(s[0], x);
                    s[1] = Math.max(s[1], x);
                }
                for (int dy = -1; dy <= 1; dy++) {
                    int ny = y + dy;
                    if (ny < 0 || ny >= mh) {
                        continue;
                    }
                    for (int dx = -1; dx <= 1; dx++) {
                        int nx = x + dx;
                        if (nx < 0 || nx >= mw || (dx == 0 && dy == 0)) {
                            continue;
                        }
                        int q = ny * mw + nx;
                        if (label[q] == 0 && prob[q] > threshold) {
                            label[q] = regions;
                            stack[sp++] = q;
                        }
                    }
                }
            }
            double[] pts = new double[span.size() * 4];
            int k = 0;
            for (java.util.Map.Entry<Integer, int[]> e : span.entrySet()) {
                pts[k++] = e.getValue()[0];
                pts[k++] = e.getKey();
                pts[k++] = e.getValue()[1];
                pts[k++] = e.getKey();
            }
            double[] rect = Geometry.minAreaRect(pts);
            if (Math.min(rect[2], rect[3]) < MIN_SIZE) {
                continue;
            }
            double[][] box = Geometry.orderClockwise(Geometry.corners(rect, 0));
            if (score(prob, mw, mh, box) < boxThreshold) {
                continue;
            }
            double w = rect[2];
            double h = rect[3];
            double distance = w * h * unclipRatio / (2 * (w + h));
            if (Math.min(w, h) + 2 * distance < MIN_SIZE + 2) {
                continue;
            }
            double[][] grown = Geometry.orderClockwise(Geometry.corners(rect, distance));
            double[][] scaled = new double[4][2];
            for (int i = 0; i < 4; i++) {
                scaled[i][0] = clip(Math.rint(grown[i][0] / mw * destW), 0, destW);
                scaled[i][1] = clip(Math.rint(grown[i][1] / mh * destH), 0, destH);
            }
            // filter_tag_det_res: clockwise by sums/differences, clipped to the image, at least 4 px each way.
            double[][] q = orderBySums(scaled);
            for (double[] c : q) {
                c[0] = clip(c[0], 0, destW - 1);
                c[1] = clip(c[1], 0, destH - 1);
            }
            if ((int) BgrImage.dist(q[0], q[1]) <= 3 || (int) BgrImage.dist(q[0], q[3]) <= 3) {
                continue;
            }
            out.add(q);
        }
        sortReadingOrder(out);
        return out;
    }

    /** Mean probability over the pixels of the box's polygon (PaddleOCR's box_score_fast). */
    private static float score(float[] prob, int mw, int mh, double[][] box) {
        double minX = Double.POSITIVE_INFINITY;
        double maxX = Double.NEGATIVE_INFINITY;
        double minY = Double.POSITIVE_INFINITY;
        double maxY = Double.NEGATIVE_INFINITY;
        for (double[] c : box) {
            minX = Math.min(minX, c[0]);
            maxX = Math.max(maxX, c[0]);
            minY = Math.min(minY, c[1]);
            maxY = Math.max(maxY, c[1]);
        }
        int xmin = (int) clip(Math.floor(minX), 0, mw - 1);
        int xmax = (int) clip(Math.ceil(maxX), 0, mw - 1);
        int ymin = (int) clip(Math.floor(minY), 0, mh - 1);
        int ymax = (int) clip(Math.ceil(maxY), 0, mh - 1);
        double[][] t = new double[4][2];
        for (int i = 0; i < 4; i++) {
            t[i][0] = (int) box[i][0];
            t[i][1] = (int) box[i][1];
        }
        double sum = 0;
        int n = 0;
        for (int y = ymin; y <= ymax; y++) {
            for (int x = xmin; x <= xmax; x++) {
                if (Geometry.inConvexQuad(t, x, y)) {
                    sum += prob[y * mw + x];
                    n++;
                }
            }
        }
        return n == 0 ? 0 : (float) (sum / n);
    }

    /** PaddleOCR's order_points_clockwise: top-left has the least x+y, bottom-right the most; y-x splits the rest. */
    private static double[][] orderBySums(double[][] p) {
        double[][] r = new double[4][];
        r[0] = min(p, c -> c[0] + c[1]);
        r[2] = max(p, c -> c[0] + c[1]);
        List<double[]> rest = new ArrayList<>();
        for (double[] c : p) {
            if (c != r[0] && c != r[2]) {
                rest.add(c);
            }
        }
        if (rest.size() != 2) {   // ties: fall back to the geometric order
            return Geometry.orderClockwise(p);
        }
        double[] a = rest.get(0);
        double[] b = rest.get(1);
        boolean aFirst = (a[1] - a[0]) <= (b[1] - b[0]);
        r[1] = (aFirst ? a : b).clone();
        r[3] = (aFirst ? b : a).clone();
        r[0] = r[0].clone();
        r[2] = r[2].clone();
        return r;
    }

    private static double[] min(double[][] p, java.util.function.ToDoubleFunction<double[]> f) {
        double[] best = p[0];
        for (double[] c : p) {
            if (f.applyAsDouble(c) < f.applyAsDouble(best)) {
                best = c;
            }
        }
        return best;
    }

    private static double[] max(double[][] p, java.util.function.ToDoubleFunction<double[]> f) {
        double[] best = p[0];
        for (double[] c : p) {
            if (f.applyAsDouble(c) > f.applyAsDouble(best)) {
                best = c;
            }
        }
        return best;
    }

    /** PaddleOCR's sorted_boxes: by top-left (y, x), then neighbours less than 10 px apart in y by x. */
    static void sortReadingOrder(List<double[][]> boxes) {
        boxes.sort(Comparator.<double[][]>comparingDouble(b -> b[0][1]).thenComparingDouble(b -> b[0][0]));
        for (int i = 0; i < boxes.size() - 1; i++) {
            for (int j = i; j >= 0; j--) {
                double[][] a = boxes.get(j);
                double[][] b = boxes.get(j + 1);
                if (Math.abs(b[0][1] - a[0][1]) < 10 && b[0][0] < a[0][0]) {
                    boxes.set(j, b);
                    boxes.set(j + 1, a);
                } else {
                    break;
                }
            }
        }
    }

    private static double clip(double v, double lo, double hi) {
        return v < lo ? lo : (v > hi ? hi : v);
    }
}
