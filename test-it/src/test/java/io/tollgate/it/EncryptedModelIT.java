package io.tollgate.it;

import static org.junit.Assert.assertArrayEquals;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.tollgate.licensing.wrap.ModelKeyWrap;
import io.tollgate.licensing.Pem;
import io.tollgate.licensing.vendor.ModelKeyFile;
import io.tollgate.tools.plugin.PluginJar;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.After;
import org.junit.Before;
import org.junit.Test;

/**
 * Encrypted models on the real distribution (issue 10, "Model encryption"; docs/licensing.md, "Encrypted models"):
 * a vendor-signed plugin whose model file is AES-256-GCM encrypted serves on box A under a license bound to A that
 * carries the model key wrapped for A's wrap key, with the same answers as the clear model; a second encrypted plugin
 * whose license lacks the key is FAILED "no model key", and serves once a license carrying the key arrives (no restart); after serving, no file of A (data, plugins, licenses, conf,
 * log, java.io.tmpdir) holds a 64-byte window of the clear model or the 32 key bytes. The same jar and license copied
 * to box B (another data folder, so another device) are refused "wrong device".
 */
public class EncryptedModelIT {
    private static final long[] SHAPE = {1, 1, 28, 28};

    private Path tmp;
    private Path log;
    private ApplianceProcess appliance;

    @Before
    public void setUp() throws Exception {
        tmp = Files.createTempDirectory("tollgate-encrypted-model-it");
        log = tmp.resolve("appliance.log");
        appliance = new ApplianceProcess(log);
    }

    @After
    public void tearDown() {
        appliance.killAll();
        ApplianceProcess.keepLogs(tmp, Path.of("target", "encrypted-model-it-logs"));
        ApplianceProcess.deleteTree(tmp);
    }

    /** One box: its folders, java.io.tmpdir among them. */
    private record Box(Path root, Path data, Path plugins, Path licenses, Path conf, Path javaTmp) {
        static Box in(Path root) throws IOException {
            return new Box(root, root.resolve("data"), Files.createDirectories(root.resolve("plugins")),
                    Files.createDirectories(root.resolve("licenses")), root.resolve("conf"),
                    Files.createDirectories(root.resolve("java-tmp")));
        }
    }

    private Process start(Box box, int port) throws Exception {
        appliance.copyConf(box.conf());
        Process p = appliance.run(port, box.data(), box.plugins(), box.conf(),
                Map.of("TOLLGATE_JAVA_OPTS", ApplianceProcess.JAVA_OPTS + " -Djava.io.tmpdir=" + box.javaTmp()),
                "--licenses", box.licenses().toString());
        appliance.awaitReady(p, port, 90_000);
        return p;
    }

    private static void putAtomically(Path folder, String name, byte[] bytes) throws IOException {
        Path part = folder.resolve("." + name + ".part");
        Files.write(part, bytes);
        Files.move(part, folder.resolve(name), StandardCopyOption.ATOMIC_MOVE);
    }

    private static void stop(Process p) throws InterruptedException {
        p.destroy();
        assertTrue("the appliance stopped", p.waitFor(60, TimeUnit.SECONDS));
    }

    private static float[] input(long seed) {
        Random r = new Random(seed);
        float[] x = new float[784];
        for (int i = 0; i < x.length; i++) {
            x[i] = r.nextFloat();
        }
        return x;
    }

    private static float[] answer(Http http, String model, float[] x) throws Exception {
        Http.Response r = http.post("/v2/models/" + model + "/infer", Http.inferBody("image", SHAPE, x));
        assertEquals(r.body(), 200, r.status());
        return Http.output(r.json(), "probs");
    }

