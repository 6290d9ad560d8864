package io.tollgate.serving.internal;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

import io.tollgate.licensing.License;
import io.tollgate.metering.testing.TestJournal;
import io.tollgate.model.Tensor;
import io.tollgate.serving.InferenceException;
import io.tollgate.serving.InferenceException.Reason;
import io.tollgate.serving.InferenceRequest;
import io.tollgate.serving.ModelState;
import io.tollgate.serving.testing.InMemoryEntitlements;
import io.tollgate.sync.SyncStatus;
import io.tollgate.sync.SyncStatusProvider;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BooleanSupplier;
import java.util.stream.Stream;
import org.junit.After;
import org.junit.Before;
import org.junit.Test;

/**
 * Offline grace and clock roll-back on the request path: the real journal, an in-memory {@code Entitlements}, a
 * {@code SyncStatusProvider} whose backlog age the test sets and a wall clock the test can turn back. Both refusals
 * are 403 with the reason and lift by themselves.
 */
public class OfflineLicenseTest {
    private final FakeEngine engine = new FakeEngine("fake");
    private final InMemoryEntitlements licenses = new InMemoryEntitlements();
    private final AtomicLong offsetMs = new AtomicLong();
    private final AtomicLong unackedAgeMs = new AtomicLong();
    private final SyncStatusProvider sync = () -> new SyncStatus(SyncStatus.LinkState.ONLINE, "tcp://broker:1883", 10,
            5, 5, unackedAgeMs.get(), 0, 0, 0, 0, 0, 1, "");
    private Path dir;
    private TestJournal device;
    private ServingService service;
    /** The journal's wall clock (null: the system's); turned back with the serving clock, as on a real box. */
    private java.time.Clock journalClock;

    @Before
    public void open() throws Exception {
        dir = Files.createTempDirectory("tollgate-offline-licenses");
        start();
    }

    private void start() throws Exception {
        device = TestJournal.open(dir, 64, 200, journalClock);
        service = new ServingService(new ServingSettings(2, 64, 2_000, 10_000, 2_000, 50), device.journal(),
                () -> System.currentTimeMillis() + offsetMs.get());
        service.bindEngine(engine);
        service.bindEntitlements(licenses);
        service.trackerOpened(Set.of());
    }

    private void stop() throws Exception {
        service.deactivate();
        device.close();
        service = null;
        device = null;
    }

    @After
    public void close() throws Exception {
        if (service != null) {
            stop();
        }
        try (Stream<Path> files = Files.walk(dir)) {
            files.sorted((a, b) -> b.compareTo(a)).forEach(p -> p.toFile().delete());
        }
    }

    private static License license(String id, String plugin, Instant expires, long graceDays) {
        Instant now = Instant.now();
        return new License(id, "Test Vendor", "ab".repeat(32), "acme", "", "", plugin, "[0.0.0,999.0.0)",
                now.minusSeconds(7200), expires, "inference", License.UNLIMITED, graceDays, false, now);
    }

    private void load(long id, String model) throws Exception {
        service.pluginStarted(FakePluginSource.plugin(id, model, "1.0.0", FakeEngine.model(id)));
        await(() -> service.model(model, null).map(s -> s.state() == ModelState.READY).orElse(false), model);
    }

    private static void await(BooleanSupplier c, String what) throws InterruptedException {
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (!c.getAsBoolean()) {
            if (System.nanoTime() > end) {
                fail("timed out waiting for " + what);
            }
            Thread.sleep(20);
        }
    }

    /** The status of one request: 200, or the refusal's reason name and message. */
    private String send(String model) throws Exception {
        try {
            service.infer(new InferenceRequest(model, null, "r" + System.nanoTime(), List.of(Tensor.ofFloats("image",
                    new long[] {1, 4}, new float[4])), List.of(), "acme", null)).toCompletableFuture()
                    .get(10, TimeUnit.SECONDS);
            return "200";
        } catch (ExecutionException e) {
            InferenceException ie = (InferenceException) e.getCause();
            return ie.reason() + " " + ie.getMessage();
        }
    }

