package io.tollgate.it;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.List;
import org.junit.After;
import org.junit.Before;
import org.junit.Test;

/**
 * Issue 13 as the README shows it: the three capability plugins the distribution ships in
 * {@code examples/capabilities/} (signed by the build's examples vendor, each with the free license in its own meter
 * that allows its code) install on the distribution as shipped, and the README's and docs/plugins.md's curl examples,
 * on the distribution's own example files, answer what the docs say. The plugins' own ITs (OcrPluginIT,
 * TextEmbeddingPluginIT, VoiceActivityPluginIT) sign with the test vendor; this one takes the shipped jars and
 * licenses unchanged.
 */
public class ShippedCapabilitiesIT {
    private static final ObjectMapper JSON = new ObjectMapper();
    private ApplianceProcess dist;
    private Path work;

    @Before
    public void setUp() throws Exception {
        work = Files.createTempDirectory("tollgate-capabilities-it");
        dist = new ApplianceProcess(work.resolve("tollgate.log"));
    }

    @After
    public void tearDown() {
        dist.killAll();
        ApplianceProcess.keepLogs(work, Path.of("target/capabilities-it-logs"));
        ApplianceProcess.deleteTree(work);
    }

    @Test
    public void theShippedPluginsInstallWithTheirLicensesAndAnswerTheDocumentedExamples() throws Exception {
        Path shipped = dist.dist().resolve("examples/capabilities");
        Path examples = dist.dist().resolve("examples");
        Path plugins = Files.createDirectories(work.resolve("plugins"));
        Path licenses = Files.createDirectories(work.resolve("licenses"));
        for (String name : List.of("ocr", "text-embedding", "voice-activity")) {
            assertTrue("shipped: " + name, Files.isRegularFile(shipped.resolve(name + "-1.0.0.jar")));
            assertTrue("its signature is the examples vendor's", ApplianceProcess.signed(shipped.resolve(name + "-1.0.0.jar")));
            Files.copy(shipped.resolve(name + ".lic"), licenses.resolve(name + ".lic"));
            Files.copy(shipped.resolve(name + "-1.0.0.jar"), plugins.resolve(name + "-1.0.0.jar"));
        }
        int port = TollgateExam.freePort();
        // the distribution's conf (it trusts conf/vendors/examples.pem), the shipped licenses only
        dist.run(port, work.resolve("data"), plugins, null, java.util.Map.of(), "--licenses", licenses.toString());
        Http http = new Http(port);
        for (String name : List.of("ocr", "text-embedding", "voice-activity")) {
            http.await("/v2/models/" + name + "/ready", 200, 180_000);
        }

        // README: OCR of examples/ocr-label.png, base64 in a JSON body
        String png = Base64.getEncoder().encodeToString(Files.readAllBytes(examples.resolve("ocr-label.png")));
        Http.Response ocr = http.post("/v2/models/ocr/infer",
                "{\"inputs\":[{\"name\":\"image\",\"datatype\":\"BYTES\",\"shape\":[1],\"data\":[\"" + png + "\"]}]}");
        assertEquals(ocr.body(), 200, ocr.status());
        JsonNode text = output(ocr, "text");
        assertEquals(ocr.body(), "SN 4821-XK7-0093", text.get("data").get(0).asText());

        // README: examples/text-embedding-request.json: the paraphrases close, the unrelated sentence far
        Http.Response emb = http.post("/v2/models/text-embedding/infer",
                Files.readString(examples.resolve("text-embedding-request.json")));
        assertEquals(emb.body(), 200, emb.status());
        JsonNode e = output(emb, "embedding").get("data");
        assertEquals(3 * 384, e.size());
        double paraphrase = cosine(e, 0, 1);
        double unrelated = cosine(e, 0, 2);
        assertTrue("paraphrase " + paraphrase + " vs unrelated " + unrelated, paraphrase > 0.8 && unrelated < 0.3);
        assertEquals("[9,11,14]", output(emb, "token_count").get("data").toString());

        // README: examples/speech.wav (1 s silence, one spoken sentence, 1 s silence): speech starts about 1 s in
        String wav = Base64.getEncoder().encodeToString(Files.readAllBytes(examples.resolve("speech.wav")));
        Http.Response vad = http.post("/v2/models/voice-activity/infer",
                "{\"inputs\":[{\"name\":\"audio\",\"datatype\":\"BYTES\",\"shape\":[1],\"data\":[\"" + wav + "\"]}]}");
        assertEquals(vad.body(), 200, vad.status());
        JsonNode seg = output(vad, "segments").get("data");
        assertTrue(vad.body(), seg.size() >= 2 && seg.size() % 2 == 0);
        assertTrue(vad.body(), seg.get(0).asDouble() > 0.9 && seg.get(0).asDouble() < 1.2);
        assertTrue(vad.body(), seg.get(seg.size() - 1).asDouble() > 3.5 && seg.get(seg.size() - 1).asDouble() < 4.2);

        // each is licensed by the shipped license in its own meter
        String lic = http.get("/admin/licenses").body();
        for (String meter : List.of("\"images\"", "\"tokens\"", "\"audio_seconds\"")) {
            assertTrue(lic, lic.contains(meter));
        }
    }

    private static JsonNode output(Http.Response r, String name) throws Exception {
        for (JsonNode o : JSON.readTree(r.body()).get("outputs")) {
            if (o.get("name").asText().equals(name)) {
                return o;
            }
        }
        throw new AssertionError("no output " + name + " in " + r.body());
    }

    private static double cosine(JsonNode e, int a, int b) {
        double dot = 0;
        for (int i = 0; i < 384; i++) {
            dot += e.get(a * 384 + i).asDouble() * e.get(b * 384 + i).asDouble();
        }
        return dot;   // both are unit vectors
    }
}
