package io.tollgate.it;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.After;
import org.junit.Before;
import org.junit.Test;

/**
 * The text-embedding capability plugin (issue 13) in the real distribution: the jar this reactor built, signed by a
 * vendor and licensed with {@code allow_code}, installs, opens its DJL tokenizer inside Felix (native library unpacked
 * into its work folder), and answers strings sent as JSON with unit vectors whose cosines rank paraphrases first; the
 * usage journal bills the request in meter {@code tokens} with the sum of the word pieces; a blank text is a 400
 * naming the element, billed nowhere.
 */
public class TextEmbeddingPluginIT {
    private static final String MODEL = "text-embedding";
    private static final String[] TEXTS = {
        "The conveyor belt stopped because the motor overheated.",
        "Please replace the filter in the air compressor.",
        "The motor got too hot, so the conveyor halted.",
        "The air compressor needs a new filter.",
        "Hello world",
    };

    private Path tmp;
    private Path log;
    private ApplianceProcess appliance;

    @Before
    public void setUp() throws Exception {
        tmp = Files.createTempDirectory("tollgate-text-embedding-it");
        log = tmp.resolve("appliance.log");
        appliance = new ApplianceProcess(log);
    }

    @After
    public void tearDown() {
        appliance.killAll();
        ApplianceProcess.keepLogs(tmp, Path.of("target", "text-embedding-it-logs"));
        ApplianceProcess.deleteTree(tmp);
    }

    private static String body(String id, String... texts) {
        ObjectNode root = Http.JSON.createObjectNode().put("id", id);
        ObjectNode in = root.putArray("inputs").addObject().put("name", "text").put("datatype", "BYTES");
        in.putArray("shape").add(texts.length);
        ArrayNode data = in.putArray("data");
        for (String t : texts) {
            data.add(t);
        }
        return root.toString();
    }

    @Test
    public void stringsInUnitVectorsOutBilledInTokens() throws Exception {
        long t0 = System.nanoTime();
        TestVendor vendor = TestVendor.get();
        Path plugins = Files.createDirectories(tmp.resolve("plugins"));
        Path licenses = Files.createDirectories(tmp.resolve("licenses"));
        Path data = tmp.resolve("data");
        Path built = Path.of(System.getProperty("tollgate.plugin.text-embedding"));
        Path jar = tmp.resolve("text-embedding-1.0.0.jar");
        Files.copy(built, jar, StandardCopyOption.REPLACE_EXISTING);
        vendor.signOnly(jar);
        Files.write(licenses.resolve("text-embedding.lic"), vendor.issuer().id("lic-text-embedding").plugin(MODEL)
                .meter("tokens").allowCode(true).issue());
        Files.copy(jar, plugins.resolve(jar.getFileName()));

        long t1 = System.nanoTime();
        int port = TollgateExam.freePort();
        Process p = appliance.run(port, data, plugins, null, Map.of(), "--licenses", licenses.toString());
        appliance.awaitReady(p, port, 90_000);
        Http http = new Http(port);
        http.awaitPlugin("tollgate.plugin." + MODEL, "READY", 120_000);
        long t2 = System.nanoTime();

        // the interface clients see
        JsonNode meta = http.get("/v2/models/" + MODEL).json();
        assertEquals(meta.toString(), "text", meta.path("inputs").get(0).path("name").asText());
        assertEquals(meta.toString(), "BYTES", meta.path("inputs").get(0).path("datatype").asText());

        Http.Response r = http.post("/v2/models/" + MODEL + "/infer", body("embed-1", TEXTS));
        long t3 = System.nanoTime();
        assertEquals(r.body(), 200, r.status());
        System.out.println("response (first 300 characters): " + r.body().substring(0, Math.min(300, r.body().length())));
        JsonNode out = r.json();
        JsonNode embedding = output(out, "embedding");
        assertEquals("[5,384]", embedding.path("shape").toString());
        float[] flat = Http.output(out, "embedding");
        float[][] v = new float[TEXTS.length][384];
        for (int i = 0; i < TEXTS.length; i++) {
            System.arraycopy(flat, i * 384, v[i], 0, 384);
            assertEquals("norm of embedding " + i, 1.0, Math.sqrt(dot(v[i], v[i])), 1e-4);
        }
        // each of the two paraphrase pairs ranks its partner above every other text
        int[][] pairs = {{0, 2}, {1, 3}};
        for (int[] pair : pairs) {
            for (int k = 0; k < 2; k++) {
                int a = pair[k];
                int b = pair[1 - k];
                for (int j = 0; j < TEXTS.length; j++) {
                    if (j != a && j != b) {
                        assertTrue(TEXTS[a] + ": paraphrase " + dot(v[a], v[b]) + " vs '" + TEXTS[j] + "' "
                                + dot(v[a], v[j]), dot(v[a], v[b]) > dot(v[a], v[j]) + 0.1);
                    }
                }
            }
        }
        JsonNode counts = output(out, "token_count").path("data");
        long sum = 0;
        List<Long> c = new ArrayList<>();
        for (JsonNode n : counts) {
            c.add(n.asLong());
            sum += n.asLong();
        }
        assertEquals("Hello world = [CLS] hello world [SEP]", 4L, (long) c.get(4));

        // a client's mistake: 400 naming the element, nothing billed
        Http.Response bad = http.post("/v2/models/" + MODEL + "/infer", body("embed-bad", "fine", "   "));
        assertEquals(bad.body(), 400, bad.status());
        assertTrue(bad.body(), bad.body().contains("input 'text' element 1 is empty or only whitespace"));

        int exit = appliance.stop(p, 60);
        assertTrue("exit code after SIGTERM is 0 or 143, not " + exit, exit == 0 || exit == 143);
        JsonNode record = null;
        for (JsonNode rec : appliance.exportAll(data)) {
            if ("usage".equals(rec.path("kind").asText())) {
                assertTrue("the refused request is not billed: " + rec, !"embed-bad".equals(rec.path("request_id")
                        .asText()));
                if ("embed-1".equals(rec.path("request_id").asText())) {
                    record = rec;
                }
            }
        }
        assertTrue("no usage record for embed-1", record != null);
        assertEquals(record.toString(), MODEL, record.path("model").asText());
        assertEquals(record.toString(), "tokens", record.path("meter").asText());
        assertEquals(record.toString(), sum, record.path("quantity").asLong());
        System.out.println("text-embedding over HTTP: token counts " + c + ", billed " + record.path("quantity"));
        System.out.printf("phases: sign and license %.1f s, start until READY %.1f s, first request of %d texts %.0f ms,"
                + " rest (400, stop, usage export) %.1f s%n", (t1 - t0) / 1e9, (t2 - t1) / 1e9, TEXTS.length,
                (t3 - t2) / 1e6, (System.nanoTime() - t3) / 1e9);
    }

    private static JsonNode output(JsonNode response, String name) {
        for (JsonNode o : response.path("outputs")) {
            if (name.equals(o.path("name").asText())) {
                return o;
            }
        }
        throw new AssertionError("no output '" + name + "' in " + response);
    }

    private static double dot(float[] a, float[] b) {
        double s = 0;
        for (int i = 0; i < a.length; i++) {
            s += (double) a[i] * b[i];
        }
        return s;
    }
}
