package io.tollgate.plugins.ocr;

import java.util.Arrays;

/** Plane geometry the detector's post-processing needs (OpenCV's convexHull, minAreaRect, getPerspectiveTransform). */
final class Geometry {
    private Geometry() {
    }

    /**
     * The rotated rectangle of least area holding {@code xy} (points as x0, y0, x1, y1, ...; at least one), by
     * rotating calipers over the convex hull.
     *
     * @return {cx, cy, w, h, ux, uy}: centre, the side lengths along the unit direction (ux, uy) and across it (never
     *         null: one point, also repeated, is a rectangle of 0 x 0)
     */
    static double[] minAreaRect(double[] xy) {
        double[] hull = convexHull(xy);
        int n = hull.length / 2;
        if (n == 1) {
            return new double[] {hull[0], hull[1], 0, 0, 1, 0};
        }
        double best = Double.POSITIVE_INFINITY;
        double[] rect = null;
        for (int i = 0; i < n; i++) {
            int j = (i + 1) % n;
            double ex = hull[2 * j] - hull[2 * i];
            double ey = hull[2 * j + 1] - hull[2 * i + 1];
            double len = Math.hypot(ex, ey);
            if (len == 0) {
                continue;
            }
            double ux = ex / len;
            double uy = ey / len;
            double minU = Double.POSITIVE_INFINITY;
            double maxU = Double.NEGATIVE_INFINITY;
            double minV = Double.POSITIVE_INFINITY;
            double maxV = Double.NEGATIVE_INFINITY;
            for (int k = 0; k < n; k++) {
                double px = hull[2 * k];
                double py = hull[2 * k + 1];
                double u = px * ux + py * uy;
                double v = -px * uy + py * ux;
                minU = Math.min(minU, u);
                maxU = Math.max(maxU, u);
                minV = Math.min(minV, v);
                maxV = Math.max(maxV, v);
            }
            double area = (maxU - minU) * (maxV - minV);
            if (area < best - 1e-9) {
                best = area;
                double cu = (minU + maxU) / 2;
                double cv = (minV + maxV) / 2;
                rect = new double[] {cu * ux - cv * uy, cu * uy + cv * ux, maxU - minU, maxV - minV, ux, uy};
            }
        }
        // every hull edge of length 0: the points are one point repeated (a one-pixel region gives its pixel twice)
        return rect != null ? rect : new double[] {hull[0], hull[1], 0, 0, 1, 0};
    }

    /** The four corners of a rectangle from {@link #minAreaRect}, {@code grow} added on every side. */
    static double[][] corners(double[] rect, double grow) {
        double hw = rect[2] / 2 + grow;
        double hh = rect[3] / 2 + grow;
        double ux = rect[4];
        double uy = rect[5];
        double[][] c = new double[4][];
        int k = 0;
        for (int su : new int[] {-1, 1}) {
            for (int sv : new int[] {-1, 1}) {
                c[k++] = new double[] {rect[0] + su * hw * ux - sv * hh * uy, rect[1] + su * hw * uy + sv * hh * ux};
            }
        }
        return c;
    }

    /**
     * PaddleOCR's {@code get_mini_boxes} order: of the two leftmost corners the upper is first (top-left) and the lower
     * last (bottom-left); of the two rightmost the upper is second (top-right), the lower third: clockwise from
     * top-left in image coordinates.
     */
    static double[][] orderClockwise(double[][] pts) {
        double[][] p = pts.clone();
        Arrays.sort(p, (a, b) -> Double.compare(a[0], b[0]));
        double[] tl;
        double[] bl;
        if (p[1][1] > p[0][1]) {
            tl = p[0];
            bl = p[1];
        } else {
            tl = p[1];
            bl = p[0];
        }
        double[] tr;
        double[] br;
        if (p[3][1] > p[2][1]) {
            tr = p[2];
            br = p[3];
        } else {
            tr = p[3];
            br = p[2];
        }
        return new double[][] {tl, tr, br, bl};
    }