    @Test
    public void anEncryptedModelServesOnlyUnderItsLicenseAndNeitherItNorItsKeyTouchesDiskInClear() throws Exception {
        TestVendor vendor = TestVendor.get();
        byte[] clear = TestPlugins.exampleEntry("TOLLGATE-INF/model.onnx");
        SecureRandom random = new SecureRandom();
        ModelKeyFile key = ModelKeyFile.generate(random);           // in memory only: the vendor's side
        ModelKeyFile otherKey = ModelKeyFile.generate(random);
        Path made = Files.createDirectories(tmp.resolve("made"));
        Path secretJar = made.resolve("secret-model-1.0.0.jar");
        new PluginJar("secret-model", "1.0.0").model("model.onnx", clear).maxBatchSize(8).encryptWith(key)
                .writeTo(secretJar);
        vendor.signOnly(secretJar);
        Path keylessJar = made.resolve("keyless-model-1.0.0.jar");
        new PluginJar("keyless-model", "1.0.0").model("model.onnx", clear).maxBatchSize(8).encryptWith(otherKey)
                .writeTo(keylessJar);
        vendor.signOnly(keylessJar);
        assertFalse("the jar holds no clear model", contains(Files.readAllBytes(secretJar), window(clear)));

        // Box A: started once so that it makes its device key and wrap key, which the owner sends to the vendor.
        Box a = Box.in(tmp.resolve("box-a"));
        int portA = TollgateExam.freePort();
        Process pa = start(a, portA);
        Http http = new Http(portA);
        Path device = a.data().resolve("device");
        String deviceId = Files.readString(device.resolve("device.id")).trim();
        PublicKey deviceKey = Pem.readPublicKey(device.resolve("device.pub.pem"));
        PublicKey wrapKey = ModelKeyWrap.readPublicKey(device.resolve(ModelKeyWrap.PUBLIC_FILE));
        assertEquals("rw-------", java.nio.file.attribute.PosixFilePermissions.toString(
                Files.getPosixFilePermissions(device.resolve(ModelKeyWrap.PRIVATE_FILE))));

        byte[] license = vendor.issuer().id("lic-secret").plugin("secret-model").device(deviceId, deviceKey)
                .modelKey(key.keyId(), key.key(), wrapKey).issue();
        byte[] keyless = vendor.issuer().id("lic-keyless").plugin("keyless-model").device(deviceId, deviceKey).issue();
        putAtomically(a.licenses(), "secret.lic", license);
        putAtomically(a.licenses(), "keyless.lic", keyless);
        Thread.sleep(3_500);                                      // the store reads a file once it stood still 2 s
        Files.copy(secretJar, a.plugins().resolve(secretJar.getFileName()));
        Files.copy(keylessJar, a.plugins().resolve(keylessJar.getFileName()));

        http.awaitPlugin("tollgate.plugin.secret-model", "READY", 60_000);
        List<float[]> served = new ArrayList<>();
        for (long seed = 1; seed <= 3; seed++) {
            served.add(answer(http, "secret-model", input(seed)));
        }
        JsonNode failed = http.awaitPlugin("tollgate.plugin.keyless-model", "FAILED", 60_000);
        String reason = failed.path("error").asText();
        assertTrue(reason, reason.contains("is encrypted: no model key: plugin keyless-model 1.0.0 is encrypted with"
                + " model key " + otherKey.keyId() + ", and license lic-keyless"));
        int status = http.post("/v2/models/keyless-model/infer", Http.inferBody("image", SHAPE, input(1))).status();
        assertTrue("keyless-model answered " + status, status == 404 || status == 503 || status == 403);
        // the vendor sends a license carrying the key: the waiting plugin serves, no restart
        Files.delete(a.licenses().resolve("keyless.lic"));
        putAtomically(a.licenses(), "keyless-fixed.lic", vendor.issuer().id("lic-keyless-2").plugin("keyless-model")
                .device(deviceId, deviceKey).modelKey(otherKey.keyId(), otherKey.key(), wrapKey).issue());
        http.awaitPlugin("tollgate.plugin.keyless-model", "READY", 30_000);
        assertArrayEquals(served.get(0), answer(http, "keyless-model", input(1)), 0f);
        stop(pa);

        // Nothing of box A holds the clear model or the key: its whole folder (data, plugins, licenses, conf,
        // java.io.tmpdir) and the appliance's log.
        byte[] window = window(clear);
        List<Path> scanned = new ArrayList<>();
        for (Path root : List.of(a.root(), log)) {
            for (Path f : files(root)) {
                byte[] bytes = Files.readAllBytes(f);
                assertFalse("clear model bytes in " + f, contains(bytes, window));
                assertFalse("the model key in " + f, contains(bytes, key.key()));
                assertFalse("the other model key in " + f, contains(bytes, otherKey.key()));
                scanned.add(f);
            }
        }
        assertTrue("scanned the box's files: " + scanned, scanned.size() > 5
                && scanned.stream().anyMatch(f -> f.startsWith(a.data()))
                && scanned.stream().anyMatch(f -> f.startsWith(a.plugins())));
        // and the scan would see them: the clear model is in the example jar's entry, the key is what we wrapped
        assertTrue(contains(clear, window));

        // Box B: the same jar and license copied to another appliance (another data folder: another device).
        Box b = Box.in(tmp.resolve("box-b"));
        Files.copy(secretJar, b.plugins().resolve(secretJar.getFileName()));
        Files.write(b.licenses().resolve("secret.lic"), license);
        // the clear model, under an unbound license, as the reference for box A's answers
        Path clearJar = made.resolve("clear-model-1.0.0.jar");
        new PluginJar("clear-model", "1.0.0").model("model.onnx", clear).maxBatchSize(8).writeTo(clearJar);
        vendor.signOnly(clearJar);
        Files.copy(clearJar, b.plugins().resolve(clearJar.getFileName()));
        Files.write(b.licenses().resolve("clear.lic"), vendor.issuer().id("lic-clear").plugin("clear-model").issue());
        int portB = TollgateExam.freePort();
        start(b, portB);
        Http httpB = new Http(portB);
        JsonNode refused = httpB.awaitPlugin("tollgate.plugin.secret-model", "FAILED", 60_000);
        assertTrue(refused.toString(), refused.path("error").asText().contains("wrong device"));
        status = httpB.post("/v2/models/secret-model/infer", Http.inferBody("image", SHAPE, input(1))).status();
        assertTrue("secret-model on box B answered " + status, status == 404 || status == 503 || status == 403);

        httpB.awaitPlugin("tollgate.plugin.clear-model", "READY", 60_000);
        for (int i = 0; i < served.size(); i++) {
            float[] expected = answer(httpB, "clear-model", input(i + 1));
            assertEquals(10, expected.length);
            assertArrayEquals("seed " + (i + 1) + ": the encrypted model answers as the clear one", expected,
                    served.get(i), 0f);
        }
    }

    /** A distinctive 64-byte window of the ONNX file: from its middle (weights), not its common header. */
    private static byte[] window(byte[] clear) {
        int from = clear.length / 2;
        return Arrays.copyOfRange(clear, from, from + 64);
    }

    private static List<Path> files(Path root) throws IOException {
        if (Files.isRegularFile(root)) {
            return List.of(root);
        }
        try (Stream<Path> s = Files.walk(root)) {
            return s.filter(Files::isRegularFile).toList();
        }
    }

    private static boolean contains(byte[] haystack, byte[] needle) {
        outer:
        for (int i = 0; i + needle.length <= haystack.length; i++) {
            for (int j = 0; j < needle.length; j++) {
                if (haystack[i + j] != needle[j]) {
                    continue outer;
                }
            }
            return true;
        }
        return false;
    }
}
