package io.tollgate.serving.internal;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

import com.sun.net.httpserver.HttpServer;
import io.tollgate.metering.UsageEvent;
import io.tollgate.model.Tensor;
import io.tollgate.serving.InferenceException;
import io.tollgate.serving.InferenceException.Reason;
import io.tollgate.serving.InferenceRequest;
import io.tollgate.serving.InferenceResponse;
import io.tollgate.serving.ModelState;
import io.tollgate.serving.testing.InMemoryEntitlements;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.After;
import org.junit.Before;
import org.junit.Test;

/**
 * Hybrid routes and the box's own licensing and metering, against a real HTTP server (the JDK's) as the remote and a
 * fake engine (no model file needed) for the local plugin: an overflow of a model whose plugin is installed here is
 * licensed and quota-claimed as that plugin in any state (here: unloaded by an operator); a remote answer this box
 * cannot hand on (BYTES where FP32 is declared, a forged version) is 502 and never metered; the route's key never
 * comes back in a relayed message; timeout_ms bounds the metadata fetch and the call together.
 */
public class HybridLicensingTest {
    private static final String KEY = "s3cr3t-route-key-123";
    private HttpServer server;
    private final AtomicInteger status = new AtomicInteger(200);
    private final AtomicReference<String> answer = new AtomicReference<>();
    private final AtomicInteger delayMs = new AtomicInteger(0);
    private final FakeUsageJournal journal = new FakeUsageJournal();
    private final InMemoryEntitlements licenses = new InMemoryEntitlements();
    private ServingService service;
    private Path conf;

    private static String ok(String version, String datatype, String data) {
        return "{\"model_name\":\"fm\",\"model_version\":\"" + version + "\",\"outputs\":[{\"name\":\"probs\","
                + "\"datatype\":\"" + datatype + "\",\"shape\":[1,2],\"data\":" + data + "}]}";
    }

    @org.junit.Rule
    public final org.junit.rules.TestName test = new org.junit.rules.TestName();

