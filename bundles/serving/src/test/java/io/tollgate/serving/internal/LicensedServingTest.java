package io.tollgate.serving.internal;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

import io.tollgate.licensing.License;
import io.tollgate.metering.UsageEvent;
import io.tollgate.metering.UsageJournal;
import io.tollgate.metering.UsageRecord;
import io.tollgate.metering.testing.TestJournal;
import io.tollgate.model.Tensor;
import io.tollgate.serving.InferenceException;
import io.tollgate.serving.InferenceException.Reason;
import io.tollgate.serving.InferenceRequest;
import io.tollgate.serving.InferenceResponse;
import io.tollgate.serving.ModelState;
import io.tollgate.serving.testing.InMemoryEntitlements;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import java.util.stream.Stream;
import org.junit.After;
import org.junit.Before;
import org.junit.Test;

/**
 * The request path under licenses: ServingService with the real usage journal (Chronicle files, real seals) and an
 * in-memory {@code Entitlements} (our own interface). Quotas count down from the journal and survive a restart and a
 * deleted checkpoint; the request that would cross a quota gets 402 naming the license; a top-up lifts it at once;
 * expiry mid-traffic refuses new requests, lets the ones in flight finish, then unloads the model.
 */
public class LicensedServingTest {
    private final FakeEngine engine = new FakeEngine("fake");
    private final InMemoryEntitlements licenses = new InMemoryEntitlements();
    private Path dir;
    private TestJournal device;
    private UsageJournal journal;
    private ServingService service;

    @Before
    public void open() throws Exception {
        dir = Files.createTempDirectory("tollgate-licensed-serving");
        startAll();
    }

    private void startAll() throws Exception {
        device = TestJournal.open(dir, 64, 200, null);
        journal = device.journal();
        service = new ServingService(new ServingSettings(4, 256, 5_000, 10_000, 2_000, 50), journal);
        service.bindEngine(engine);
        service.bindEntitlements(licenses);
        service.trackerOpened(Set.of());
    }

    private void stopAll() throws Exception {
        service.deactivate();
        service = null;
        device.close();
        device = null;
    }

    @After
    public void close() throws Exception {
        if (service != null) {
            service.deactivate();
        }
        if (device != null) {
            device.close();
        }
        try (Stream<Path> files = Files.walk(dir)) {
            files.sorted((a, b) -> b.compareTo(a)).forEach(p -> p.toFile().delete());
        }
    }

    private void load(long bundleId, String model) throws Exception {
        service.pluginStarted(FakePluginSource.plugin(bundleId, model, "1.0.0", FakeEngine.model(bundleId)));
        await(() -> service.model(model, null).map(s -> s.state() == ModelState.READY).orElse(false),
                model + " READY");
    }

