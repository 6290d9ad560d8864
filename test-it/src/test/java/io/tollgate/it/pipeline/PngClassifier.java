package io.tollgate.it.pipeline;

import io.tollgate.model.DataType;
import io.tollgate.model.Tensor;
import io.tollgate.pipeline.Pipeline;
import io.tollgate.pipeline.PipelineContext;
import io.tollgate.pipeline.PipelineException;
import io.tollgate.pipeline.PipelineRequest;
import io.tollgate.pipeline.PipelineStage;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Set;
import javax.imageio.ImageIO;

/**
 * The integration tests' capability plugin (issue 13): takes PNG images of 28x28 Fashion-MNIST pictures (BYTES
 * {@code image}, shape [n], raw bytes or base64 of them), decodes them with ImageIO, runs the stage {@code classify}
 * (the real Fashion-MNIST model, input [n,1,28,28] of pixel / 255) and answers the label of each ({@code label},
 * BYTES [n]) and its class index ({@code class}, INT64 [n]). Billed one {@code images} per picture. Request parameter
 * {@code sleep_ms} holds the run (for the in-flight uninstall test). {@link #close} leaves {@code closed-<n>} in its
 * work folder.
 */
public class PngClassifier implements Pipeline {
    private static final byte[] PNG = {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};

    private PipelineStage classify;
    private List<String> labels;
    private java.nio.file.Path work;

    @Override
    public void open(PipelineContext context) throws PipelineException {
        classify = context.stage("classify");
        work = context.workFolder();
        try {
            labels = new String(context.resource("classes.txt"), StandardCharsets.UTF_8).lines().toList();
        } catch (IOException e) {
            throw new PipelineException(PipelineException.Reason.FAILED, "classes.txt: " + e.getMessage(), e);
        }
        if (labels.size() != 10) {
            throw new PipelineException(PipelineException.Reason.FAILED, "classes.txt has " + labels.size()
                    + " labels; the model has 10 classes");
        }
    }

    @Override
    public long quantity(PipelineRequest request) throws PipelineException {
        return images(request).size();
    }

    @Override
    public List<Tensor> run(PipelineRequest request) throws PipelineException {
        List<byte[]> pngs = images(request);
        Object sleep = request.parameters().get("sleep_ms");
        if (sleep != null) {
            try {
                Thread.sleep(Long.parseLong(sleep.toString()));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        int n = pngs.size();
        float[] pixels = new float[n * 784];
        for (int i = 0; i < n; i++) {
            BufferedImage img;
            try {
                img = ImageIO.read(new ByteArrayInputStream(pngs.get(i)));
            } catch (IOException e) {
                throw PipelineException.invalidInput("image " + i + " is not a readable PNG: " + e.getMessage());
            }
            if (img == null || img.getWidth() != 28 || img.getHeight() != 28) {
                throw PipelineException.invalidInput("image " + i + " must be a 28x28 PNG"
                        + (img == null ? "" : " but is " + img.getWidth() + "x" + img.getHeight()));
            }
            for (int y = 0; y < 28; y++) {
                for (int x = 0; x < 28; x++) {
                    pixels[i * 784 + y * 28 + x] = (img.getRaster().getSample(x, y, 0) & 0xff) / 255.0f;
                }
            }
        }
        List<Tensor> out = classify.run(List.of(Tensor.ofFloats(classify.inputs().get(0).name(),
                new long[] {n, 1, 28, 28}, pixels)), Set.of());
        float[] probs = out.get(0).toFloats();
        List<byte[]> names = new ArrayList<>(n);
        long[] classes = new long[n];
        for (int i = 0; i < n; i++) {
            int best = 0;
            for (int c = 1; c < 10; c++) {
                if (probs[i * 10 + c] > probs[i * 10 + best]) {
                    best = c;
                }
            }
            classes[i] = best;
            names.add(labels.get(best).getBytes(StandardCharsets.UTF_8));
        }
        return List.of(Tensor.ofBytes("label", new long[] {n}, names),
                Tensor.ofLongs("class", new long[] {n}, classes));
    }

    /** The request's PNGs: each element as sent, or decoded from base64 (a JSON body carries base64 text). */
    private static List<byte[]> images(PipelineRequest request) throws PipelineException {
        Tensor t = request.input("image").orElseThrow(() -> PipelineException.invalidInput("input 'image' is missing"));
        if (t.type() != DataType.BYTES) {
            throw PipelineException.invalidInput("input 'image' must be BYTES");
        }
        List<byte[]> out = new ArrayList<>();
        List<byte[]> elements = t.strings();
        for (int i = 0; i < elements.size(); i++) {
            byte[] e = elements.get(i);
            if (!isPng(e)) {
                try {
                    e = Base64.getMimeDecoder().decode(e);
                } catch (IllegalArgumentException bad) {
                    e = null;
                }
                if (e == null || !isPng(e)) {
                    throw PipelineException.invalidInput("image " + i + " is not a PNG (neither its bytes nor their"
                            + " base64 start with the PNG signature)");
                }
            }
            out.add(e);
        }
        if (out.isEmpty()) {
            throw PipelineException.invalidInput("input 'image' holds no image");
        }
        return out;
    }

    private static boolean isPng(byte[] b) {
        if (b.length < PNG.length) {
            return false;
        }
        for (int i = 0; i < PNG.length; i++) {
            if (b[i] != PNG[i]) {
                return false;
            }
        }
        return true;
    }

    @Override
    public void close() {
        try {
            Files.writeString(work.resolve("closed-" + System.nanoTime()), "closed");
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }
}
