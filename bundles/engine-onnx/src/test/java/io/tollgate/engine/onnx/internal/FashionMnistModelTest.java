package io.tollgate.engine.onnx.internal;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.tollgate.engine.spi.EngineException;
import io.tollgate.engine.spi.LoadedModel;
import io.tollgate.engine.spi.ModelSignature;
import io.tollgate.model.DataType;
import io.tollgate.model.Tensor;
import io.tollgate.model.TensorSpec;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import org.junit.Assume;
import org.junit.Test;

/** The real example model from plugins/fashion-mnist, when it has been trained. */
public class FashionMnistModelTest {
    private static final Path MODEL = Path.of(System.getProperty("basedir", "."))
            .resolve("../../plugins/fashion-mnist/src/main/model/model.onnx").normalize();
    /** 16 test images with the probabilities train.py's own float32 forward pass gave them. */
    private static final Path SAMPLES = Path.of(System.getProperty("basedir", "."))
            .resolve("../../plugins/fashion-mnist/src/test/resources/fixtures/test-samples.json").normalize();

    @Test
    public void onnxRuntimeAgreesWithTheTrainingScriptsForwardPass() throws Exception {
        JsonNode fixture = new ObjectMapper().readTree(SAMPLES.toFile());
        double tolerance = fixture.path("tolerance").asDouble(1e-5);
        JsonNode samples = fixture.get("samples");
        int n = samples.size();
        float[] pixels = new float[n * 784];
        for (int s = 0; s < n; s++) {
            JsonNode px = samples.get(s).get("pixels");
            for (int i = 0; i < 784; i++) {
                pixels[s * 784 + i] = px.get(i).asInt() / 255.0f;
            }
        }
        OnnxEngine engine = new OnnxEngine(OnnxSettings.fromProperties(Map.of("intra_op_threads", "1")));
        try (LoadedModel model = engine.load(TestModels.artifact("model.onnx", Files.readAllBytes(MODEL), Map.of()))) {
            float[] p = model.run(List.of(Tensor.ofFloats("image", new long[] {n, 1, 28, 28}, pixels)), Set.of())
                    .get(0).toFloats();
            for (int s = 0; s < n; s++) {
                JsonNode expected = samples.get(s).get("probs");
                int best = 0;
                for (int c = 0; c < 10; c++) {
                    assertEquals("sample " + s + " class " + c, (float) expected.get(c).asDouble(), p[s * 10 + c], tolerance);
                    if (p[s * 10 + c] > p[s * 10 + best]) {
                        best = c;
                    }
                }
                assertEquals("sample " + s + " prediction", samples.get(s).get("predicted").asInt(), best);
            }
        }
    }

    @Test
    public void signatureAndSoftmaxRows() throws IOException, EngineException {
        if (!Files.isRegularFile(MODEL)) {
            System.out.println("FashionMnistModelTest skipped: " + MODEL.toAbsolutePath()
                    + " does not exist yet (plugins/fashion-mnist trains it)");
        }
        Assume.assumeTrue("no fashion-mnist model at " + MODEL, Files.isRegularFile(MODEL));
        byte[] bytes = Files.readAllBytes(MODEL);

        ModelSignature signature = OnnxSignatureReader.read(bytes, MODEL.toString());
        assertEquals(List.of(new TensorSpec("image", DataType.FP32, new long[] {-1, 1, 28, 28})), signature.inputs());
        assertEquals(List.of(new TensorSpec("probs", DataType.FP32, new long[] {-1, 10})), signature.outputs());
        // the training script stores the class names as custom metadata, comma-separated
        String labels = signature.metadata().get("labels");
        assertTrue("model metadata " + signature.metadata() + " has no labels", labels != null);
        assertEquals("labels metadata: " + labels, 10, labels.split(",").length);

        OnnxEngine engine = new OnnxEngine(OnnxSettings.fromProperties(Map.of("intra_op_threads", "1")));
        try (LoadedModel model = engine.load(TestModels.artifact("model.onnx", bytes, Map.of()))) {
            float[] pixels = new float[3 * 28 * 28];
            Random random = new Random(3);
            for (int i = 0; i < pixels.length; i++) {
                pixels[i] = random.nextFloat();
            }
            Tensor image = Tensor.ofFloats("image", new long[] {3, 1, 28, 28}, pixels);
            Tensor probs = model.run(List.of(image), Set.of()).get(0);
            assertEquals("probs", probs.name());
            assertEquals(3, probs.batchSize());
            float[] p = probs.toFloats();
            assertEquals(30, p.length);
            for (int row = 0; row < 3; row++) {
                double sum = 0;
                for (int c = 0; c < 10; c++) {
                    float v = p[row * 10 + c];
                    assertTrue("probability " + v, v >= 0f && v <= 1f);
                    sum += v;
                }
                assertEquals("row " + row + " sums to 1", 1.0, sum, 1e-4);
            }
        }
    }
}
