package io.tollgate.it;

import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.zip.GZIPInputStream;

/** The Fashion-MNIST test set as Debian's dataset-fashion-mnist installs it (gzipped IDX files). */
final class FashionMnistData {
    static final Path DIR = Paths.get("/usr/share/datasets/fashion-mnist");
    final int count;
    final byte[] pixels;   // count x 784, uint8
    final byte[] labels;   // count, uint8

    private FashionMnistData(int count, byte[] pixels, byte[] labels) {
        this.count = count;
        this.pixels = pixels;
        this.labels = labels;
    }

    static boolean available() {
        return Files.isReadable(DIR.resolve("t10k-images-idx3-ubyte.gz"));
    }

    static FashionMnistData testSet() throws IOException {
        try (DataInputStream img = open("t10k-images-idx3-ubyte.gz"); DataInputStream lbl = open("t10k-labels-idx1-ubyte.gz")) {
            if (img.readInt() != 0x803 || lbl.readInt() != 0x801) {
                throw new IOException("not IDX files in " + DIR);
            }
            int n = img.readInt();
            int rows = img.readInt();
            int cols = img.readInt();
            if (lbl.readInt() != n || rows != 28 || cols != 28) {
                throw new IOException("unexpected IDX header in " + DIR);
            }
            byte[] pixels = new byte[n * 784];
            img.readFully(pixels);
            byte[] labels = new byte[n];
            lbl.readFully(labels);
            return new FashionMnistData(n, pixels, labels);
        }
    }

    private static DataInputStream open(String name) throws IOException {
        InputStream in = new GZIPInputStream(Files.newInputStream(DIR.resolve(name)), 1 << 16);
        return new DataInputStream(in);
    }

    /** Images {@code from}..{@code from+n} as model input: pixel / 255, shape [n,1,28,28]. */
    float[] batch(int from, int n) {
        float[] x = new float[n * 784];
        for (int i = 0; i < x.length; i++) {
            x[i] = (pixels[from * 784 + i] & 0xff) / 255.0f;
        }
        return x;
    }

    int label(int i) {
        return labels[i] & 0xff;
    }
}
