package io.tollgate.it;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.After;
import org.junit.Before;
import org.junit.Test;

/**
 * The README's path as a user walks it, on the built distribution: {@code bin/tollgate run}, drop a plugin
 * made by {@code bin/tollgate plugin pack} into {@code plugins/}, replace it under load, delete it, stop
 * with SIGTERM.
 */
public class DistributionIT {
    private static final float[] ZEROS = new float[784];
    private ApplianceProcess dist;
    private Path work;

    @Before
    public void setUp() throws Exception {
        work = Files.createTempDirectory("tollgate-dist-it");
        // the operator's own flow: bin/tollgate run as shipped, class data sharing archive included
        dist = new ApplianceProcess(work.resolve("tollgate.log")).classDataSharing(true);
    }

    @After
    public void tearDown() {
        dist.killAll();
        ApplianceProcess.deleteTree(work);
    }

    @Test
    public void packDropUpgradeUnderLoadDeleteAndStop() throws Exception {
        Path plugins = Files.createDirectories(work.resolve("plugins"));
        Path data = work.resolve("data");
        Path log = work.resolve("tollgate.log");
        Path model = work.resolve("model.onnx");
        try (var jar = new java.util.jar.JarFile(TollgateExam.exampleModel())) {
            Files.write(model, jar.getInputStream(jar.getEntry("TOLLGATE-INF/model.onnx")).readAllBytes());
        }
        // plugin pack: the user's own model, inputs and labels taken from the model.
        for (String version : List.of("1.0.0", "1.1.0")) {
            ApplianceProcess.Result packed = dist.tool("plugin", "pack", "--model", model.toString(), "--name", "garments",
                    "--version", version, "--output", work.resolve("garments-" + version + ".jar").toString());
            assertEquals(packed.err(), 0, packed.exit());
            assertTrue(packed.out(), packed.out().contains("image:FP32[-1, 1, 28, 28]") && packed.out().contains("labels   10"));
            // Issue 10: the owner signs their own model with their vendor key and licenses it (TestVendor).
            TestVendor.get().sign(work.resolve("garments-" + version + ".jar"));
        }
        ApplianceProcess.Result bad = dist.tool("plugin", "pack", "--model", work.resolve("missing.onnx").toString(), "--name", "x", "--version", "1.0.0",
                "--output", work.resolve("x.jar").toString());
        assertEquals("a file missing is exit 3", 3, bad.exit());
        assertTrue(bad.err(), bad.err().contains("no such file"));

        int port = TollgateExam.freePort();
        Process appliance = dist.run(port, data, plugins, null);
        Http http = new Http(port);
        http.await("/v2/health/ready", 200, 60_000);
        assertEquals(404, http.get("/v2/models/garments").status());

        // Drop: the plugin folder gate picks the jar up within seconds.
        copyAtomically(work.resolve("garments-1.0.0.jar"), plugins.resolve("garments.jar"));
        http.await("/v2/models/garments/ready", 200, 30_000);

        // Replace under load: no request may fail.
        VersionedLoad load = new VersionedLoad(3, () -> http.post("/v2/models/garments/infer",
                Http.inferBody("image", new long[] {1, 1, 28, 28}, ZEROS)));
        try {
            Thread.sleep(500);
            copyAtomically(work.resolve("garments-1.1.0.jar"), plugins.resolve("garments.jar"));
            load.awaitVersion("1.1.0", 30_000, 300);
        } finally {
            load.close();
        }
        Map<String, AtomicInteger> byVersion = load.byVersion();
        List<String> failures = load.failures();
        System.out.println("distribution upgrade under load: by version " + byVersion + ", failures " + failures.size());
        assertEquals("failed requests during the upgrade: " + failures, 0, failures.size());
        assertTrue(byVersion.toString(), byVersion.containsKey("1.0.0") && byVersion.containsKey("1.1.0"));
        JsonNode meta = http.get("/v2/models/garments").json();
        assertEquals("[\"1.1.0\"]", meta.get("versions").toString());

        // Delete: the model is unloaded.
        Files.delete(plugins.resolve("garments.jar"));
        http.await("/v2/models/garments/ready", 404, 30_000);

        // A second appliance on the same port is refused with a clear message, before anything starts.
        ApplianceProcess.Result second = dist.tool("run", "--port", Integer.toString(port), "--data", work.resolve("d2").toString());
        assertEquals(1, second.exit());
        assertTrue(second.err(), second.err().contains("cannot listen") && second.err().contains(Integer.toString(port)));

        // SIGTERM: drains and exits cleanly.
        appliance.destroy();
        assertTrue("appliance did not stop within 60 s after SIGTERM:\n" + dist.tail(40),
                appliance.waitFor(60, TimeUnit.SECONDS));
        String output = Files.readString(log);
        assertTrue(dist.tail(40), output.contains("Tollgate stopped"));
        assertTrue(dist.tail(40), output.contains("closed"));
    }

    /** bin/tollgate's run --demo has the appliance's parser check the options before it starts broker and billing. */
    @Test
    public void runDemoChecksTheOptionsBeforeItStartsAnything() throws Exception {
        ApplianceProcess.Result noValue = dist.tool("run", "--demo", "--data");
        assertEquals(noValue.toString(), 2, noValue.exit());
        assertEquals(noValue.err(), 1, noValue.err().lines().count());
        assertTrue(noValue.err(), noValue.err().startsWith("tollgate run: ") && noValue.err().contains("'--data'"));
        Path data = work.resolve("demo-data");
        ApplianceProcess.Result bogus = dist.tool("run", "--demo", "--data", data.toString(), "--bogus");
        assertEquals(bogus.toString(), 2, bogus.exit());
        assertEquals("tollgate run: unknown option '--bogus' (try 'tollgate run --help')\n", bogus.err());
        assertEquals("no broker, no billing, no device key", "", bogus.out());
        assertTrue("nothing written", !Files.exists(data));
    }

    /** Issue 9: with a broker but no cloud key the appliance refuses to start (acks are always verified). */
    @Test
    public void runWithABrokerButNoCloudKeyFailsFastWithOneLine() throws Exception {
        Path data = work.resolve("nokey-data");
        ApplianceProcess.Result r = dist.tool("run", "--mqtt", "tcp://127.0.0.1:1883", "--data", data.toString(),
                "--port", "0");
        assertEquals(r.toString(), 1, r.exit());
        assertEquals(r.err(), 1, r.err().lines().count());
        assertTrue(r.err(), r.err().startsWith("tollgate run: usage would go to tcp://127.0.0.1:1883, but no cloud "
                + "key is configured") && r.err().contains("bin/tollgate device enroll"));
        assertTrue("not started: " + r.err(), !r.err().contains("started"));
        ApplianceProcess.Result demo = dist.tool("run", "--demo", "--mqtt", "tcp://127.0.0.1:1883");
        assertEquals(demo.toString(), 2, demo.exit());
        assertTrue(demo.err(), demo.err().contains("drop --mqtt"));
    }

    private static void copyAtomically(Path from, Path to) throws Exception {
        Path tmp = to.resolveSibling(".tmp-" + to.getFileName() + ".part");
        Files.copy(from, tmp, StandardCopyOption.REPLACE_EXISTING);
        Files.move(tmp, to, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }
}
