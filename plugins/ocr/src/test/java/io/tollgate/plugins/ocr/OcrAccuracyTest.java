package io.tollgate.plugins.ocr;

import static org.junit.Assert.assertTrue;

import java.awt.Font;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.Test;

/**
 * Character accuracy (1 - edit distance / length, summed over the set) of the pipeline on a generated set of 200
 * one-line images: random serial numbers, words and numbers in DejaVu Sans, Serif and Sans Mono (plain and bold),
 * 18-40 px, turned by -3 to +3 degrees, Gaussian noise 0-14 grey levels, varied ink and paper, 8 images a request.
 * The lines of an image are joined with a space in reading order before comparison. With {@code
 * -Docr.compareGap=true} (surefire {@code -DargLine=-Docr.compareGap=true}) it measures PaddleOCR's own decoding
 * ({@code rec_space_score} 0) and then other settings of it on another generated set (how the default was chosen).
 */
public class OcrAccuracyTest {
    static final String[] WORDS = {"lot", "batch", "exp", "part", "serial", "model", "valve", "pump", "motor",
        "sensor", "rev", "date", "made", "in", "type", "unit", "volt", "max", "net", "weight", "code", "line"};
    static final String[] FONTS = {"DejaVu Sans", "DejaVu Serif", "DejaVu Sans Mono"};
    static final String UPPER = "ABCDEFGHJKLMNPQRSTUVWXYZ";
    static final String DIGITS = "0123456789";

    /** A random line of 1-3 tokens: a serial, a word, a capitalized word, a decimal or a date. */
    static String line(Random r) {
        int n = 1 + r.nextInt(3);
        List<String> tokens = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            switch (r.nextInt(5)) {
                case 0 -> tokens.add(pick(r, UPPER, 2) + "-" + pick(r, DIGITS, 3 + r.nextInt(3)));
                case 1 -> tokens.add(WORDS[r.nextInt(WORDS.length)]);
                case 2 -> {
                    String w = WORDS[r.nextInt(WORDS.length)];
                    tokens.add(Character.toUpperCase(w.charAt(0)) + w.substring(1));
                }
                case 3 -> tokens.add(pick(r, DIGITS, 1 + r.nextInt(3)) + "." + pick(r, DIGITS, 1 + r.nextInt(2)));
                default -> tokens.add(pick(r, DIGITS, 2) + "/" + pick(r, DIGITS, 4));
            }
        }
        return String.join(" ", tokens);
    }

    static String pick(Random r, String from, int n) {
        StringBuilder s = new StringBuilder();
        for (int i = 0; i < n; i++) {
            s.append(from.charAt(r.nextInt(from.length())));
        }
        return s.toString();
    }

    static OcrFixture.Style style(Random r) {
        int ink = 10 + r.nextInt(60);
        int paper = 200 + r.nextInt(56);
        return new OcrFixture.Style(FONTS[r.nextInt(FONTS.length)], r.nextInt(4) == 0 ? Font.BOLD : Font.PLAIN,
                18 + r.nextInt(23), r.nextDouble() * 6 - 3, r.nextDouble() * 14, ink * 0x10101, paper * 0x10101);
    }

    /** {errors with spaces, length with spaces, errors without spaces, length without spaces, exact lines}. */
    static long[] measure(OcrPipeline p, int count, long seed, boolean print) throws Exception {
        Random r = new Random(seed);
        long[] m = new long[5];
        List<String> truth = new ArrayList<>();
        List<byte[]> batch = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            String t = line(r);
            truth.add(t);
            batch.add(OcrFixture.png(OcrFixture.render(List.of(t), style(r), r.nextLong())));
            if (batch.size() == 8 || i == count - 1) {
                OcrFixture.Result res = OcrFixture.run(p, batch);
                for (int k = 0; k < batch.size(); k++) {
                    String want = truth.get(k);
                    String got = String.join(" ", res.linesOf(k));
                    m[0] += OcrFixture.editDistance(got, want);
                    m[1] += want.length();
                    String w2 = want.replace(" ", "");
                    m[2] += OcrFixture.editDistance(got.replace(" ", ""), w2);
                    m[3] += w2.length();
                    m[4] += got.equals(want) ? 1 : 0;
                    if (print && !got.equals(want)) {
                        System.out.println("  [" + want + "] read [" + got + "]");
                    }
                }
                truth.clear();
                batch.clear();
            }
        }
        return m;
    }

    @Test
    public void characterAccuracyOver200GeneratedImages() throws Exception {
        long t0 = System.nanoTime();
        OcrPipeline p = Boolean.getBoolean("ocr.compareGap")
                ? OcrFixture.pipeline(Map.of("rec_space_score", "0")) : OcrFixture.pipeline();
        long[] m = measure(p, 200, 13, true);
        double acc = 1 - (double) m[0] / m[1];
        double accNoSpace = 1 - (double) m[2] / m[3];
        System.out.printf("OCR character accuracy over 200 generated images: %.4f (%.4f ignoring spaces), exact lines"
                + " %d/200, %.1f s%n", acc, accNoSpace, m[4], (System.nanoTime() - t0) / 1e9);
        if (Boolean.getBoolean("ocr.compareGap")) {   // an experiment: measures, asserts nothing
            for (String g : new String[] {"0.003", "0.01", "0.03", "0.1"}) {
                long[] n = measure(OcrFixture.pipeline(Map.of("rec_space_score", g)), 200, 99, false);
                System.out.printf("rec_space_score %s: accuracy %.4f (%.4f ignoring spaces), exact %d/200%n", g,
                        1 - (double) n[0] / n[1], 1 - (double) n[2] / n[3], n[4]);
            }
            return;
        }
        // measured 2026-12-01: 0.9920 (0.9954 ignoring spaces), 188/200 lines exact; with recognition batches per
        // picture (one picture at a time, review of issue 13): 0.9912 (0.9954), 186/200; floors with a margin
        assertTrue("character accuracy " + acc, acc >= 0.975);
        assertTrue("character accuracy ignoring spaces " + accNoSpace, accNoSpace >= 0.985);
    }
}
