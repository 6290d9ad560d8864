package io.tollgate.it;

import static org.junit.Assert.assertArrayEquals;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import com.fasterxml.jackson.databind.JsonNode;
import java.io.InputStream;
import java.nio.FloatBuffer;
import java.util.jar.JarFile;
import javax.inject.Inject;
import org.junit.Assume;
import org.junit.Before;
import org.junit.Test;
import org.junit.runner.RunWith;
import org.ops4j.pax.exam.Configuration;
import org.ops4j.pax.exam.Option;
import org.ops4j.pax.exam.junit.PaxExam;
import org.ops4j.pax.exam.spi.reactors.ExamReactorStrategy;
import org.ops4j.pax.exam.spi.reactors.PerClass;
import org.osgi.framework.BundleContext;
import org.osgi.service.cm.ConfigurationAdmin;

/**
 * The example plugin served by real Felix with the distribution's bundles: metadata, an answer
 * equal to ONNX Runtime's own, the test-set accuracy the training script reported, and errors.
 */
@RunWith(PaxExam.class)
@ExamReactorStrategy(PerClass.class)
public class FashionMnistIT {
    @Inject
    private BundleContext context;
    @Inject
    private ConfigurationAdmin configAdmin;

    private Http http;

    @Configuration
    public Option[] config() throws Exception {
        return TollgateExam.options();
    }

    @Before
    public void appliance() throws Exception {
        http = Appliance.start(context, configAdmin);
        Appliance.installOnce(context, System.getProperty(TollgateExam.PLUGINS) + "/fashion-mnist-1.0.0.jar");
        http.await("/v2/models/fashion-mnist/ready", 200, 60_000);
    }

    @Test
    public void healthAndMetadataFollowTheProtocol() throws Exception {
        assertEquals(200, http.get("/v2/health/live").status());
        // ready once the endpoint's warm-up (warmup.ms after it opened) is over; the model may be ready before
        http.await("/v2/health/ready", 200, 20_000);
        JsonNode server = http.get("/v2").json();
        assertEquals("tollgate", server.get("name").asText());
        JsonNode model = http.get("/v2/models/fashion-mnist").json();
        assertEquals("fashion-mnist", model.get("name").asText());
        assertTrue(model.toString(), model.get("versions").toString().contains("1.0.0"));
        JsonNode in = model.get("inputs").get(0);
        assertEquals("image", in.get("name").asText());
        assertEquals("FP32", in.get("datatype").asText());
        assertEquals("[-1,1,28,28]", in.get("shape").toString());
        JsonNode out = model.get("outputs").get(0);
        assertEquals("probs", out.get("name").asText());
        assertEquals("[-1,10]", out.get("shape").toString());
    }

    @Test
    public void answerEqualsOnnxRuntimeRunInTheTest() throws Exception {
        Assume.assumeTrue("skipped: Debian's dataset-fashion-mnist is not installed at " + FashionMnistData.DIR,
                report(FashionMnistData.available()));
        FashionMnistData data = FashionMnistData.testSet();
        int n = 16;
        float[] x = data.batch(0, n);
        Http.Response r = http.post("/v2/models/fashion-mnist/infer", Http.inferBody("image", new long[] {n, 1, 28, 28}, x));
        assertEquals(r.body(), 200, r.status());
        JsonNode body = r.json();
        assertEquals("fashion-mnist", body.get("model_name").asText());
        assertEquals("1.0.0", body.get("model_version").asText());
        assertEquals("it", body.get("id").asText());
        float[] served = Http.output(body, "probs");

        OrtEnvironment env = OrtEnvironment.getEnvironment();
        try (OrtSession session = env.createSession(modelBytes(), new OrtSession.SessionOptions());
             OnnxTensor input = OnnxTensor.createTensor(env, FloatBuffer.wrap(x), new long[] {n, 1, 28, 28});
             OrtSession.Result result = session.run(java.util.Map.of("image", input))) {
            float[][] expected = (float[][]) result.get(0).getValue();
            float[] flat = new float[n * 10];
            for (int i = 0; i < n; i++) {
                System.arraycopy(expected[i], 0, flat, i * 10, 10);
            }
            // JSON carries each float as its shortest decimal form, which parses back to the same float.
            assertArrayEquals(flat, served, 1e-6f);
        }
    }