    /** Andrew's monotone chain; returns the hull's corners counter-clockwise (in y-up terms), as x0, y0, ... */
    static double[] convexHull(double[] xy) {
        int n = xy.length / 2;
        Integer[] idx = new Integer[n];
        for (int i = 0; i < n; i++) {
            idx[i] = i;
        }
        Arrays.sort(idx, (a, b) -> xy[2 * a] != xy[2 * b] ? Double.compare(xy[2 * a], xy[2 * b])
                : Double.compare(xy[2 * a + 1], xy[2 * b + 1]));
        if (n < 3) {
            double[] out = new double[2 * n];
            for (int i = 0; i < n; i++) {
                out[2 * i] = xy[2 * idx[i]];
                out[2 * i + 1] = xy[2 * idx[i] + 1];
            }
            return out;
        }
        int[] h = new int[2 * n];
        int k = 0;
        for (int i = 0; i < n; i++) {
            while (k >= 2 && cross(xy, h[k - 2], h[k - 1], idx[i]) <= 0) {
                k--;
            }
            h[k++] = idx[i];
        }
        for (int i = n - 2, t = k + 1; i >= 0; i--) {
            while (k >= t && cross(xy, h[k - 2], h[k - 1], idx[i]) <= 0) {
                k--;
            }
            h[k++] = idx[i];
        }
        k--;
        double[] out = new double[2 * Math.max(k, 1)];
        for (int i = 0; i < Math.max(k, 1); i++) {
            out[2 * i] = xy[2 * h[i]];
            out[2 * i + 1] = xy[2 * h[i] + 1];
        }
        return out;
    }

    private static double cross(double[] xy, int o, int a, int b) {
        return (xy[2 * a] - xy[2 * o]) * (xy[2 * b + 1] - xy[2 * o + 1])
                - (xy[2 * a + 1] - xy[2 * o + 1]) * (xy[2 * b] - xy[2 * o]);
    }

    /**
     * The homography taking {@code from[i]} to {@code to[i]} (4 point pairs), as {m0..m7} with m8 = 1:
     * {@code x' = (m0 x + m1 y + m2) / (m6 x + m7 y + 1)}, {@code y' = (m3 x + m4 y + m5) / (m6 x + m7 y + 1)}.
     */
    static double[] perspective(double[][] from, double[][] to) {
        double[][] a = new double[8][9];
        for (int i = 0; i < 4; i++) {
            double x = from[i][0];
            double y = from[i][1];
            double u = to[i][0];
            double v = to[i][1];
            a[2 * i] = new double[] {x, y, 1, 0, 0, 0, -x * u, -y * u, u};
            a[2 * i + 1] = new double[] {0, 0, 0, x, y, 1, -x * v, -y * v, v};
        }
        for (int c = 0; c < 8; c++) {
            int p = c;
            for (int r = c + 1; r < 8; r++) {
                if (Math.abs(a[r][c]) > Math.abs(a[p][c])) {
                    p = r;
                }
            }
            double[] t = a[c];
            a[c] = a[p];
            a[p] = t;
            if (Math.abs(a[c][c]) < 1e-12) {
                continue;   // degenerate quad: leave that unknown 0
            }
            for (int r = 0; r < 8; r++) {
                if (r != c) {
                    double f = a[r][c] / a[c][c];
                    for (int k = c; k < 9; k++) {
                        a[r][k] -= f * a[c][k];
                    }
                }
            }
        }
        double[] m = new double[8];
        for (int i = 0; i < 8; i++) {
            m[i] = Math.abs(a[i][i]) < 1e-12 ? 0 : a[i][8] / a[i][i];
        }
        return m;
    }

    /** Whether (x, y) lies inside or on the convex quadrilateral {@code q} (corners in order, either direction). */
    static boolean inConvexQuad(double[][] q, double x, double y) {
        boolean pos = false;
        boolean neg = false;
        for (int i = 0; i < 4; i++) {
            double[] a = q[i];
            double[] b = q[(i + 1) % 4];
            double c = (b[0] - a[0]) * (y - a[1]) - (b[1] - a[1]) * (x - a[0]);
            if (c > 1e-9) {
                pos = true;
            } else if (c < -1e-9) {
                neg = true;
            }
            if (pos && neg) {
                return false;
            }
        }
        return true;
    }
}
