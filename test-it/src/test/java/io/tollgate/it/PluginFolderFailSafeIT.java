package io.tollgate.it;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.tollgate.tools.plugin.PluginJar;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.jar.JarEntry;
import java.util.jar.JarInputStream;
import java.util.jar.JarOutputStream;
import java.util.stream.Collectors;
import java.util.zip.Deflater;
import org.junit.After;
import org.junit.Before;
import org.junit.Test;

/**
 * Issue 8 "Fail safe", plugins, on the built distribution ({@code bin/tollgate run}): a plugin jar overwritten in
 * place by a slow copy never unloads the version that serves, and the upgrade happens once the copy is complete;
 * empty and truncated jars, a zip bomb and a bundle that is no model plugin are each listed in
 * {@code /admin/plugins} with the reason and logged once at WARN, and none keeps the appliance from being ready.
 */
public class PluginFolderFailSafeIT {
    private static final float[] ZEROS = new float[784];
    /** More than the default max.model.bytes (1 GiB); deflated, about a megabyte. */
    private static final long BOMB_BYTES = (1L << 30) + (256L << 20);

    private Path tmp;
    private Path log;
    private ApplianceProcess appliance;

    @Before
    public void setUp() throws IOException {
        tmp = Files.createTempDirectory("tollgate-plugin-folder-it");
        log = tmp.resolve("appliance.log");
        appliance = new ApplianceProcess(log);
    }

    @After
    public void tearDown() {
        appliance.killAll();
        ApplianceProcess.keepLogs(tmp, Path.of("target", "plugin-folder-it-logs"));
        ApplianceProcess.deleteTree(tmp);
    }

    private static Http.Response infer(Http http) throws Exception {
        return http.post("/v2/models/fashion-mnist/infer", Http.inferBody("image", new long[] {1, 1, 28, 28}, ZEROS));
    }

    @Test
    public void aSlowInPlaceOverwriteFailsNoRequestAndUpgradesOnceComplete() throws Exception {
        Path plugins = tmp.resolve("plugins");
        appliance.copyExamplePlugin(plugins);
        Path jar = plugins.resolve("fashion-mnist-1.0.0.jar");
        byte[] model = TestPlugins.exampleEntry("TOLLGATE-INF/model.onnx");
        List<String> labels = List.of("a", "b", "c", "d", "e", "f", "g", "h", "i", "j");
        Path nextJar = tmp.resolve("next.jar");
        new PluginJar("fashion-mnist", "1.1.0").model("model.onnx", model).labels(labels).maxBatchSize(256)
                .writeTo(nextJar);
        byte[] next = Files.readAllBytes(TestVendor.get().sign(nextJar));     // signed by the test vendor, licensed

        int port = TollgateExam.freePort();
        Process p = appliance.run(port, tmp.resolve("data"), plugins, null);
        appliance.awaitReady(p, port, 90_000);
        Http http = new Http(port);
        assertEquals("1.0.0", infer(http).json().get("model_version").asText());

        VersionedLoad load = new VersionedLoad(2, () -> infer(http));
        long copyEnded;
        long upgradedAfterMs;
        try {
            Thread.sleep(500);
            // scp over a slow link: the file is truncated, then written in 4 chunks with stalls longer than the
            // appliance's poll (and its stability time) in between.
            int chunks = 4;
            try (FileChannel out = FileChannel.open(jar, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING)) {
                for (int i = 0; i < chunks; i++) {
                    int from = next.length * i / chunks;
                    int to = next.length * (i + 1) / chunks;
                    out.write(ByteBuffer.wrap(next, from, to - from));
                    out.force(true);
                    if (i < chunks - 1) {
                        Thread.sleep(2_500);
                    }
                }
            }
            copyEnded = System.currentTimeMillis();
            while (!load.byVersion().containsKey("1.1.0") && System.currentTimeMillis() < copyEnded + 60_000) {
                Thread.sleep(20);
            }
            upgradedAfterMs = System.currentTimeMillis() - copyEnded;
            Thread.sleep(1_000);
        } finally {
            load.close();
        }
        Map<String, AtomicInteger> byVersion = load.byVersion();
        List<String> failures = load.failures();
        System.out.println("slow in-place overwrite: " + (load.ok() + failures.size()) + " requests, " + failures.size()
                + " failed, by version " + byVersion + "; 1.1.0 served " + upgradedAfterMs + " ms after the copy ended");
        assertEquals("failed requests during the slow copy: " + failures.stream().limit(5).toList(), 0,
                failures.size());
        assertTrue("1.1.0 serves after the copy: " + byVersion, byVersion.containsKey("1.1.0"));
        assertTrue("upgraded within 30 s of the copy's end: " + upgradedAfterMs, upgradedAfterMs < 30_000);
        assertEquals("1.1.0", infer(http).json().get("model_version").asText());
        // The incomplete states were reported, each at WARN, and never made the appliance unload the model.
        String output = Files.readString(log);
        assertTrue(appliance.tail(40), output.lines().anyMatch(l -> l.contains(" WARN ")
                && l.contains("fashion-mnist-1.0.0.jar is not installed: it is not a complete jar")));
        assertTrue(appliance.tail(40), output.contains("updated fashion-mnist-1.0.0.jar"));
    }

