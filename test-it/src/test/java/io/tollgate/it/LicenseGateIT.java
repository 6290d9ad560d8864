package io.tollgate.it;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.tollgate.licensing.vendor.RevocationIssuer;
import io.tollgate.licensing.vendor.VendorKeys;
import io.tollgate.tools.plugin.PluginJar;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.KeyPair;
import java.time.Instant;
import java.util.Collections;
import java.util.List;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;
import java.util.zip.ZipOutputStream;
import org.junit.After;
import org.junit.Before;
import org.junit.Test;

/**
 * Install = signature + license, enforced in the framework (issue 10), on the real distribution: an unsigned plugin,
 * a tampered signed plugin, a plugin without a license and one licensed to another device are refused with their
 * reasons in {@code /admin/plugins} and never serve; a licensed plugin serves; a plugin installed before its license
 * waits, then serves without a restart when the license arrives by file and (a second plugin) by
 * {@code POST /admin/licenses}; removing the license, or a revocation list arriving, stops it serving.
 */
public class LicenseGateIT {
    private static final float[] ZEROS = new float[784];

    private Path tmp;
    private Path log;
    private ApplianceProcess appliance;

    @Before
    public void setUp() throws Exception {
        tmp = Files.createTempDirectory("tollgate-license-gate-it");
        log = tmp.resolve("appliance.log");
        appliance = new ApplianceProcess(log);
    }

    @After
    public void tearDown() {
        appliance.killAll();
        ApplianceProcess.keepLogs(tmp, Path.of("target", "license-gate-it-logs"));
        ApplianceProcess.deleteTree(tmp);
    }

    private static String infer() {
        return Http.inferBody("image", new long[] {1, 1, 28, 28}, ZEROS);
    }

    private Path plugin(String name) throws Exception {
        byte[] model = TestPlugins.exampleEntry("TOLLGATE-INF/model.onnx");
        Path jar = tmp.resolve("made").resolve(name + ".jar");
        Files.createDirectories(jar.getParent());
        new PluginJar(name, "1.0.0").model("model.onnx", model).maxBatchSize(8).writeTo(jar);
        return jar;
    }

    /** Copies {@code jar} with one byte of the model entry changed, keeping its signature files as they were. */
    private static Path tampered(Path jar, Path to) throws Exception {
        try (ZipFile in = new ZipFile(jar.toFile()); OutputStream f = Files.newOutputStream(to);
             ZipOutputStream out = new ZipOutputStream(f)) {
            for (ZipEntry e : Collections.list(in.entries())) {
                out.putNextEntry(new ZipEntry(e.getName()));
                byte[] bytes = in.getInputStream(e).readAllBytes();
                if (e.getName().equals("TOLLGATE-INF/model.onnx")) {
                    bytes[bytes.length - 1] ^= 1;
                }
                out.write(bytes);
                out.closeEntry();
            }
        }
        return to;
    }

    private static void putAtomically(Path folder, String name, byte[] bytes) throws Exception {
        Path part = folder.resolve("." + name + ".part");
        Files.write(part, bytes);
        Files.move(part, folder.resolve(name), StandardCopyOption.ATOMIC_MOVE);
    }

    private static void assertRefused(Http http, String name, String reason) throws Exception {
        JsonNode p = http.awaitPlugin("tollgate.plugin." + name, "FAILED", 60_000);
        String error = p.path("error").asText();
        assertTrue(name + ": " + error, error.contains(reason));
        assertNeverServes(http, name);
    }

    private static void assertNeverServes(Http http, String name) throws Exception {
        int ready = http.get("/v2/models/" + name + "/ready").status();
        assertTrue(name + " ready answered " + ready, ready == 404 || ready == 503);
        int infer = http.post("/v2/models/" + name + "/infer", infer()).status();
        // 403: serving answers a request for a model refused for licensing with the reason (NOT_LICENSED, issue 10)
        assertTrue(name + " infer answered " + infer, infer == 404 || infer == 503 || infer == 403);
    }