    @Before
    public void setUp() throws Exception {
        // the timeout test: the metadata fetch the route starts with takes 1500 ms (a call then waits for it), and
        // only it runs the 'slow' route with a short timeout_ms: elsewhere a loaded CI box must not time out
        boolean timeoutTest = test.getMethodName().startsWith("timeoutMs");
        int getDelay = timeoutTest ? 1500 : 0;
        answer.set(ok("1.0.0", "FP32", "[0.5,0.25]"));
        server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.createContext("/", ex -> {
            ex.getRequestBody().readAllBytes();
            try {
                Thread.sleep(ex.getRequestMethod().equals("GET") ? getDelay : delayMs.get());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            boolean get = ex.getRequestMethod().equals("GET");
            String body = get ? "{\"name\":\"fm\",\"versions\":[\"1.0.0\"],\"platform\":\"onnxruntime_onnx\",\"inputs\":"
                    + "[{\"name\":\"image\",\"datatype\":\"FP32\",\"shape\":[-1,4]}],\"outputs\":[{\"name\":\"probs\","
                    + "\"datatype\":\"FP32\",\"shape\":[-1,2]}]}" : answer.get();
            byte[] b = body.getBytes(StandardCharsets.UTF_8);
            ex.sendResponseHeaders(get ? 200 : status.get(), b.length);
            ex.getResponseBody().write(b);
            ex.close();
        });
        server.start();
        conf = Files.createTempDirectory("hybrid-licensing");
        Path models = Files.createDirectories(conf.resolve("models"));
        Path key = conf.resolve("route.key");
        Files.writeString(key, KEY);
        Files.setPosixFilePermissions(key, PosixFilePermissions.fromString("rw-------"));
        String url = "http://127.0.0.1:" + server.getAddress().getPort();
        Files.writeString(models.resolve("fm.json"), "{\"route\":{\"mode\":\"local-first\",\"name\":\"ovf\",\"url\":\""
                + url + "\",\"model\":\"fm\",\"binary_data\":false,\"api_key_file\":\"" + key + "\"}}");
        Files.writeString(models.resolve("rm.json"), "{\"route\":{\"mode\":\"remote\",\"name\":\"slow\",\"url\":\""
                + url + "\",\"model\":\"fm\",\"binary_data\":false,\"timeout_ms\":" + (timeoutTest ? 2000 : 30_000) + "}}");
        // the fake journal, counting use per license from its records (as the real one does)
        io.tollgate.metering.UsageJournal counting = new io.tollgate.metering.UsageJournal() {
            @Override
            public long append(UsageEvent event) throws io.tollgate.metering.MeteringException {
                return journal.append(event);
            }

            @Override
            public io.tollgate.metering.JournalStatus status() {
                return journal.status();
            }

            @Override
            public void releaseUpTo(long seq) {
                journal.releaseUpTo(seq);
            }

            @Override
            public List<io.tollgate.metering.UsageRecord> readFrom(long fromSeq, int max) {
                return journal.readFrom(fromSeq, max);
            }

            @Override
            public long licenseQuantity(String licenseId, String meter) {
                return journal.events().stream().filter(e -> e.licenseId().equals(licenseId)
                        && e.meter().equals(meter)).mapToLong(UsageEvent::quantity).sum();
            }
        };
        service = new ServingService(new ServingSettings(2, 256, 2_000, 10_000, 2_000, 50), counting);
        service.bindEngine(new FakeEngine("fake"));
        service.bindEntitlements(licenses);
        service.trackerOpened(Set.of());
        service.watchModelConfigs(models);
    }

    @After
    public void tearDown() throws Exception {
        service.deactivate();
        server.stop(0);
        try (var files = Files.walk(conf)) {
            files.sorted((a, b) -> b.compareTo(a)).forEach(p -> p.toFile().delete());
        }
    }

    private void loadFm() throws Exception {
        service.pluginStarted(FakePluginSource.plugin(1, "fm", "1.0.0", FakeEngine.model(1)));
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (!service.model("fm", null).map(s -> s.state() == ModelState.READY
                && s.accelerator().startsWith("remote") == false).orElse(false)) {
            if (System.nanoTime() > deadline) {
                fail("fm not READY: " + service.model("fm", null));
            }
            Thread.sleep(10);
        }
    }

    private InferenceResponse infer(String model, String version) throws Exception {
        return service.infer(new InferenceRequest(model, version, "r-" + System.nanoTime(), List.of(
                Tensor.ofFloats("image", new long[] {1, 4}, new float[4])), List.of("probs"), "acme", Map.of()))
                .toCompletableFuture().get(10, TimeUnit.SECONDS);
    }

    private InferenceException refusal(String model, String version) throws Exception {
        try {
            InferenceResponse r = infer(model, version);
            fail("served by " + r.accelerator() + " as version '" + r.version() + "'");
            return null;
        } catch (ExecutionException e) {
            return (InferenceException) e.getCause();
        }
    }

    @Test
    public void anOverflowOfAnUnloadedPluginIsLicensedAndQuotaClaimedAsIt() throws Exception {
        licenses.add(InMemoryEntitlements.license("L-fm", "fm", Instant.MAX, 2));
        loadFm();
        infer("fm", null);
        infer("fm", null);
        assertEquals(Reason.PAYMENT_REQUIRED, refusal("fm", null).reason());
        service.unload("fm");
        InferenceException after = refusal("fm", null);
        assertEquals(after.getMessage(), Reason.PAYMENT_REQUIRED, after.reason());
        assertTrue(after.getMessage(), after.getMessage().contains("license L-fm"));
        assertEquals("only the 2 local requests are metered", 2, journal.events().size());

        licenses.add(InMemoryEntitlements.license("L-top", "fm", Instant.MAX, License_UNLIMITED));
        licenses.remove("L-fm");
        InferenceResponse r = infer("fm", null);
        assertEquals("remote:ovf", r.accelerator());
        UsageEvent e = journal.events().get(2);
        assertEquals("the overflow's record names the local license", "L-top", e.licenseId());
        assertEquals("remote:ovf", e.accelerator());
    }

    private static final long License_UNLIMITED = io.tollgate.licensing.License.UNLIMITED;

    @Test
    public void aRouteOnlyModelStillGoesWithoutALocalLicense() throws Exception {
        InferenceResponse r = infer("rm", null);
        assertEquals("remote:slow", r.accelerator());
        assertEquals("", journal.events().get(0).licenseId());
    }

    @Test
    public void anAnswerThisBoxCannotUseIs502NotMeteredAndCountsAsAFailure() throws Exception {
        answer.set(ok("1.0.0", "BYTES", "[\"a\",\"b\"]"));
        InferenceException bytes = refusal("rm", null);
        assertEquals(bytes.getMessage(), Reason.REMOTE_FAILED, bytes.reason());
        assertTrue(bytes.getMessage(), bytes.getMessage().startsWith("route 'slow': ")
                && bytes.getMessage().contains("BYTES"));

        answer.set("{\"model_name\":\"fm\",\"model_version\":\"1.0.0\",\"outputs\":[{\"name\":\"other\","
                + "\"datatype\":\"FP32\",\"shape\":[1],\"data\":[1]}]}");
        InferenceException missing = refusal("rm", null);
        assertEquals(Reason.REMOTE_FAILED, missing.reason());
        assertTrue(missing.getMessage(), missing.getMessage().contains("'probs' is missing"));

        answer.set(ok("1.0.0", "FP32", "[0.5,0.25,1]"));
        assertEquals("3 values for shape [1,2]", Reason.REMOTE_FAILED, refusal("rm", null).reason());

        assertTrue("nothing metered: " + journal.events(), journal.events().isEmpty());
        assertEquals(3, service.routes().stream().filter(s -> s.route().equals("slow")).findFirst().orElseThrow()
                .failures());
    }

    @Test
    public void theRecordedVersionIsOneThisBoxValidated() throws Exception {
        answer.set(ok("../../x\\n2026 FAKE", "FP32", "[0.5,0.25]"));
        InferenceException forged = refusal("rm", null);
        assertEquals(forged.getMessage(), Reason.REMOTE_FAILED, forged.reason());
        answer.set(ok("2.0.0", "FP32", "[0.5,0.25]"));
        InferenceException other = refusal("rm", "1.0.0");
        assertEquals(other.getMessage(), Reason.REMOTE_FAILED, other.reason());
        assertTrue("nothing metered", journal.events().isEmpty());

        assertEquals("2.0.0", infer("rm", "2.0.0").version());
        assertEquals("2.0.0", journal.events().get(0).modelVersion());
    }

    @Test
    public void theRoutesKeyIsNeverRelayed() throws Exception {
        licenses.add(InMemoryEntitlements.license("L-fm", "fm", Instant.MAX, License_UNLIMITED));
        status.set(400);
        answer.set("{\"error\":\"bad key " + KEY + " in header Authorization: Bearer " + KEY + "x\"}");
        InferenceException e = refusal("fm", null);     // no plugin loaded: local-first overflows
        assertEquals(Reason.REMOTE_REJECTED, e.reason());
        assertFalse(e.getMessage(), e.getMessage().contains(KEY));
        assertTrue(e.getMessage(), e.getMessage().contains("bad key [redacted]"));
    }

    @Test
    public void timeoutMsBoundsTheMetadataFetchAndTheCallTogether() throws Exception {
        // metadata 1500 ms (fetching since the route started) + call 1500 ms: each within timeout_ms 2000, together not;
        // a timeout per step would answer after ~3000 ms (or succeed), the bound of both together after ~2000 ms
        delayMs.set(1500);
        long start = System.nanoTime();
        InferenceException e = refusal("rm", null);
        long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
        assertEquals(e.getMessage(), Reason.REMOTE_TIMEOUT, e.reason());
        assertTrue("answered after " + ms + " ms", ms < 2800);
        assertTrue(journal.events().isEmpty());
    }
}
