package io.tollgate.it;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.io.OutputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.After;
import org.junit.Assume;
import org.junit.Before;
import org.junit.Test;

/**
 * Issue 8, a full disk: the appliance's journal folder ({@code data/usage}, a link) on an 8 MiB tmpfs that another writer fills. Metered requests
 * are answered 503 "metering unavailable: disk full on ..." at once (never a hang: every request has a 15 s client
 * timeout), /metrics keeps the journal's real values, and service resumes by itself once the filler is deleted; a
 * restart with the disk still full starts, answers 503 and opens the journal by itself once there is room. No
 * served request lacks its record, no refused one has one, and {@code usage verify} accepts the journal.
 *
 * <p>Needs root (or CAP_SYS_ADMIN) to mount the tmpfs; skipped, saying so, where {@code mount} fails. Without the
 * fix the JVM takes a SIGBUS on a mapped journal page: the serving thread dies and requests hang.
 */
public class DiskFullIT {
    private static final long RESERVE = 2L << 20;
    private static final Duration CLIENT_TIMEOUT = Duration.ofSeconds(15);

    private Path tmp;
    private Path mnt;
    private boolean mounted;
    private ApplianceProcess appliance;
    private final Set<String> served = ConcurrentHashMap.newKeySet();
    private final Set<String> refused = ConcurrentHashMap.newKeySet();
    private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(5)).build();

    @Before
    public void setUp() throws Exception {
        tmp = Files.createTempDirectory("tollgate-diskfull-it");
        mnt = Files.createDirectories(tmp.resolve("tmpfs"));
        int rc = run("mount", "-t", "tmpfs", "-o", "size=8m", "tmpfs", mnt.toString());
        Assume.assumeTrue("cannot mount a tmpfs (mount exit " + rc + "; needs root or CAP_SYS_ADMIN): the full-disk "
                + "case needs a small real file system", rc == 0);
        mounted = true;
        // the journal's folder on the small file system (the rest of data/, e.g. Felix's cache, stays on the disk)
        Files.createDirectories(mnt.resolve("usage"));
        Files.createDirectories(tmp.resolve("data"));
        Files.createSymbolicLink(tmp.resolve("data").resolve("usage"), mnt.resolve("usage"));
        appliance = new ApplianceProcess(tmp.resolve("appliance.log"));
        appliance.copyExamplePlugin(tmp.resolve("plugins"));
        Path conf = appliance.copyConf(tmp.resolve("conf"));
        Files.writeString(conf.resolve("io.tollgate.metering.journal.cfg"), "\ndisk.reserve.bytes=" + RESERVE + "\n",
                StandardOpenOption.CREATE, StandardOpenOption.APPEND);
    }

    @After
    public void tearDown() throws Exception {
        if (appliance != null) {
            appliance.killAll();
            ApplianceProcess.keepLogs(tmp, Path.of("target", "it-logs", "DiskFullIT"));
        }
        if (mounted && run("umount", mnt.toString()) != 0) {
            run("umount", "-l", mnt.toString());   // still busy: detach now, freed once unused
        }
        ApplianceProcess.deleteTree(tmp);
    }

    private static int run(String... command) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        p.getInputStream().readAllBytes();
        return p.waitFor(30, TimeUnit.SECONDS) ? p.exitValue() : -1;
    }

    @Test
    public void aFullDiskAnswers503AndServiceResumesWhenSpaceReturns() throws Exception {
        Path data = tmp.resolve("data");
        Path plugins = tmp.resolve("plugins");
        Path conf = tmp.resolve("conf");
        Path filler = mnt.resolve("filler");
        int port = TollgateExam.freePort();
        Process p = appliance.run(port, data, plugins, conf);
        appliance.awaitReady(p, port, 90_000);
        for (int i = 0; i < 20; i++) {
            expect(200, infer(port, "before-" + i));
        }

        // another writer fills the file system
        fill(filler);
        long filledAt = System.nanoTime();
        HttpResponse<String> first = null;
        for (int i = 0; first == null; i++) {
            HttpResponse<String> r = infer(port, "filling-" + i);   // 200 until the next poll: pages were pretouched
            if (r.statusCode() != 200) {
                first = r;
            }
            assertTrue("still served 5 s after the disk filled", System.nanoTime() - filledAt
                    < TimeUnit.SECONDS.toNanos(5));
        }
        long refusedAfterMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - filledAt);
        expect(503, first);
        String error = Http.JSON.readTree(first.body()).get("error").asText();
        assertTrue(error, error.startsWith("metering unavailable: disk full on ") && error.contains("usage ("));
        assertTrue(error, error.contains(" bytes free, needs " + RESERVE + ")"));
        assertTrue(error, error.endsWith("the request was not served"));
        for (int i = 0; i < 200; i++) {
            expect(503, infer(port, "full-" + i));   // never a hang, never a 500
        }
        assertEquals(1, metric(port, "tollgate_usage_refusing"));
        long lastSeq = metric(port, "tollgate_usage_last_seq");
        assertTrue("the gauges keep the journal's real values: last seq " + lastSeq, lastSeq > 20);
        assertTrue(metric(port, "tollgate_usage_disk_bytes") > 0);
        appliance.awaitLogLine("ERROR", "Disk full under the usage journal", 5_000);   // the readiness check's state
        assertReadiness(port, false);

        // space returns
        Files.delete(filler);
        long freedAt = System.nanoTime();
        long resumedMs = awaitServed(port, "freed", 10_000, freedAt);
        for (int i = 0; i < 50; i++) {
            expect(200, infer(port, "resumed-" + i));
        }
        assertEquals(0, metric(port, "tollgate_usage_refusing"));
        assertReadiness(port, true);

        // a restart with the disk still full: starts, answers 503, opens the journal once there is room
        fill(filler);
        awaitRefused(port, 5_000);
        int exit = appliance.stop(p, 60);
        assertTrue("exit code after SIGTERM is 0 or 143, not " + exit, exit == 0 || exit == 143);
        port = TollgateExam.freePort();
        p = appliance.run(port, data, plugins, conf);
        long restartedAt = System.nanoTime();
        HttpResponse<String> r = awaitAnswer(p, port, 90_000);
        expect(503, r);
        String notOpen = Http.JSON.readTree(r.body()).get("error").asText();
        assertTrue(notOpen, notOpen.startsWith("metering unavailable: the usage journal has not opened: disk full on "));
        System.out.printf("DiskFullIT: first answer %d ms after the restart on a full disk: 503 %s%n",
                TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - restartedAt), notOpen);
        assertReadiness(port, false);
        Files.delete(filler);
        long reopenedMs = awaitServed(port, "reopened", 10_000, System.nanoTime());
        assertReadiness(port, true);
        exit = appliance.stop(p, 60);
        assertTrue("exit code after SIGTERM is 0 or 143, not " + exit, exit == 0 || exit == 143);

        ApplianceProcess.Result verify = appliance.tool("usage", "verify", "--data", data.toString());
        assertEquals("usage verify: " + verify.out() + verify.err(), 0, verify.exit());
        Map<String, Integer> recordsPerId = new HashMap<>();
        for (JsonNode rec : appliance.exportAll(data)) {
            if ("usage".equals(rec.get("kind").asText())) {
                recordsPerId.merge(rec.get("request_id").asText(), 1, Integer::sum);
            }
        }
        for (String id : served) {
            assertEquals("records of served request " + id, Integer.valueOf(1), recordsPerId.get(id));
        }
        for (String id : refused) {
            assertEquals("refused request " + id + " was metered", null, recordsPerId.get(id));
        }
        assertEquals("no record without a served request", served.size(), recordsPerId.size());
        System.out.printf("DiskFullIT: refused %d ms after the disk filled; resumed %d ms after the filler was "
                + "deleted; after a restart on the full disk, served %d ms after space returned; %d served, %d refused;"
                + " %s%n", refusedAfterMs, resumedMs, reopenedMs, served.size(), refused.size(),
                verify.out().lines().findFirst().orElse(""));
    }

    /** Readiness as /v2/health/ready reports it, once the endpoint aggregates the checks. */
    private void assertReadiness(int port, boolean ready) throws Exception {
        Http.Response r = new Http(port).get("/v2/health/ready");
        assertEquals(r.body(), ready ? 200 : 503, r.status());
        JsonNode metering = null;
        for (JsonNode c : Http.JSON.readTree(r.body()).path("checks")) {
            if ("metering".equals(c.path("name").asText())) {
                metering = c;
            }
        }
        assertTrue("no metering check in " + r.body(), metering != null);
        assertEquals(r.body(), ready, metering.path("ready").asBoolean());
        assertTrue(r.body(), metering.path("required").asBoolean());
        if (!ready) {
            assertTrue(r.body(), metering.path("reason").asText().contains("disk full on "));
        }
    }

    private long awaitServed(int port, String prefix, long timeoutMs, long since) throws Exception {
        for (int i = 0; ; i++) {
            HttpResponse<String> r = infer(port, prefix + "-" + i);
            if (r.statusCode() == 200) {
                return TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - since);
            }
            expect(503, r);
            assertTrue("not served " + timeoutMs + " ms after space returned: " + r.body(),
                    System.nanoTime() - since < TimeUnit.MILLISECONDS.toNanos(timeoutMs));
            Thread.sleep(20);
        }
    }

    private void awaitRefused(int port, long timeoutMs) throws Exception {
        long t0 = System.nanoTime();
        for (int i = 0; ; i++) {
            HttpResponse<String> r = infer(port, "refill-" + i);
            if (r.statusCode() == 503) {
                return;
            }
            expect(200, r);
            assertTrue("not refused after the refill", System.nanoTime() - t0 < TimeUnit.MILLISECONDS.toNanos(timeoutMs));
        }
    }

    /** The first infer answer of a starting appliance (no port yet: retried); fails when it exits. */
    private HttpResponse<String> awaitAnswer(Process p, int port, long timeoutMs) throws Exception {
        long end = System.currentTimeMillis() + timeoutMs;
        for (int i = 0; System.currentTimeMillis() < end; i++) {
            assertTrue("the appliance exited with " + (p.isAlive() ? 0 : p.exitValue()) + ":\n" + appliance.tail(60),
                    p.isAlive());
            try {
                HttpResponse<String> r = infer(port, "restart-" + i);
                if (r.statusCode() == 200 || r.statusCode() == 503 && r.body().contains("metering unavailable")) {
                    return r;
                }
                refused.remove("restart-" + i);   // e.g. 404 while the model loads: not a metering refusal
            } catch (IOException notYet) {
                // no port yet
            }
            Thread.sleep(200);
        }
        throw new AssertionError("no infer answer within " + timeoutMs + " ms of a restart on a full disk; log:\n"
                + appliance.tail(60));
    }

    private void expect(int status, HttpResponse<String> r) {
        assertEquals(r.body(), status, r.statusCode());
    }

    /** One request with id {@code id}; its outcome goes to {@link #served} or {@link #refused}. */
    private HttpResponse<String> infer(int port, String id) throws IOException, InterruptedException {
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port
                        + "/v2/models/fashion-mnist/infer")).timeout(CLIENT_TIMEOUT)
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(ApplianceProcess.fashionMnistBody(id, 1, 0.25f)))
                .build(), HttpResponse.BodyHandlers.ofString());
        if (r.statusCode() == 200) {
            served.add(id);
        } else {
            refused.add(id);
        }
        return r;
    }

    /** Writes {@code filler} until the file system has no byte left. */
    private static void fill(Path filler) throws IOException {
        byte[] block = new byte[64 * 1024];
        try (OutputStream out = Files.newOutputStream(filler, StandardOpenOption.CREATE, StandardOpenOption.APPEND)) {
            while (true) {
                out.write(block);
            }
        } catch (IOException full) {
            // no space left on device
        }
        byte[] small = new byte[512];
        while (true) {
            try (OutputStream out = Files.newOutputStream(filler, StandardOpenOption.APPEND)) {
                out.write(small);
            } catch (IOException full) {
                return;
            }
        }
    }

    private static long metric(int port, String series) throws Exception {
        String text = new Http(port).get("/metrics").body();
        Matcher m = Pattern.compile("^" + Pattern.quote(series) + " (\\S+)$", Pattern.MULTILINE).matcher(text);
        if (!m.find()) {
            throw new AssertionError("no " + series + " in /metrics:\n" + text);
        }
        return (long) Double.parseDouble(m.group(1));
    }
}
