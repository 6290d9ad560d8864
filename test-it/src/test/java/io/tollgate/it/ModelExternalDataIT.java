package io.tollgate.it;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertNotEquals;
import static org.junit.Assert.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.tollgate.engine.onnx.testing.ExternalDataModels;
import io.tollgate.tools.plugin.PluginJar;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.junit.After;
import org.junit.Before;
import org.junit.Test;

/**
 * A model plugin whose ONNX file keeps a tensor "outside the model", at {@code data/device/device.key.pem}: ONNX
 * Runtime reads such a file when the path stays below its working directory, and the model outputs what it read,
 * so the device key that signs usage records would go to any caller. The appliance runs from the folder that holds
 * its data folder (as an operator runs {@code bin/tollgate} from its home), the one case ORT lets through. The
 * plugin is refused with the reason in {@code /admin/plugins}; the key appears in no response and no log line; the
 * same model with its bytes inside loads and answers (so the refusal is about where the bytes are).
 */
public class ModelExternalDataIT {
    private static final String INFER = "{\"inputs\":[{\"name\":\"x\",\"datatype\":\"UINT8\",\"shape\":[1],\"data\":[0]}]}";
    private Path tmp;
    private Path log;
    private ApplianceProcess appliance;

    @Before
    public void setUp() throws IOException {
        tmp = Files.createTempDirectory("tollgate-external-data-it").toRealPath();
        log = tmp.resolve("appliance.log");
        appliance = new ApplianceProcess(log).workingDirectory(tmp);
    }

    @After
    public void tearDown() {
        appliance.killAll();
        ApplianceProcess.keepLogs(tmp, Path.of("target", "external-data-it-logs"));
        ApplianceProcess.deleteTree(tmp);
    }

    @Test
    public void aModelNeverReadsTheDeviceKey() throws Exception {
        Path plugins = tmp.resolve("plugins");
        Path data = tmp.resolve("data");
        appliance.copyExamplePlugin(plugins);
        int port = TollgateExam.freePort();
        Process p = appliance.run(port, data, plugins, null);
        appliance.awaitReady(p, port, 90_000);
        Http http = new Http(port);
        byte[] key = Files.readAllBytes(data.resolve("device/device.key.pem"));

        byte[] control = "not a secret at all".getBytes(StandardCharsets.US_ASCII);
        new PluginJar("inside", "1.0.0").model("model.onnx", ExternalDataModels.identityOfEmbedded(control))
                .writeTo(tmp.resolve("inside.jar"));
        ApplianceProcess.drop(tmp.resolve("inside.jar"), plugins);      // signed by the test vendor, licensed
        new PluginJar("leak", "1.0.0")
                .model("model.onnx", ExternalDataModels.identityOfInitializer("data/device/device.key.pem", key.length))
                .writeTo(tmp.resolve("leak.jar"));
        ApplianceProcess.drop(tmp.resolve("leak.jar"), plugins);

        http.awaitPlugin("tollgate.plugin.inside", "READY", 60_000);
        Http.Response inside = http.post("/v2/models/inside/infer", INFER);
        assertEquals(inside.body(), 200, inside.status());
        assertTrue(inside.body(), inside.body().contains(numbers(control)));

        JsonNode leak = http.awaitPlugin("tollgate.plugin.leak", "FAILED", 60_000);
        String error = leak.path("error").asText();
        assertTrue(error, error.contains("refers to tensor data outside the model file (tensor 'secret' ->"
                + " 'data/device/device.key.pem'); Tollgate never lets a model read files"));
        Http.Response answer = http.post("/v2/models/leak/infer", INFER);
        assertNotEquals(answer.body(), 200, answer.status());

        String pem = new String(key, StandardCharsets.US_ASCII);
        String body = pem.lines().filter(l -> !l.startsWith("-----")).collect(Collectors.joining());
        for (String output : new String[] {answer.body(), http.get("/admin/plugins").body(),
                http.get("/v2/models/leak").body(), Files.readString(log)}) {
            assertFalse("the key's body is out", output.contains(body));
            assertFalse("the key's bytes are out", output.contains(numbers(Arrays.copyOf(key, 16))));
        }
    }

    /** Bytes as a KServe UINT8 response lists them: {@code 45,45,...}. */
    private static String numbers(byte[] bytes) {
        return IntStream.range(0, bytes.length).mapToObj(i -> Integer.toString(bytes[i] & 0xFF))
                .collect(Collectors.joining(","));
    }
}
