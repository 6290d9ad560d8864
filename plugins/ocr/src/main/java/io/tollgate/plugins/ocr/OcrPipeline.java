package io.tollgate.plugins.ocr;

import io.tollgate.model.DataType;
import io.tollgate.model.Tensor;
import io.tollgate.model.TensorSpec;
import io.tollgate.pipeline.Pipeline;
import io.tollgate.pipeline.PipelineContext;
import io.tollgate.pipeline.PipelineException;
import io.tollgate.pipeline.PipelineRequest;
import io.tollgate.pipeline.PipelineStage;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The {@code ocr} capability plugin: reads the text printed in PNG or JPEG images with PaddleOCR's PP-OCRv4 models
 * (text detection {@code det}, direction classifier {@code cls}, text recognition {@code rec}), pre- and
 * post-processing as PaddleOCR's {@code tools/infer/predict_system.py} does them.
 *
 * <p><b>Input</b> {@code image}, BYTES {@code [N]} (1 <= N <= {@code max_images}, 16): each element one PNG or JPEG
 * file, raw bytes or base64 text of them (see {@link ImageDecoder}), at most 8192 pixels a side and 40 megapixels,
 * and at most {@code max_request_megapixels} (64) million pixels over the request (from the headers).
 *
 * <p><b>Outputs</b>, one row per text line found, L lines over all images, ordered by image, then top to bottom, then
 * left to right:
 * <ul>
 *   <li>{@code text} BYTES {@code [L]}: the line, UTF-8;</li>
 *   <li>{@code confidence} FP32 {@code [L]}: mean of the recognizer's per-character maximum probability, 0-1 (lines
 *       under the {@code drop_score} parameter are left out);</li>
 *   <li>{@code box} FP32 {@code [L,4,2]}: the line's corners (x, y) in pixels of the original image (origin top-left,
 *       y down), clockwise from top-left;</li>
 *   <li>{@code image_index} INT32 {@code [L]}: the index in {@code image} of the image the line is in.</li>
 * </ul>
 * An image without text adds no rows; L may be 0 (shapes {@code [0]} and {@code [0,4,2]}).
 *
 * <p><b>Steps</b>: detection on the image resized so that its longer side is at most {@code det_limit_side_len} (960)
 * and both sides are multiples of 32, normalized with ImageNet mean/std in BGR channel order; DB post-processing
 * ({@link DbPostProcess}); each box cropped upright (perspective warp); the direction classifier on 48x192 crops turns a
 * crop by 180 degrees when it says '180' with a probability over {@code cls_threshold} (0.9); recognition in batches
 * of 6 crops of height 48 (width by the widest ratio in the batch, at least 320), normalized to (x/255 - 0.5)/0.5;
 * CTC greedy decoding over {@code ppocr_keys_v1.txt} (index 0 blank, then the dictionary, then space). Source of the
 * processing: PaddleOCR's {@code tools/infer/predict_det.py}, {@code predict_cls.py}, {@code predict_rec.py},
 * {@code ppocr/postprocess/db_postprocess.py} and {@code rec_postprocess.py} (PaddleOCR 2.7, Apache-2.0).
 *
 * <p><b>Parameters</b> (descriptor, strings): {@code det_limit_side_len} (960), {@code det_threshold} (0.3),
 * {@code det_box_threshold} (0.6), {@code det_unclip_ratio} (1.5), {@code use_angle_cls} (true), {@code cls_threshold}
 * (0.9), {@code drop_score} (0.5), {@code rec_space_score} (0: off when absent; the shipped descriptor sets 0.01: see
 * {@link #decode}); the bounds of a request: {@code det_max_candidates} (1000), {@code max_images} (16),
 * {@code max_request_megapixels} (64), {@code max_lines} (300 text lines a picture).
 *
 * <p><b>Errors</b>: a missing or empty {@code image}, an element that is not PNG/JPEG, is corrupt or truncated, or is
 * too large; more images or pixels in a request than the limits; a picture with more than {@code max_lines} lines:
 * {@link PipelineException.Reason#INVALID_INPUT} naming the element ({@code image[i]}) or the limit.
 *
 * <p><b>Memory and work</b>: images are decoded, read and dropped one at a time (see {@link #run}), so a request's
 * memory peaks at one decoded picture; its work is at most {@code max_images} x (detection + {@code max_lines}
 * recognized lines).
 *
 * <p>Meter {@code images}: the quantity of a request is N, the number of images.
 */
public class OcrPipeline implements Pipeline {
    static final String INPUT = "image";
    private static final float[] DET_MEAN = {0.485f, 0.456f, 0.406f};
    private static final float[] DET_STD = {0.229f, 0.224f, 0.225f};
    private static final float[] HALF = {0.5f, 0.5f, 0.5f};
    private static final int REC_HEIGHT = 48;
    private static final int REC_MIN_WIDTH = 320;
    private static final int CLS_WIDTH = 192;
    private static final int BATCH = 6;

    private PipelineStage det;
    private PipelineStage cls;
    private PipelineStage rec;
    private String detInput;
    private String clsInput;
    private String recInput;
    private String[] characters;   // index 0 = blank
    private int limitSide;
    private DbPostProcess post;
    private boolean useCls;
    private float clsThreshold;
    private float dropScore;
    private float spaceScore;
    private int maxImages;
    private long maxRequestPixels;
    private int maxLines;

    /** Serving's constructor (public, no arguments). */
    public OcrPipeline() {
    }

    @Override
    public void open(PipelineContext context) throws PipelineException {
        det = stage(context, "det");
        rec = stage(context, "rec");
        Map<String, String> p = context.parameters();
        useCls = bool(p, "use_angle_cls", true);
        cls = useCls ? stage(context, "cls") : null;
        detInput = imageInput(det);
        recInput = imageInput(rec);
        clsInput = useCls ? imageInput(cls) : null;
        limitSide = (int) number(p, "det_limit_side_len", 960, 32, 8192);
        post = new DbPostProcess(number(p, "det_threshold", 0.3f, 0, 1), number(p, "det_box_threshold", 0.6f, 0, 1),
                number(p, "det_unclip_ratio", 1.5f, 0, 10), (int) number(p, "det_max_candidates", 1000, 1, 100_000));
        maxImages = (int) number(p, "max_images", 16, 1, 10_000);
        maxRequestPixels = (long) number(p, "max_request_megapixels", 64, 1, 100_000) * 1_000_000L;
        maxLines = (int) number(p, "max_lines", 300, 1, 100_000);
        clsThreshold = number(p, "cls_threshold", 0.9f, 0, 1);
        dropScore = number(p, "drop_score", 0.5f, 0, 1);
        spaceScore = number(p, "rec_space_score", 0f, 0, 1);
        byte[] dict;
        try {
            dict = context.resource("ppocr_keys_v1.txt");
        } catch (IOException e) {
            throw new PipelineException(PipelineException.Reason.FAILED, "ocr: the recognition dictionary cannot be"
                    + " read: " + e.getMessage(), e);
        }
        String[] lines = new String(dict, StandardCharsets.UTF_8).split("\r?\n", -1);
        int n = lines.length > 0 && lines[lines.length - 1].isEmpty() ? lines.length - 1 : lines.length;
        characters = new String[n + 2];
        characters[0] = "";
        System.arraycopy(lines, 0, characters, 1, n);
        characters[n + 1] = " ";
        long[] recOut = rec.outputs().get(0).shape();
        long classes = recOut.length == 3 ? recOut[2] : -2;
        if (classes != characters.length) {
            throw new PipelineException(PipelineException.Reason.FAILED, "ocr: stage rec puts out "
                    + rec.outputs().get(0) + " but the dictionary has " + n + " characters (+ blank + space = "
                    + characters.length + " classes)");
        }
    }

    private static PipelineStage stage(PipelineContext context, String name) throws PipelineException {
        try {
            return context.stage(name);
        } catch (java.util.NoSuchElementException e) {
            throw new PipelineException(PipelineException.Reason.FAILED, "ocr: " + e.getMessage(), e);
        }
    }

    private static String imageInput(PipelineStage s) throws PipelineException {
        List<TensorSpec> in = s.inputs();
        if (in.size() != 1 || in.get(0).type() != DataType.FP32 || in.get(0).shape().length != 4
                || in.get(0).shape()[1] != 3) {
            throw new PipelineException(PipelineException.Reason.FAILED, "ocr: stage " + s.name()
                    + " must take one FP32 [N,3,H,W] image tensor; it takes " + in);
        }
        return in.get(0).name();
    }

    private static float number(Map<String, String> p, String key, float dflt, float min, float max)
            throws PipelineException {
        String v = p.get(key);
        if (v == null) {
            return dflt;
        }
        try {
            float f = Float.parseFloat(v.trim());
            if (f >= min && f <= max) {
                return f;
            }
        } catch (NumberFormatException e) {
            // reported below
        }
        throw new PipelineException(PipelineException.Reason.FAILED, "ocr: parameter " + key + "='" + v
                + "' is not a number from " + min + " to " + max + "; fix \"parameters\" in model.json");
    }

    private static boolean bool(Map<String, String> p, String key, boolean dflt) throws PipelineException {
        String v = p.get(key);
        if (v == null) {
            return dflt;
        }
        if (v.equalsIgnoreCase("true") || v.equalsIgnoreCase("false")) {
            return Boolean.parseBoolean(v);
        }
        throw new PipelineException(PipelineException.Reason.FAILED, "ocr: parameter " + key + "='" + v
                + "' is not true or false");
    }

    /**
     * The number of images; checks each element's format and size from its header (no pixel is decoded; of base64
     * text only the first MiB is decoded when the header lies in it), so it stays cheap on the endpoint's thread.
     *
     * @throws PipelineException INVALID_INPUT as {@link #checked}: more than {@code max_images} images, more than
     *                           {@code max_request_megapixels} in all, or an element that is not a readable PNG/JPEG
     *                           within the size limits
     */
    @Override
    public long quantity(PipelineRequest request) throws PipelineException {
        return checked(images(request)).size();
    }

    /**
     * The request's limits, from the element count and the headers only (nothing decoded): at most {@code max_images}
     * (16) images and at most {@code max_request_megapixels} (64) million pixels in all (sum of width x height).
     * Returns {@code images}.
     */
    private List<byte[]> checked(List<byte[]> images) throws PipelineException {
        if (images.size() > maxImages) {
            throw PipelineException.invalidInput("input '" + INPUT + "' has " + images.size() + " images; this"
                    + " model takes at most " + maxImages + " images a request: send them in several requests");
        }
        long pixels = 0;
        for (int i = 0; i < images.size(); i++) {
            ImageDecoder.Header h = ImageDecoder.headerOnly(images.get(i), i);
            pixels += (long) h.width() * h.height();
        }
        if (pixels > maxRequestPixels) {
            throw PipelineException.invalidInput("input '" + INPUT + "' has " + String.format(java.util.Locale.ROOT,
                    "%.1f", pixels / 1e6) + " megapixels in its " + images.size() + " images; this model takes at"
                    + " most " + maxRequestPixels / 1_000_000 + " megapixels a request: send fewer or smaller pictures"
                    + " a request");
        }
        return images;
    }

    private static List<byte[]> images(PipelineRequest request) throws PipelineException {
        Tensor t = request.input(INPUT).orElseThrow(() -> PipelineException.invalidInput(
                "input '" + INPUT + "' is missing: send BYTES [N] of PNG or JPEG files"));
        if (t.type() != DataType.BYTES) {
            throw PipelineException.invalidInput("input '" + INPUT + "' is " + t.type()
                    + "; it must be BYTES [N] of PNG or JPEG files");
        }
        List<byte[]> images = t.strings();
        if (images.isEmpty()) {
            throw PipelineException.invalidInput("input '" + INPUT + "' is empty (shape "
                    + Arrays.toString(t.shape()) + "): send at least one PNG or JPEG file");
        }
        return images;
    }

    /** One recognized line before it becomes output rows. */
    private record Line(int image, double[][] box) {
    }

    /**
     * Reads the request's images ONE AT A TIME: decode image i, detect its lines, crop them, drop the decoded image,
     * classify and recognize its crops, keep only the lines' text, score and box; then image i+1. So the memory of a
     * request peaks at one decoded image (at most 40 MP: 120 MB of BGR plus ImageIO's raster of the same size or
     * less) and its crops, whatever N; the limits {@link #checked} and {@code max_lines} bound the rest. (Recognition
     * batches of 6 are formed within an image.)
     *
     * @throws PipelineException INVALID_INPUT as {@link #quantity}, for a corrupt pixel stream, and when an image has
     *                           more than {@code max_lines} (300) text lines (refused after its detection, before any
     *                           line is recognized)
     */
    @Override
    public List<Tensor> run(PipelineRequest request) throws PipelineException {
        List<byte[]> images = checked(images(request));
        List<Line> lines = new ArrayList<>();
        List<String> textsOf = new ArrayList<>();
        List<Float> scoresOf = new ArrayList<>();
        for (int i = 0; i < images.size(); i++) {
            BgrImage decoded = ImageDecoder.decode(images.get(i), i);
            List<double[][]> boxes = detect(decoded);
            if (boxes.size() > maxLines) {
                throw PipelineException.invalidInput("image[" + i + "] has more than " + maxLines + " text lines ("
                        + boxes.size() + " found); this model reads at most " + maxLines + " lines a picture: send"
                        + " crops of the regions of interest");
            }
            BgrImage[] crops = new BgrImage[boxes.size()];
            for (int k = 0; k < crops.length; k++) {
                crops[k] = decoded.crop(boxes.get(k));
            }
            decoded = null;   // the picture's pixels can go: only its crops are read from here on
            if (useCls) {
                classify(crops);
            }
            String[] texts = new String[crops.length];
            float[] scores = new float[crops.length];
            recognize(crops, texts, scores);
            for (int k = 0; k < crops.length; k++) {
                lines.add(new Line(i, boxes.get(k)));
                textsOf.add(texts[k]);
                scoresOf.add(scores[k]);
            }
        }
        String[] texts = textsOf.toArray(new String[0]);
        float[] scores = new float[texts.length];
        for (int k = 0; k < scores.length; k++) {
            scores[k] = scoresOf.get(k);
        }

        List<byte[]> text = new ArrayList<>();
        List<Float> conf = new ArrayList<>();
        List<double[][]> boxes = new ArrayList<>();
        List<Integer> index = new ArrayList<>();
        for (int i = 0; i < texts.length; i++) {
            if (scores[i] >= dropScore) {
                text.add(texts[i].getBytes(StandardCharsets.UTF_8));
                conf.add(scores[i]);
                boxes.add(lines.get(i).box());
                index.add(lines.get(i).image());
            }
        }
        int l = text.size();
        float[] c = new float[l];
        float[] b = new float[l * 8];
        int[] ix = new int[l];
        for (int i = 0; i < l; i++) {
            c[i] = conf.get(i);
            ix[i] = index.get(i);
            for (int k = 0; k < 4; k++) {
                b[i * 8 + 2 * k] = (float) boxes.get(i)[k][0];
                b[i * 8 + 2 * k + 1] = (float) boxes.get(i)[k][1];
            }
        }
        return List.of(Tensor.ofBytes("text", new long[] {l}, text),
                Tensor.ofFloats("confidence", new long[] {l}, c),
                Tensor.ofFloats("box", new long[] {l, 4, 2}, b),
                Tensor.ofInts("image_index", new long[] {l}, ix));
    }

    /** Text boxes of one image, in reading order (see {@link DbPostProcess}). */
    List<double[][]> detect(BgrImage image) throws PipelineException {
        int w = image.width();
        int h = image.height();
        double ratio = Math.max(w, h) > limitSide ? (double) limitSide / Math.max(w, h) : 1.0;
        int rh = Math.max((int) Math.round((int) (h * ratio) / 32.0) * 32, 32);
        int rw = Math.max((int) Math.round((int) (w * ratio) / 32.0) * 32, 32);
        float[] x = new float[3 * rh * rw];
        image.resizeNormalized(rw, rh, x, 0, rw, DET_MEAN, DET_STD);
        Tensor out = det.run(List.of(Tensor.ofFloats(detInput, new long[] {1, 3, rh, rw}, x)), Set.of()).get(0);
        long[] s = out.shape();
        if (s.length != 4 || s[2] != rh || s[3] != rw) {
            throw new PipelineException(PipelineException.Reason.FAILED, "ocr: stage det answered "
                    + Arrays.toString(s) + " for an input of [1,3," + rh + "," + rw + "]");
        }
        return post.boxes(out.toFloats(), rw, rh, w, h);
    }

    /** Turns by 180 degrees the crops the direction classifier reads as upside down (in place). */
    private void classify(BgrImage[] crops) throws PipelineException {
        for (int start = 0; start < crops.length; start += BATCH) {
            int n = Math.min(BATCH, crops.length - start);
            int plane = REC_HEIGHT * CLS_WIDTH;
            float[] x = new float[n * 3 * plane];
            for (int i = 0; i < n; i++) {
                BgrImage c = crops[start + i];
                int rw = (int) Math.min(CLS_WIDTH, Math.ceil(REC_HEIGHT * (double) c.width() / c.height()));
                c.resizeNormalized(Math.max(rw, 1), REC_HEIGHT, x, i * 3 * plane, CLS_WIDTH, HALF, HALF);
            }
            float[] p = cls.run(List.of(Tensor.ofFloats(clsInput, new long[] {n, 3, REC_HEIGHT, CLS_WIDTH}, x)),
                    Set.of()).get(0).toFloats();
            int k = p.length / n;
            for (int i = 0; i < n; i++) {
                // labels ['0', '180']
                if (k == 2 && p[i * 2 + 1] > p[i * 2] && p[i * 2 + 1] > clsThreshold) {
                    crops[start + i] = crops[start + i].rotate180();
                }
            }
        }
    }

    /** Reads each crop: batches of similar width ratio, CTC greedy decoding. */
    private void recognize(BgrImage[] crops, String[] texts, float[] scores) throws PipelineException {
        Integer[] order = new Integer[crops.length];
        for (int i = 0; i < order.length; i++) {
            order[i] = i;
        }
        Arrays.sort(order, Comparator.comparingDouble(i -> (double) crops[i].width() / crops[i].height()));
        for (int start = 0; start < order.length; start += BATCH) {
            int n = Math.min(BATCH, order.length - start);
            double maxRatio = (double) REC_MIN_WIDTH / REC_HEIGHT;
            for (int i = 0; i < n; i++) {
                BgrImage c = crops[order[start + i]];
                maxRatio = Math.max(maxRatio, (double) c.width() / c.height());
            }
            int width = (int) (REC_HEIGHT * maxRatio);
            int plane = REC_HEIGHT * width;
            float[] x = new float[n * 3 * plane];
            for (int i = 0; i < n; i++) {
                BgrImage c = crops[order[start + i]];
                double ratio = (double) c.width() / c.height();
                int rw = Math.ceil(REC_HEIGHT * ratio) > width ? width : (int) Math.ceil(REC_HEIGHT * ratio);
                c.resizeNormalized(Math.max(rw, 1), REC_HEIGHT, x, i * 3 * plane, width, HALF, HALF);
            }
            Tensor out = rec.run(List.of(Tensor.ofFloats(recInput, new long[] {n, 3, REC_HEIGHT, width}, x)),
                    Set.of()).get(0);
            long[] s = out.shape();
            if (s.length != 3 || s[0] != n || s[2] != characters.length) {
                throw new PipelineException(PipelineException.Reason.FAILED, "ocr: stage rec answered "
                        + Arrays.toString(s) + "; expected [" + n + ",T," + characters.length + "]");
            }
            float[] probs = out.toFloats();
            int steps = (int) s[1];
            for (int i = 0; i < n; i++) {
                int at = order[start + i];
                StringBuilder text = new StringBuilder();
                float[] score = new float[1];
                decode(probs, i * steps * characters.length, steps, text, score);
                texts[at] = text.toString();
                scores[at] = score[0];
            }
        }
    }

    /**
     * CTC greedy decoding (PaddleOCR's CTCLabelDecode): the most probable class per time step, repeats merged,
     * blanks dropped; the score is the mean of the kept steps' probabilities (0 when nothing is kept). With
     * {@code rec_space_score} s > 0, a space is also put between two characters when the space class reaches
     * probability s at a time step between them (the Chinese PP-OCRv4 recognizer rarely makes the space its first
     * choice in Latin text, but gives it a clearly non-zero probability at word gaps and about 0 elsewhere).
     */
    private void decode(float[] probs, int off, int steps, StringBuilder text, float[] score) {
        int classes = characters.length;
        int space = classes - 1;
        int prev = -1;
        double sum = 0;
        int kept = 0;
        int[] cls = new int[steps];
        int[] at = new int[steps];
        int[] end = new int[steps];
        for (int t = 0; t < steps; t++) {
            int base = off + t * classes;
            int best = 0;
            float bestP = probs[base];
            for (int c = 1; c < classes; c++) {
                if (probs[base + c] > bestP) {
                    bestP = probs[base + c];
                    best = c;
                }
            }
            if (best != 0 && best != prev) {
                cls[kept] = best;
                at[kept] = t;
                end[kept] = t;
                sum += bestP;
                kept++;
            } else if (best != 0 && kept > 0) {
                end[kept - 1] = t;
            }
            prev = best;
        }
        score[0] = kept == 0 ? 0f : (float) (sum / kept);
        boolean[] spaceBefore = new boolean[kept];
        if (spaceScore > 0) {
            for (int i = 1; i < kept; i++) {
                if (cls[i] == space || cls[i - 1] == space) {
                    continue;
                }
                float p = 0;
                for (int t = end[i - 1] + 1; t < at[i]; t++) {
                    p = Math.max(p, probs[off + t * classes + space]);
                }
                spaceBefore[i] = p >= spaceScore;
            }
        }
        for (int i = 0; i < kept; i++) {
            if (spaceBefore[i]) {
                text.append(' ');
            }
            text.append(characters[cls[i]]);
        }
    }

    @Override
    public void close() {
        // nothing of its own: the stages are serving's
    }
}
