package io.tollgate.it;

import io.tollgate.it.pipeline.FailingOpen;
import io.tollgate.it.pipeline.NotAPipeline;
import io.tollgate.it.pipeline.PngClassifier;
import io.tollgate.it.pipeline.ThrowingRun;
import io.tollgate.tools.plugin.PluginJar;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

/**
 * Capability plugins (issue 13) the pipeline tests install: the real Fashion-MNIST model as stage {@code classify} of
 * a pipeline class of this module ({@code io.tollgate.it.pipeline}), compiled with the tests and copied into the jar
 * as its private package, with the {@code Import-Package} bnd computes for such a plugin.
 */
final class PipelinePlugins {
    static final String IMPORTS = "io.tollgate.model;version=\"[1.4,2)\",io.tollgate.pipeline;version=\"[1.0,2)\","
            + "javax.imageio";
    static final String CLASSES = "T-shirt/top\nTrouser\nPullover\nDress\nCoat\nSandal\nShirt\nSneaker\nBag\n"
            + "Ankle boot\n";

    private PipelinePlugins() {
    }

    /** The descriptor of a pipeline plugin {@code name} whose class is {@code className}, metered in images. */
    static String descriptor(String name, String className) {
        return "{\"name\":\"" + name + "\",\"version\":\"1.0.0\",\"platform\":\"onnx\",\"engine\":\"onnx\","
                + "\"pipeline\":{\"class\":\"" + className + "\",\"stages\":{\"classify\":\"models/classify.onnx\"}},"
                + "\"max_batch_size\":0,\"meter\":\"images\","
                + "\"inputs\":[{\"name\":\"image\",\"datatype\":\"BYTES\",\"shape\":[-1]}],"
                + "\"outputs\":[{\"name\":\"label\",\"datatype\":\"BYTES\",\"shape\":[-1]},"
                + "{\"name\":\"class\",\"datatype\":\"INT64\",\"shape\":[-1]}]}";
    }

    /** A pipeline plugin: descriptor naming {@code className}, the model as the stage, every fixture class inside. */
    static PluginJar plugin(String name, String className, byte[] model) throws IOException {
        PluginJar jar = new PluginJar(name, "1.0.0").model("models/classify.onnx", model)
                .descriptorText(descriptor(name, className))
                .header("Import-Package", IMPORTS)
                .entry("TOLLGATE-INF/classes.txt", CLASSES.getBytes(StandardCharsets.UTF_8));
        for (Class<?> c : new Class<?>[] {PngClassifier.class, NotAPipeline.class, FailingOpen.class,
                ThrowingRun.class}) {
            jar.entry(classFile(c), classBytes(c));
        }
        return jar;
    }

    static Path write(Path dir, String name, String className, byte[] model) throws IOException {
        Path file = dir.resolve(name + ".jar");
        plugin(name, className, model).writeTo(file);
        return file;
    }

    private static String classFile(Class<?> c) {
        return c.getName().replace('.', '/') + ".class";
    }

    private static byte[] classBytes(Class<?> c) throws IOException {
        try (InputStream in = c.getResourceAsStream("/" + classFile(c))) {
            if (in == null) {
                throw new IOException(classFile(c) + " is not on the test class path");
            }
            return in.readAllBytes();
        }
    }
}