    private static void await(BooleanSupplier condition, String what) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                fail("timed out waiting for " + what);
            }
            Thread.sleep(5);
        }
    }

    private CompletableFuture<InferenceResponse> send(String model, int batch, String id) {
        return service.infer(new InferenceRequest(model, null, id, List.of(
                Tensor.ofFloats("image", new long[] {batch, 4}, new float[batch * 4])), List.of(), "acme", null))
                .toCompletableFuture();
    }

    private InferenceResponse infer(String model, int batch) throws Exception {
        return send(model, batch, "r-" + System.nanoTime()).get(10, TimeUnit.SECONDS);
    }

    private InferenceException refusal(String model, int batch) throws Exception {
        try {
            infer(model, batch);
            fail("served " + model + " batch " + batch);
            return null;
        } catch (ExecutionException e) {
            return (InferenceException) e.getCause();
        }
    }

    /** Quantity per license id in the journal's USAGE records. */
    private Map<String, Long> journalTotals() throws Exception {
        Map<String, Long> out = new HashMap<>();
        for (UsageRecord r : journal.readFrom(1, Integer.MAX_VALUE)) {
            if (r.kind() == UsageRecord.Kind.USAGE) {
                UsageEvent e = TestJournal.usageOf(r.canonicalBytes());
                out.merge(e.licenseId(), e.quantity(), Long::sum);
            }
        }
        return out;
    }

    @Test
    public void quotaCountsDownThe402NamesTheLicenseOtherModelsServeAndATopUpLiftsIt() throws Exception {
        licenses.add(InMemoryEntitlements.license("L-quota", "fm", Instant.MAX, 10));
        licenses.add(InMemoryEntitlements.license("L-free", "other", Instant.MAX, License.UNLIMITED));
        load(1, "fm");
        load(2, "other");

        infer("fm", 3);
        infer("fm", 3);
        infer("fm", 3);
        assertEquals(9, service.used("L-quota"));
        InferenceException crossing = refusal("fm", 3);   // 9 + 3 > 10: refused whole, never served unpaid
        assertEquals(Reason.PAYMENT_REQUIRED, crossing.reason());
        assertTrue(crossing.getMessage(), crossing.getMessage().contains("license L-quota")
                && crossing.getMessage().contains("1 of 10 inference left")
                && crossing.getMessage().contains("this request needs 3"));
        infer("fm", 1);                                    // exactly the last unit
        InferenceException exhausted = refusal("fm", 1);
        assertEquals(Reason.PAYMENT_REQUIRED, exhausted.reason());
        assertTrue(exhausted.getMessage(), exhausted.getMessage().startsWith("quota exhausted: license L-quota")
                && exhausted.getMessage().contains("0 of 10"));
        for (int i = 0; i < 5; i++) {
            infer("other", 8);                             // other models keep serving
        }
        assertEquals(Map.of("L-quota", 10L, "L-free", 40L), journalTotals());

        // a top-up: a new license for the same plugin, issued later, arriving while running
        License topUp = new License("L-topup", "Test Vendor", "ab".repeat(32), "acme", "", "", "fm",
                "[0.0.0,999.0.0)", Instant.now().minusSeconds(60), Instant.MAX, "inference", 100, License.UNLIMITED,
                false, Instant.now().plusSeconds(1));
        licenses.add(topUp);
        InferenceResponse r = infer("fm", 5);
        assertEquals("fm", r.model());
        assertEquals(5L, (long) journalTotals().get("L-topup"));
        assertEquals(5, service.used("L-topup"));
        assertEquals(10, service.used("L-quota"));
    }

    @Test
    public void concurrentRequestsNeverClaimMoreThanTheQuota() throws Exception {
        licenses.add(InMemoryEntitlements.license("L-race", "fm", Instant.MAX, 100));
        load(1, "fm");
        AtomicInteger served = new AtomicInteger();
        AtomicInteger paymentRequired = new AtomicInteger();
        List<Throwable> other = java.util.Collections.synchronizedList(new ArrayList<>());
        List<Thread> callers = new ArrayList<>();
        for (int t = 0; t < 8; t++) {
            Thread c = new Thread(() -> {
                for (int i = 0; i < 40; i++) {
                    try {
                        infer("fm", 1);
                        served.incrementAndGet();
                    } catch (ExecutionException e) {
                        if (e.getCause() instanceof InferenceException ie && ie.reason() == Reason.PAYMENT_REQUIRED) {
                            paymentRequired.incrementAndGet();
                        } else {
                            other.add(e);
                        }
                    } catch (Exception e) {
                        other.add(e);
                    }
                }
            });
            callers.add(c);
            c.start();
        }
        for (Thread c : callers) {
            c.join(60_000);
        }
        assertTrue(other.toString(), other.isEmpty());
        assertEquals(100, served.get());
        assertEquals(220, paymentRequired.get());
        assertEquals(100L, (long) journalTotals().get("L-race"));
    }

    @Test
    public void aFailedRunGivesItsClaimBack() throws Exception {
        licenses.add(InMemoryEntitlements.license("L-q", "fm", Instant.MAX, 4));
        load(1, "fm");
        FakeModel model = engine.models.get(0);
        model.failRuns = "boom";
        assertEquals(Reason.ENGINE_FAILURE, refusal("fm", 4).reason());
        model.failRuns = null;
        infer("fm", 4);                                  // the failed run cost nothing
        assertEquals(Reason.PAYMENT_REQUIRED, refusal("fm", 1).reason());
    }

    @Test
    public void theCountSurvivesARestartAndADeletedCheckpoint() throws Exception {
        licenses.add(InMemoryEntitlements.license("L-keep", "fm", Instant.MAX, 6));
        load(1, "fm");
        infer("fm", 4);
        stopAll();
        startAll();
        load(1, "fm");          // a reinstalled plugin: same license, same device
        assertEquals(4, service.used("L-keep"));
        infer("fm", 2);
        InferenceException e = refusal("fm", 1);
        assertEquals(Reason.PAYMENT_REQUIRED, e.reason());
        assertTrue(e.getMessage(), e.getMessage().contains("0 of 6"));
        stopAll();
        // the only file the count is cached in: deleting it changes nothing while the journal holds the records
        Path checkpoint = dir.resolve("usage.license-totals");
        assertTrue("the checkpoint beside the journal", Files.exists(checkpoint));
        Files.delete(checkpoint);
        startAll();
        load(1, "fm");
        assertEquals(Reason.PAYMENT_REQUIRED, refusal("fm", 1).reason());
        assertEquals(6, service.used("L-keep"));
    }

    @Test
    public void noLicenseIs403WithTheReasonAndNoLicensingServiceServesNothing() throws Exception {
        service.pluginStarted(FakePluginSource.plugin(1, "fm", "1.0.0", FakeEngine.model(1)));
        await(() -> service.model("fm", null).map(s -> s.state() == ModelState.FAILED).orElse(false),
                "fm loaded, then FAILED for want of a license");
        assertTrue(service.model("fm", null).orElseThrow().error().contains("no license"));
        InferenceException e = refusal("fm", 1);
        assertEquals(Reason.NOT_LICENSED, e.reason());
        assertTrue(e.getMessage(), e.getMessage().contains("no license: no license on this box covers plugin fm"));

        licenses.add(InMemoryEntitlements.license("L1", "fm", Instant.MAX, License.UNLIMITED));
        await(() -> service.model("fm", null).map(s -> s.state() == ModelState.READY).orElse(false), "fm again");
        infer("fm", 1);

        service.unbindEntitlements(licenses);
        assertFalse(service.ready());
        assertTrue(service.notReadyReason().orElse(""), service.notReadyReason().orElse("")
                .contains("no licensing service"));
        InferenceException none = refusal("fm", 1);
        assertEquals(Reason.MODEL_NOT_READY, none.reason());
        assertTrue(none.getMessage(), none.getMessage().contains("no licensing service"));
        service.bindEntitlements(licenses);
        assertTrue(service.ready());
        infer("fm", 1);
    }

    @Test
    public void expiryMidTrafficRefusesNewRequestsFinishesInFlightOnesThenUnloads() throws Exception {
        // whole milliseconds: the request path compares epoch milliseconds
        Instant expires = Instant.now().plusMillis(1500).truncatedTo(java.time.temporal.ChronoUnit.MILLIS);
        licenses.add(InMemoryEntitlements.license("L-exp", "fm", expires, License.UNLIMITED));
        load(1, "fm");
        FakeModel model = engine.models.get(0);
        CountDownLatch gate = new CountDownLatch(1);
        model.runStarted = new CountDownLatch(1);
        model.runGate = gate;
        List<CompletableFuture<InferenceResponse>> inFlight = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            // admitted before the expiry: held in the engine, or queued behind it (the model's one instance, issue 11)
            inFlight.add(send("fm", 1, "in-flight-" + i));
        }
        assertTrue(model.runStarted.await(10, TimeUnit.SECONDS));
        await(() -> service.model("fm", null).map(s -> s.inFlight() == 3).orElse(false), "3 requests in flight");
        await(() -> Instant.now().isAfter(expires), "the expiry");
        // new requests: refused with the reason at once, even before the watch unloads the model
        InferenceException e = refusal("fm", 1);
        assertEquals(Reason.NOT_LICENSED, e.reason());
        assertTrue(e.getMessage(), e.getMessage().contains("expired: license L-exp"));
        await(() -> service.model("fm", null).map(s -> s.state() == ModelState.FAILED).orElse(false),
                "fm FAILED after the expiry");
        assertEquals("the model waits for its requests in flight", 0, model.closes.get());
        gate.countDown();
        for (CompletableFuture<InferenceResponse> f : inFlight) {
            assertEquals("fm", f.get(10, TimeUnit.SECONDS).model());     // 0 failed in-flight requests
        }
        await(() -> model.closes.get() == 1, "the model closed once its requests finished");
        assertEquals(0, model.runsAfterClose.get());
        assertEquals(3L, (long) journalTotals().get("L-exp"));
        InferenceException after = refusal("fm", 1);
        assertEquals("after the unload, still the reason", Reason.NOT_LICENSED, after.reason());
        assertTrue(after.getMessage(), after.getMessage().contains("expired: license L-exp"));

        // a renewal arrives: the model loads again by itself
        licenses.add(InMemoryEntitlements.license("L-renewed", "fm", Instant.MAX, License.UNLIMITED));
        await(() -> service.model("fm", null).map(s -> s.state() == ModelState.READY).orElse(false),
                "fm READY under the renewal");
        assertEquals("fm", infer("fm", 1).model());
    }

    @Test
    public void aRevocationWithTheLauncherRefreshingThePluginKeeps403WithTheReasonThroughout() throws Exception {
        licenses.add(InMemoryEntitlements.license("L-rev", "fm", Instant.MAX, License.UNLIMITED));
        FakePluginSource fm = FakePluginSource.plugin(1, "fm", "1.0.0", FakeEngine.model(1));
        service.pluginStarted(fm);
        await(() -> service.model("fm", null).map(s -> s.state() == ModelState.READY).orElse(false), "fm READY");
        infer("fm", 1);
        licenses.revoke("L-rev");
        // the launcher hears of it too and refreshes the plugin: stopped, then INSTALLED and refused by its hook
        service.pluginStopped(1);
        InferenceException during = refusal("fm", 1);
        assertEquals(during.getMessage(), Reason.NOT_LICENSED, during.reason());
        assertTrue(during.getMessage(), during.getMessage().contains("revoked: license L-rev"));
        FakePluginSource refused = FakePluginSource.plugin(1, "fm", "1.0.0", FakeEngine.model(1));
        refused.refusal = java.util.Optional.of("revoked: license L-rev was revoked by its vendor");
        refused.refusedByLicense = true;        // as the plugin guard says of a licensing refusal
        service.pluginInstalled(refused);
        await(() -> service.model("fm", null).map(s -> s.error().contains("is refused")).orElse(false),
                "the refused listing");
        InferenceException after = refusal("fm", 1);
        assertEquals(after.getMessage(), Reason.NOT_LICENSED, after.reason());
        assertTrue(after.getMessage(), after.getMessage().contains("revoked: license L-rev"));
        await(() -> engine.models.get(0).closes.get() == 1, "the model closed");
    }

    /**
     * Issue 11 (LicenseQuotaIT.expiryMidTraffic's rare 404): at every step of the launcher's refresh of a plugin whose
     * license ended (stopped, INSTALLED and refused by its hook, then started again under a renewal), a request routed
     * at that instant finds the model: refused as unlicensed (403 with the reason), loading, or serving; never absent
     * (404 "not installed"). The repository's change listener routes a request after each single change, on the
     * changing thread, so every state a reader could see is checked, not a sample of them.
     */
    @Test
    public void theLaunchersRefreshOfAnUnlicensedPluginNeverLeavesItsModelAbsent() throws Exception {
        licenses.add(InMemoryEntitlements.license("L-rev", "fm", Instant.MAX, License.UNLIMITED));
        service.pluginStarted(FakePluginSource.plugin(1, "fm", "1.0.0", FakeEngine.model(1)));
        await(() -> service.model("fm", null).map(s -> s.state() == ModelState.READY).orElse(false), "fm READY");
        List<String> seen = java.util.Collections.synchronizedList(new ArrayList<>());
        service.repository().onChange(() -> {
            try {
                service.repository().route("fm", null);
                seen.add("READY");
            } catch (InferenceException e) {
                seen.add(e.reason() + ": " + e.getMessage());
            }
        });
        licenses.revoke("L-rev");
        await(() -> service.model("fm", null).map(s -> s.state() == ModelState.FAILED).orElse(false), "fm FAILED");
        service.pluginStopped(1);
        FakePluginSource refused = FakePluginSource.plugin(1, "fm", "1.0.0", FakeEngine.model(1));
        refused.refusal = java.util.Optional.of("revoked: license L-rev was revoked by its vendor");
        refused.refusedByLicense = true;
        service.pluginInstalled(refused);
        await(() -> service.model("fm", null).map(s -> s.error().contains("is refused")).orElse(false),
                "the refused listing");
        await(() -> engine.models.get(0).closes.get() == 1, "the model closed");
        InferenceException after = refusal("fm", 1);
        assertEquals(after.getMessage(), Reason.NOT_LICENSED, after.reason());
        assertTrue(after.getMessage(), after.getMessage().contains("revoked: license L-rev"));
        List<String> untilRefused = List.copyOf(seen);
        assertFalse("no change before the refusal was seen: " + untilRefused, untilRefused.isEmpty());
        for (String s : untilRefused) {
            assertTrue("a reader during the refresh saw: " + s + " (all: " + untilRefused + ")",
                    s.startsWith(Reason.NOT_LICENSED + ": ") && s.contains("revoked: license L-rev"));
        }

        // a renewal: the launcher resolves and starts the plugin again; it loads, never absent on the way
        seen.clear();
        licenses.add(InMemoryEntitlements.license("L-renewed", "fm", Instant.MAX, License.UNLIMITED));
        service.pluginStarted(FakePluginSource.plugin(1, "fm", "1.0.0", FakeEngine.model(1)));
        await(() -> service.model("fm", null).map(s -> s.state() == ModelState.READY).orElse(false),
                "fm READY under the renewal");
        assertEquals("fm", infer("fm", 1).model());
        List<String> reloading = List.copyOf(seen);
        assertFalse(reloading.isEmpty());
        for (String s : reloading) {
            assertFalse("a reader during the reload saw: " + s + " (all: " + reloading + ")",
                    s.startsWith(Reason.MODEL_NOT_FOUND.toString()));
        }
        assertEquals("READY", reloading.get(reloading.size() - 1));
    }
}