    @Test
    public void accuracyOverHttpEqualsWhatTrainingReported() throws Exception {
        Assume.assumeTrue("skipped: Debian's dataset-fashion-mnist is not installed at " + FashionMnistData.DIR,
                report(FashionMnistData.available()));
        FashionMnistData data = FashionMnistData.testSet();
        int correct = 0;
        int batch = 250;
        for (int from = 0; from < data.count; from += batch) {
            Http.Response r = http.post("/v2/models/fashion-mnist/infer",
                    Http.inferBody("image", new long[] {batch, 1, 28, 28}, data.batch(from, batch)));
            assertEquals(r.body(), 200, r.status());
            float[] probs = Http.output(r.json(), "probs");
            for (int i = 0; i < batch; i++) {
                int best = 0;
                for (int k = 1; k < 10; k++) {
                    if (probs[i * 10 + k] > probs[i * 10 + best]) {
                        best = k;
                    }
                }
                if (best == data.label(from + i)) {
                    correct++;
                }
            }
        }
        JsonNode card = Http.JSON.readTree(entry("TOLLGATE-INF/model-card.json"));
        System.out.println("fashion-mnist over HTTP: " + correct + " / " + data.count + " correct; training reported "
                + card.get("correct").asInt());
        assertEquals(card.get("correct").asInt(), correct);
    }

    @Test
    public void badRequestsGetPreciseErrors() throws Exception {
        Http.Response wrongShape = http.post("/v2/models/fashion-mnist/infer",
                Http.inferBody("image", new long[] {1, 3}, new float[3]));
        assertEquals(wrongShape.body(), 400, wrongShape.status());
        assertTrue(wrongShape.body(), wrongShape.json().get("error").asText().contains("image"));

        Http.Response unknownModel = http.post("/v2/models/nope/infer", Http.inferBody("image", new long[] {1}, new float[1]));
        assertEquals(404, unknownModel.status());
        assertTrue(unknownModel.body(), unknownModel.json().get("error").asText().contains("nope"));

        Http.Response malformed = http.post("/v2/models/fashion-mnist/infer", "{\"inputs\": [");
        assertEquals(400, malformed.status());
        assertTrue(malformed.json().has("error"));

        Http.Response wrongType = http.post("/v2/models/fashion-mnist/infer",
                "{\"inputs\":[{\"name\":\"image\",\"datatype\":\"INT32\",\"shape\":[1,1,28,1],\"data\":"
                        + java.util.Arrays.toString(new int[28]) + "}]}");
        assertEquals(wrongType.body(), 400, wrongType.status());
        assertTrue(wrongType.body(), wrongType.json().get("error").asText().contains("FP32"));

        Http.Response wrongCount = http.post("/v2/models/fashion-mnist/infer",
                Http.inferBody("image", new long[] {1, 1, 28, 28}, new float[783]));
        assertEquals(400, wrongCount.status());
        assertTrue(wrongCount.body(), wrongCount.json().get("error").asText().contains("784"));
    }

    private static boolean report(boolean available) {
        if (!available) {
            System.out.println("SKIPPED: dataset-fashion-mnist not installed (apt-get install dataset-fashion-mnist)");
        }
        return available;
    }

    private static byte[] modelBytes() throws Exception {
        return entry("TOLLGATE-INF/model.onnx");
    }

    private static byte[] entry(String name) throws Exception {
        try (JarFile jar = new JarFile(System.getProperty(TollgateExam.PLUGINS) + "/fashion-mnist-1.0.0.jar");
             InputStream in = jar.getInputStream(jar.getEntry(name))) {
            return in.readAllBytes();
        }
    }
}