    @Test
    public void aZipBombPresentAtStartFailsWithTheReasonAndDoesNotHoldReadiness() throws Exception {
        Path plugins = tmp.resolve("plugins");
        appliance.copyExamplePlugin(plugins);
        writeBomb(plugins.resolve("bomb.jar"));
        TestVendor.get().sign(plugins.resolve("bomb.jar"));     // a signed, licensed bomb: refused for its size

        int port = TollgateExam.freePort();
        long started = System.currentTimeMillis();
        Process p = appliance.run(port, tmp.resolve("data"), plugins, null);
        // The bomb present at start is refused at max.model.bytes: it does not keep the box unready.
        appliance.awaitReady(p, port, 120_000);
        long readyMs = System.currentTimeMillis() - started;
        Http http = new Http(port);
        Http.Response ready = http.get("/v2/health/ready");
        assertEquals(ready.body(), 200, ready.status());
        // the body lists the checks: every one ready, the plugins check included (bomb.jar holds none of them)
        for (JsonNode c : Http.JSON.readTree(ready.body()).path("checks")) {
            assertTrue(ready.body(), c.path("ready").asBoolean());
        }
        assertTrue(ready.body(), ready.body().contains("\"name\":\"plugins\""));
        assertEquals(200, infer(http).status());

        JsonNode bomb = http.awaitPlugin("tollgate.plugin.bomb", "FAILED", 30_000);
        assertTrue(bomb.toString(), bomb.path("error").asText().contains("model file TOLLGATE-INF/model.onnx inflates"
                + " to more than 1073741824 bytes, the limit max.model.bytes of io.tollgate.serving"));
        assertEquals("one WARN line about the bomb", 1, Files.readString(log).lines()
                .filter(l -> l.contains(" WARN ") && l.contains("max.model.bytes")).count());
        System.out.println("zip bomb at start: ready after " + readyMs + " ms; peak RSS of the appliance "
                + peakRssKb(p) + " kB");
    }

    @Test
    public void emptyAndTruncatedJarsAreListedWithTheReasonAndLoggedOnce() throws Exception {
        Path plugins = tmp.resolve("plugins");
        appliance.copyExamplePlugin(plugins);
        byte[] good = Files.readAllBytes(plugins.resolve("fashion-mnist-1.0.0.jar"));
        Files.write(plugins.resolve("empty.jar"), new byte[0]);
        Files.write(plugins.resolve("truncated.jar"), java.util.Arrays.copyOf(good, good.length / 2));

        int port = TollgateExam.freePort();
        Process p = appliance.run(port, tmp.resolve("data"), plugins, null);
        appliance.awaitReady(p, port, 90_000);
        Http http = new Http(port);
        assertEquals(200, infer(http).status());

        JsonNode empty = file(http, "empty.jar");
        assertEquals("FAILED", empty.path("state").asText());
        assertEquals(-1, empty.path("id").asLong());
        assertTrue(empty.toString(), empty.path("error").asText().contains("empty.jar is not installed: the file is"
                + " empty (0 bytes)"));
        JsonNode truncated = file(http, "truncated.jar");
        assertEquals("FAILED", truncated.path("state").asText());
        assertTrue(truncated.toString(), truncated.path("error").asText().contains("truncated.jar is not installed:"
                + " it is not a complete jar"));
        Thread.sleep(2_500);        // a few more polls: still one WARN line each
        assertOneWarning("empty.jar");
        assertOneWarning("truncated.jar");
    }

