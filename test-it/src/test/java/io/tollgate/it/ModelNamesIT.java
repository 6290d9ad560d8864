package io.tollgate.it;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.tollgate.engine.onnx.testing.ExternalDataModels;
import io.tollgate.tools.plugin.PluginJar;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.After;
import org.junit.Before;
import org.junit.Test;

/**
 * Model names as Triton takes them (any directory name but '/': upper case, spaces, other scripts; case-sensitive),
 * packed with {@code bin/tollgate plugin pack} as a user packs them, served at their percent-encoded URL, metered
 * under their exact name; and a model with a zero-size output dimension, which {@code pack} accepted and the
 * appliance refused to load before.
 */
public class ModelNamesIT {
    /** The example plugin's model (plugins/fashion-mnist). */
    private static final Path FASHION = Paths.get("../plugins/fashion-mnist/src/main/model/model.onnx");
    private static final List<String> NAMES = List.of("ResNet50", "resnet50", "Line 3 camera", "détecteur", "a+b #1");

    private Path tmp;
    private ApplianceProcess appliance;

    @Before
    public void setUp() throws Exception {
        tmp = Files.createTempDirectory("tollgate-names-it").toRealPath();
        appliance = new ApplianceProcess(tmp.resolve("appliance.log"));
    }

    @After
    public void tearDown() {
        appliance.killAll();
        ApplianceProcess.keepLogs(tmp, Path.of("target", "model-names-it-logs"));
        ApplianceProcess.deleteTree(tmp);
    }

    @Test
    public void tritonStyleNamesAndZeroSizeDimensionsPackLoadServeAndBill() throws Exception {
        Path plugins = Files.createDirectories(tmp.resolve("plugins"));
        Path data = tmp.resolve("data");
        Path packed = Files.createDirectories(tmp.resolve("packed"));
        for (String name : NAMES) {
            Path jar = packed.resolve(PluginJar.symbolicName(name) + ".jar");
            ApplianceProcess.Result r = appliance.tool("plugin", "pack", "--model", FASHION.toString(), "--name", name,
                    "--version", "1.0.0", "--output", jar.toString());
            assertEquals(r.toString(), 0, r.exit());
            ApplianceProcess.drop(jar, plugins);
        }
        Path zeroModel = tmp.resolve("zero.onnx");
        Files.write(zeroModel, ExternalDataModels.identityOfEmbedded(new byte[0]));
        ApplianceProcess.Result zero = appliance.tool("plugin", "pack", "--model", zeroModel.toString(), "--name",
                "Empty Out", "--version", "1.0.0", "--output", packed.resolve("empty.jar").toString());
        assertEquals(zero.toString(), 0, zero.exit());
        assertTrue(zero.out(), zero.out().contains("out:UINT8[0]"));
        ApplianceProcess.drop(packed.resolve("empty.jar"), plugins);

        int port = TollgateExam.freePort();
        Process p = appliance.run(port, data, plugins, null);
        appliance.awaitReady(p, port, 120_000);
        Http http = new Http(port);

        JsonNode index = Http.JSON.readTree(http.post("/v2/repository/index", "{}").body());
        Set<String> served = java.util.stream.StreamSupport.stream(index.spliterator(), false)
                .filter(m -> "READY".equals(m.path("state").asText())).map(m -> m.path("name").asText())
                .collect(Collectors.toSet());
        for (String name : NAMES) {
            assertTrue(name + " in " + index, served.contains(name));
        }

        float[] expected = null;
        for (String name : NAMES) {
            String path = "/v2/models/" + segment(name);
            Http.Response meta = http.get(path);
            assertEquals(meta.body(), 200, meta.status());
            assertEquals(name, Http.JSON.readTree(meta.body()).path("name").asText());
            Http.Response answer = http.post(path + "/infer",
                    ApplianceProcess.fashionMnistBody("id-" + NAMES.indexOf(name), 1, 0.5f));
            assertEquals(name + ": " + answer.body(), 200, answer.status());
            JsonNode json = Http.JSON.readTree(answer.body());
            assertEquals(name, json.path("model_name").asText());
            float[] probs = Http.output(json, "probs");
            if (expected == null) {
                expected = probs;
            }
            assertEquals(10, probs.length);
            assertEquals("the same model under every name", expected[3], probs[3], 1e-6f);
        }
        assertEquals("case-sensitive: one model is not the other's alias", 404,
                http.get("/v2/models/RESNET50").status());
        assertEquals("a '/' is a path separator, never part of a name", 404,
                http.get("/v2/models/" + segment("Line 3") + "/camera").status());

        Http.Response empty = http.post("/v2/models/" + segment("Empty Out") + "/infer",
                "{\"inputs\":[{\"name\":\"x\",\"datatype\":\"UINT8\",\"shape\":[1],\"data\":[7]}]}");
        assertEquals(empty.body(), 200, empty.status());
        JsonNode out = Http.JSON.readTree(empty.body()).path("outputs").get(0);
        assertEquals("[0]", out.path("shape").toString());
        assertEquals("[]", out.path("data").toString());

        String metrics = http.get("/metrics").body();
        assertTrue(metrics, metrics.contains("model=\"Line 3 camera\""));

        assertEquals("a clean stop (SIGTERM)", 143, appliance.stop(p, 30));
        List<JsonNode> records = appliance.exportAll(data);
        Set<String> billed = records.stream().map(r -> r.path("model").asText()).collect(Collectors.toSet());
        assertTrue(billed.toString(), billed.containsAll(NAMES));
        assertTrue(billed.toString(), billed.contains("Empty Out"));
    }

    /** {@code name} as one percent-encoded path segment (space as %20, not '+'). */
    private static String segment(String name) {
        return URLEncoder.encode(name, StandardCharsets.UTF_8).replace("+", "%20");
    }
}