    private static void awaitStopped(Http http, String name, long timeoutMs) throws Exception {
        long end = System.currentTimeMillis() + timeoutMs;
        int status = 200;
        while (System.currentTimeMillis() < end) {
            status = http.post("/v2/models/" + name + "/infer", infer()).status();
            if (status == 404 || status == 503 || status == 403) {
                return;
            }
            Thread.sleep(200);
        }
        throw new AssertionError(name + " still serves after " + timeoutMs + " ms: " + status);
    }

    @Test
    public void onlyASignedLicensedPluginServesAndLicensesTakeEffectWithoutARestart() throws Exception {
        TestVendor vendor = TestVendor.get();
        Path plugins = Files.createDirectories(tmp.resolve("plugins"));
        Path licenses = Files.createDirectories(tmp.resolve("licenses"));
        Path data = tmp.resolve("data");

        // unsigned; tampered after signing; signed without a license; licensed to another device; licensed.
        Files.copy(plugin("unsigned-model"), plugins.resolve("unsigned-model.jar"));
        tampered(vendor.signOnly(plugin("tampered-model")), plugins.resolve("tampered-model.jar"));
        Files.copy(vendor.signOnly(plugin("unlicensed-model")), plugins.resolve("unlicensed-model.jar"));
        Files.copy(vendor.signOnly(plugin("elsewhere-model")), plugins.resolve("elsewhere-model.jar"));
        KeyPair otherBox = VendorKeys.generate(tmp.resolve("other-box"));
        Files.write(licenses.resolve("elsewhere.lic"), vendor.issuer().plugin("elsewhere-model")
                .device("box-elsewhere", otherBox.getPublic()).issue());
        Files.copy(vendor.signOnly(plugin("licensed-model")), plugins.resolve("licensed-model.jar"));
        Files.write(licenses.resolve("licensed.lic"), vendor.issuer().id("lic-licensed").plugin("licensed-model")
                .issue());
        // signed, installed before their licenses
        Files.copy(vendor.signOnly(plugin("late-model")), plugins.resolve("late-model.jar"));
        Files.copy(vendor.signOnly(plugin("posted-model")), plugins.resolve("posted-model.jar"));

        int port = TollgateExam.freePort();
        Process p = appliance.run(port, data, plugins, null, java.util.Map.of(), "--licenses", licenses.toString());
        appliance.awaitReady(p, port, 90_000);
        Http http = new Http(port);

        http.awaitPlugin("tollgate.plugin.licensed-model", "READY", 60_000);
        assertEquals(200, http.post("/v2/models/licensed-model/infer", infer()).status());

        assertRefused(http, "unsigned-model", "unsigned: ");
        assertRefused(http, "tampered-model", "tampered entry: ");
        assertRefused(http, "tampered-model", "TOLLGATE-INF/model.onnx");
        // named as the operator knows them, not by the framework's copy of the jar (bundle.jar)
        assertRefused(http, "unsigned-model", "unsigned: plugin unsigned-model 1.0.0 (file unsigned-model.jar in "
                + "plugins/) carries no signature");
        assertRefused(http, "tampered-model", "tampered entry: plugin tampered-model 1.0.0 (file tampered-model.jar "
                + "in plugins/): entry TOLLGATE-INF/model.onnx");
        assertTrue(http.get("/admin/plugins").body(), !http.get("/admin/plugins").body().contains("bundle.jar"));
        assertRefused(http, "unlicensed-model", "no license");
        assertRefused(http, "elsewhere-model", "wrong device");
        assertRefused(http, "late-model", "no license");
        assertRefused(http, "posted-model", "no license");
        for (String refused : List.of("unsigned-model.jar", "tampered-model.jar", "unlicensed-model.jar",
                "elsewhere-model.jar")) {
            appliance.awaitLogLine(" WARN ", refused, 10_000);
        }
        String output = Files.readString(log);
        for (String name : List.of("unsigned-model", "tampered-model", "unlicensed-model", "elsewhere-model")) {
            assertFalse("no model of a refused plugin was loaded: " + name,
                    output.lines().anyMatch(l -> l.contains(name) && l.contains("READY")));
        }

        // GET /admin/licenses: each license with its state on this box.
        JsonNode listed = http.get("/admin/licenses").json();
        String states = listed.toString();
        assertTrue(states, states.contains("\"lic-licensed\"") && states.contains("\"wrong device\""));
        for (JsonNode l : listed.path("licenses")) {
            if (l.path("id").asText().equals("lic-licensed")) {
                assertEquals("valid", l.path("state").asText());
                assertEquals("licensed-model", l.path("plugin").asText());
                assertTrue(l.path("device").isNull());
                assertTrue(l.path("expires").isNull());
            }
        }

        // A license arriving by file: the waiting plugin serves, no restart.
        putAtomically(licenses, "late.lic", vendor.issuer().id("lic-late").plugin("late-model").issue());
        http.awaitPlugin("tollgate.plugin.late-model", "READY", 30_000);
        assertEquals(200, http.post("/v2/models/late-model/infer", infer()).status());

        // By POST /admin/licenses: a bad one is 400 and writes nothing; a good one 201, and the plugin serves.
        byte[] posted = vendor.issuer().id("lic-posted").plugin("posted-model").issue();
        byte[] flipped = posted.clone();
        flipped[flipped.length / 2] ^= 1;
        Http.Response bad = http.post("/admin/licenses", new String(flipped, StandardCharsets.UTF_8));
        assertEquals(bad.body(), 400, bad.status());
        try (var files = Files.list(licenses)) {
            assertEquals("nothing written for a bad license", 3, files.filter(f -> f.toString().endsWith(".lic")).count());
        }
        Http.Response created = http.post("/admin/licenses", new String(posted, StandardCharsets.UTF_8));
        assertEquals(created.body(), 201, created.status());
        assertEquals("lic-posted", created.json().path("id").asText());
        assertEquals("valid", created.json().path("state").asText());
        http.awaitPlugin("tollgate.plugin.posted-model", "READY", 30_000);
        assertEquals(200, http.post("/v2/models/posted-model/infer", infer()).status());

        // Removing a license stops its plugin; so does a revocation list.
        Files.delete(licenses.resolve("late.lic"));
        awaitStopped(http, "late-model", 30_000);
        JsonNode late = http.awaitPlugin("tollgate.plugin.late-model", "FAILED", 30_000);
        assertTrue(late.toString(), late.path("error").asText().contains("no license"));
        putAtomically(licenses, "r.revocations", RevocationIssuer.issue(vendor.keys().getPrivate(),
                vendor.keys().getPublic(), List.of("lic-licensed"), Instant.now()));
        awaitStopped(http, "licensed-model", 30_000);
        JsonNode revoked = http.awaitPlugin("tollgate.plugin.licensed-model", "FAILED", 30_000);
        assertTrue(revoked.toString(), revoked.path("error").asText().contains("revoked"));
        assertEquals("the other plugin serves on", 200, http.post("/v2/models/posted-model/infer", infer()).status());
        String metrics = http.get("/metrics").body();
        assertTrue("/metrics says revoked, as /admin/licenses does",
                metrics.contains("tollgate_license_state{license=\"lic-licensed\",state=\"revoked\"} 1"));

        // Deleting the revocation list does not un-revoke: the appliance kept a copy (data/licensing/revocations).
        Files.delete(licenses.resolve("r.revocations"));
        Thread.sleep(4_000);     // the store reads a change once the folder stood still for 2 s, polling every 1 s
        assertEquals("still refused", 403, http.post("/v2/models/licensed-model/infer", infer()).status());
        assertTrue(Files.list(data.resolve("licensing/revocations")).findAny().isPresent());
    }
}
