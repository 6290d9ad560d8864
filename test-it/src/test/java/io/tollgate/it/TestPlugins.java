package io.tollgate.it;

import io.tollgate.tools.plugin.PluginJar;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.List;
import java.util.Random;
import java.util.jar.JarFile;

/**
 * Plugin jars the lifecycle tests install, made with the same {@link PluginJar} that
 * {@code tollgate plugin pack} uses. Built outside the framework, in {@code @Configuration}.
 */
final class TestPlugins {
    static final String DIR = "tollgate.it.test-plugins";
    static final String IMPOSTOR = "evil.impostor";

    private TestPlugins() {
    }

    static Path dir() {
        return Paths.get(System.getProperty(DIR));
    }

    /** Writes every test plugin into a fresh folder and returns it. */
    static Path write() throws IOException {
        Path dir = Files.createTempDirectory("tollgate-it-plugins");
        byte[] model = exampleEntry("TOLLGATE-INF/model.onnx");
        List<String> labels = new String(exampleEntry("TOLLGATE-INF/labels.txt"), StandardCharsets.UTF_8).lines().toList();
        fashion("1.1.0", model, labels).writeTo(dir.resolve("fashion-mnist-1.1.0.jar"));
        fashion("1.2.0", model, labels).writeTo(dir.resolve("fashion-mnist-1.2.0.jar"));
        // Another bundle symbolic name declaring the example's model at a higher version: refused (docs/plugins.md).
        fashion("9.0.0", model, labels).header("Bundle-SymbolicName", IMPOSTOR)
                .writeTo(dir.resolve("evil-impostor.jar"));
        byte[] garbage = new byte[4096];
        new Random(7).nextBytes(garbage);
        new PluginJar("broken-corrupt", "1.0.0").model("model.onnx", garbage).writeTo(dir.resolve("broken-corrupt.jar"));
        new PluginJar("broken-missing", "1.0.0").model("model.onnx", model).omit("TOLLGATE-INF/model.onnx")
                .writeTo(dir.resolve("broken-missing.jar"));
        new PluginJar("broken-descriptor", "1.0.0").model("model.onnx", model).descriptorText("{\"name\": \"broken-descriptor\", ")
                .writeTo(dir.resolve("broken-descriptor.jar"));
        new PluginJar("broken-engine", "1.0.0").engine("tensorflow").model("model.onnx", model)
                .writeTo(dir.resolve("broken-engine.jar"));
        new PluginJar("broken-shape", "1.0.0").model("model.onnx", model)
                .descriptorText("{\"name\":\"broken-shape\",\"version\":\"1.0.0\",\"platform\":\"onnx\",\"engine\":\"onnx\","
                        + "\"file\":\"model.onnx\",\"max_batch_size\":8,"
                        + "\"inputs\":[{\"name\":\"image\",\"datatype\":\"FP32\",\"shape\":[-1,3,28,28]}]}")
                .writeTo(dir.resolve("broken-shape.jar"));
        CodePlugins.writeAll(dir, model, labels);
        // Issue 10: signed by the test vendor, each plugin name licensed (code still not allowed).
        TestVendor.get().signAll(dir);
        return dir;
    }

    private static PluginJar fashion(String version, byte[] model, List<String> labels) {
        return new PluginJar("fashion-mnist", version).model("model.onnx", model).labels(labels).maxBatchSize(256);
    }

    /** An entry of the distribution's example plugin. */
    static byte[] exampleEntry(String name) throws IOException {
        try (JarFile jar = new JarFile(TollgateExam.exampleModel()); InputStream in = jar.getInputStream(jar.getEntry(name))) {
            return in.readAllBytes();
        }
    }
}