    @Test
    public void offlineGraceExpiresAndResumesWhenSyncCatchesUp() throws Exception {
        licenses.add(license("L-grace", "fm", Instant.MAX, 2));
        licenses.add(license("L-free", "other", Instant.MAX, License.UNLIMITED));
        load(1, "fm");
        load(2, "other");
        String noUplink = send("fm");
        assertTrue(noUplink, noUplink.startsWith(Reason.NOT_LICENSED + " model 'fm' 1.0.0 is not licensed on this box: "
                + "offline grace expired: license L-grace allows 2 days") && noUplink.contains("no usage uplink"));
        service.bindSync(sync);
        assertEquals("200", send("fm"));
        unackedAgeMs.set(TimeUnit.DAYS.toMillis(3));
        await(() -> {
            try {
                return send("fm").contains("offline grace expired");
            } catch (Exception e) {
                return false;
            }
        }, "grace expired");
        String refused = send("fm");
        assertTrue(refused, refused.contains("oldest usage record the cloud has not acknowledged is 3 days old")
                && refused.contains("serves again, without a restart, once usage sync reaches the cloud: check the "
                + "uplink"));
        assertEquals("a license without a grace limit serves on", "200", send("other"));
        assertEquals("the model stays loaded", ModelState.READY, service.model("fm", null).orElseThrow().state());
        unackedAgeMs.set(0);        // the cloud acknowledged everything
        await(() -> {
            try {
                return send("fm").equals("200");
            } catch (Exception e) {
                return false;
            }
        }, "serving again by itself");
    }

    @Test
    public void aClockTurnedBackStopsTimeLimitedLicensesUntilItCatchesUpAndIsSeenAfterARestart() throws Exception {
        licenses.add(license("L-term", "fm", Instant.now().plusSeconds(86_400 * 30), License.UNLIMITED));
        licenses.add(license("L-free", "other", Instant.MAX, License.UNLIMITED));
        load(1, "fm");
        load(2, "other");
        assertEquals("200", send("fm"));
        Thread.sleep(1_500);                        // the clock has been read at least once
        offsetMs.set(-3_600_000);                   // an hour back
        String back = send("fm");
        assertTrue(back, back.startsWith(Reason.NOT_LICENSED + " model 'fm' 1.0.0 is not licensed on this box: clock "
                + "rolled back: the wall clock reads") && back.contains(" behind ")
                && back.contains("set the system clock to the right time")
                && back.contains("license L-term serves again once the clock is past that time, without a restart"));
        assertTrue("QuotaUsage tells the administration API", service.offlineRefusal(licenses.licenses().stream()
                .filter(l -> l.id().equals("L-term")).findFirst().orElseThrow()).orElse("").startsWith(
                "clock rolled back: "));
        assertTrue(service.offlineRefusal(licenses.licenses().stream().filter(l -> l.id().equals("L-free"))
                .findFirst().orElseThrow()).isEmpty());
        assertEquals("a license that neither expires nor limits grace does not depend on the clock", "200",
                send("other"));
        offsetMs.set(0);
        assertEquals("resumes by itself", "200", send("fm"));

        // the journal remembers the time of its last record: a restart with the clock an hour back sees it at once,
        // although the journal itself writes records at open with the clock turned back (LicenseClockIT found it)
        stop();
        offsetMs.set(-3_600_000);
        journalClock = java.time.Clock.offset(java.time.Clock.systemUTC(), java.time.Duration.ofHours(-1));
        start();
        assertTrue("the journal wrote records at open, with the clock turned back", device.journal().readFrom(
                device.journal().status().lastSeq(), 1).get(0).wallTimeNanos() / 1_000_000
                < System.currentTimeMillis() - 3_000_000);
        load(1, "fm");
        String afterRestart = send("fm");
        assertTrue(afterRestart, afterRestart.contains("clock rolled back") && afterRestart.contains("the last usage record"));
    }
}