    @Test
    public void aBundleThatIsNoModelPluginIsRefusedWithTheReasonAndNeverInstalled() throws Exception {
        Path plugins = tmp.resolve("plugins");
        appliance.copyExamplePlugin(plugins);
        int port = TollgateExam.freePort();
        Process p = appliance.run(port, tmp.resolve("data"), plugins, null);
        appliance.awaitReady(p, port, 90_000);
        Http http = new Http(port);

        // A library with no code at all: nothing kept it from being installed and started.
        Path stash = Files.createDirectories(tmp.resolve("stash"));
        writeLibrary(stash.resolve("library.jar"));
        ApplianceProcess.drop(stash.resolve("library.jar"), plugins);
        JsonNode library = awaitFile(http, "library.jar", "FAILED", 30_000);      // LOADING while it settles
        assertEquals("never installed: no bundle id", -1, library.path("id").asLong());
        assertEquals("com.acme.library", library.path("symbolic_name").asText());
        assertTrue(library.toString(), library.path("error").asText().contains("com.acme.library 1.0.0 is refused:"
                + " not a model plugin: it provides no tollgate.model capability"));
        assertOneWarning("library.jar");
        assertEquals(200, infer(http).status());
    }

    private void assertOneWarning(String fileName) throws IOException {
        List<String> warnings = Files.readString(log).lines().filter(l -> l.contains(" WARN ")
                && l.contains(fileName + " is not installed")).collect(Collectors.toList());
        assertEquals("one WARN line names " + fileName + ": " + warnings, 1, warnings.size());
    }

    private static JsonNode file(Http http, String fileName) throws Exception {
        for (JsonNode p : http.get("/admin/plugins").json()) {
            if (p.path("location").asText().endsWith("/" + fileName) && p.path("id").asLong() == -1) {
                return p;
            }
        }
        throw new AssertionError("/admin/plugins does not list " + fileName + ": " + http.get("/admin/plugins").body());
    }

    private static JsonNode awaitFile(Http http, String fileName, String state, long timeoutMs) throws Exception {
        long deadline = System.currentTimeMillis() + timeoutMs;
        while (true) {
            try {
                JsonNode f = file(http, fileName);
                if (state.equals(f.path("state").asText())) {
                    return f;
                }
                if (System.currentTimeMillis() > deadline) {
                    throw new AssertionError(fileName + " is not " + state + " within " + timeoutMs + " ms: " + f);
                }
            } catch (AssertionError e) {
                if (System.currentTimeMillis() > deadline) {
                    throw e;
                }
            }
            Thread.sleep(200);
        }
    }

    /** A plugin whose 1 MB model entry inflates to {@link #BOMB_BYTES} of zeros. */
    private static void writeBomb(Path to) throws Exception {
        byte[] template = new PluginJar("bomb", "1.0.0").model("model.onnx", new byte[] {0}).toBytes();
        try (JarInputStream in = new JarInputStream(new ByteArrayInputStream(template));
             JarOutputStream out = new JarOutputStream(Files.newOutputStream(to), in.getManifest())) {
            out.setLevel(Deflater.BEST_COMPRESSION);
            for (JarEntry e; (e = in.getNextJarEntry()) != null; ) {
                out.putNextEntry(new JarEntry(e.getName()));
                if (e.getName().equals("TOLLGATE-INF/model.onnx")) {
                    byte[] zeros = new byte[1 << 20];
                    for (long written = 0; written < BOMB_BYTES; written += zeros.length) {
                        out.write(zeros);
                    }
                } else {
                    in.transferTo(out);
                }
                out.closeEntry();
            }
        }
    }

    /** A bundle with a name and a version and nothing else: no model, no code. */
    private static void writeLibrary(Path to) throws IOException {
        java.util.jar.Manifest m = new java.util.jar.Manifest();
        java.util.jar.Attributes a = m.getMainAttributes();
        a.put(java.util.jar.Attributes.Name.MANIFEST_VERSION, "1.0");
        a.putValue("Bundle-ManifestVersion", "2");
        a.putValue("Bundle-SymbolicName", "com.acme.library");
        a.putValue("Bundle-Version", "1.0.0");
        try (OutputStream file = Files.newOutputStream(to); JarOutputStream jar = new JarOutputStream(file, m)) {
            jar.putNextEntry(new JarEntry("README.txt"));
            jar.write("a library".getBytes(java.nio.charset.StandardCharsets.UTF_8));
            jar.closeEntry();
        }
    }

    /** VmHWM of the appliance's JVM (the process or its java child), in kB; -1 when /proc does not say. */
    private static long peakRssKb(Process p) {
        List<ProcessHandle> all = new ArrayList<>();
        all.add(p.toHandle());
        p.descendants().forEach(all::add);
        long peak = -1;
        for (ProcessHandle h : all) {
            try {
                for (String line : Files.readAllLines(Path.of("/proc", Long.toString(h.pid()), "status"))) {
                    if (line.startsWith("VmHWM:")) {
                        peak = Math.max(peak, Long.parseLong(line.replaceAll("[^0-9]", "")));
                    }
                }
            } catch (IOException | NumberFormatException e) {
                // gone or unreadable
            }
        }
        return peak;
    }
}
