package io.tollgate.it;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.After;
import org.junit.Before;
import org.junit.Test;

/**
 * Issue 3's crash test, on the real distribution as a user runs it: {@code bin/tollgate run} serves
 * fashion-mnist to a few client threads and is killed with SIGKILL at a random moment, again and again
 * on the same data directory; then it runs once more and stops cleanly. The journal must then prove
 * that every request that got a 200 has exactly one usage record (with its batch as quantity), no
 * request id has two, seqs are gapless from 1, every run began with a START record (UNCLEAN_SHUTDOWN
 * after each kill), and {@code bin/tollgate usage verify} accepts the chain and every seal.
 */
public class MeteringCrashIT {
    private static final int KILLS = Integer.getInteger("tollgate.it.crash.iterations", 20);
    private static final int CLIENTS = 3;

    private final Random random = new Random(Long.getLong("tollgate.it.crash.seed", System.nanoTime()));
    private Path tmp;
    private ApplianceProcess appliance;

    @Before
    public void setUp() throws IOException {
        tmp = Files.createTempDirectory("tollgate-crash-it");
        appliance = new ApplianceProcess(tmp.resolve("appliance.log"));
        appliance.copyExamplePlugin(tmp.resolve("plugins"));
    }

    @After
    public void tearDown() {
        if (appliance != null) {
            appliance.killAll();
        }
        ApplianceProcess.deleteTree(tmp);
    }

    /** Served ids (HTTP 200) with the batch each carried; ids of requests that got anything else. */
    private final Map<String, Integer> ok = new ConcurrentHashMap<>();
    private final AtomicLong notOk = new AtomicLong();
    private final AtomicLong clientErrors = new AtomicLong();
    private final List<String> wrongIds = java.util.Collections.synchronizedList(new ArrayList<>());

    @Test
    public void everyAnsweredRequestHasExactlyOneRecordAcrossKills() throws Exception {
        long t0 = System.nanoTime();
        Path data = tmp.resolve("data");
        Path plugins = tmp.resolve("plugins");
        long totalRunMs = 0;
        for (int i = 0; i < KILLS; i++) {
            int port = TollgateExam.freePort();
            Process p = appliance.run(port, data, plugins, null);
            appliance.awaitReady(p, port, 90_000);
            long killAfter = 300 + random.nextInt(1701);
            List<Thread> clients = startClients(port, "k" + i);
            Thread.sleep(killAfter);
            appliance.kill(p);
            stopClients(clients);
            totalRunMs += killAfter;
        }
        // a last run, stopped the way systemd stops it
        int port = TollgateExam.freePort();
        Process p = appliance.run(port, data, plugins, null);
        appliance.awaitReady(p, port, 90_000);
        List<Thread> clients = startClients(port, "final");
        Thread.sleep(500);
        stopClients(clients);
        long stopStart = System.nanoTime();
        appliance.stop(p, 30);
        long stopMs = (System.nanoTime() - stopStart) / 1_000_000;

        assertTrue("answers carrying another request's id: " + wrongIds, wrongIds.isEmpty());
        ApplianceProcess.Result verify = appliance.tool("usage", "verify", "--data", data.toString());
        assertEquals("usage verify: " + verify.out() + verify.err(), 0, verify.exit());
        assertTrue(verify.out(), verify.out().startsWith("OK: "));

        List<JsonNode> records = appliance.exportAll(data);
        long expectedSeq = 1;
        Map<String, Integer> recordsPerId = new HashMap<>();
        Map<String, Long> quantityPerId = new HashMap<>();
        List<String> startKinds = new ArrayList<>();
        long seals = 0;
        for (JsonNode r : records) {
            assertEquals("seqs are gapless", expectedSeq++, r.get("seq").asLong());
            switch (r.get("kind").asText()) {
                case "usage":
                    String id = r.get("request_id").asText();
                    recordsPerId.merge(id, 1, Integer::sum);
                    quantityPerId.put(id, r.get("quantity").asLong());
                    assertEquals("OK", r.get("status").asText());
                    assertEquals("fashion-mnist", r.get("model").asText());
                    break;
                case "seal":
                    seals++;
                    break;
                case "start":
                    startKinds.add(r.get("previous_run").asText());
                    break;
                default:
                    throw new AssertionError("unknown record kind in " + r);
            }
        }
        JsonNode last = records.get(records.size() - 1);
        assertEquals("a clean stop ends with a shutdown seal: " + last, "seal", last.get("kind").asText());
        assertTrue(last.toString(), last.get("seal_reason").asText().toUpperCase().contains("SHUTDOWN"));

        List<String> missing = new ArrayList<>();
        for (Map.Entry<String, Integer> served : ok.entrySet()) {
            Integer n = recordsPerId.get(served.getKey());
            if (n == null) {
                missing.add(served.getKey());
            } else {
                assertEquals("quantity of " + served.getKey(), (long) served.getValue(),
                        (long) quantityPerId.get(served.getKey()));
            }
        }
        assertTrue(missing.size() + " requests got a 200 but have no usage record, e.g. "
                + missing.subList(0, Math.min(10, missing.size())), missing.isEmpty());
        List<String> twice = recordsPerId.entrySet().stream().filter(e -> e.getValue() > 1).map(Map.Entry::getKey)
                .toList();
        assertTrue("request ids with more than one record: " + twice, twice.isEmpty());
        // records of requests whose answer never left the box (killed between append and response) are allowed
        long unanswered = recordsPerId.keySet().stream().filter(id -> !ok.containsKey(id)).count();

        assertEquals("one START per run: " + startKinds, KILLS + 1, startKinds.size());
        assertEquals("NEW_JOURNAL", startKinds.get(0).toUpperCase());
        for (int i = 1; i < startKinds.size(); i++) {
            assertTrue("run " + i + " follows a kill: " + startKinds.get(i),
                    startKinds.get(i).toUpperCase().contains("UNCLEAN"));
        }
        assertTrue("every 200 was counted", ok.size() > KILLS);

        System.out.printf("MeteringCrashIT: %d SIGKILLs + 1 clean stop (%d ms), %d requests answered 200, %d refused or"
                        + " cut off (%d client-side errors), %d records (seq 1..%d): %d usage, %d seals, %d starts; %d"
                        + " usage records of requests killed before their answer left; time under load %d ms, total"
                        + " %d s%n  verify: %s%n",
                KILLS, stopMs, ok.size(), notOk.get(), clientErrors.get(), records.size(), expectedSeq - 1,
                recordsPerId.size(), seals, startKinds.size(), unanswered, totalRunMs,
                (System.nanoTime() - t0) / 1_000_000_000L, verify.out().lines().findFirst().orElse(""));
    }

    private final AtomicBoolean running = new AtomicBoolean();

    private List<Thread> startClients(int port, String run) {
        running.set(true);
        List<Thread> threads = new ArrayList<>();
        for (int c = 0; c < CLIENTS; c++) {
            String prefix = run + "-c" + c + "-";
            long seed = random.nextLong();
            Thread t = new Thread(() -> client(port, prefix, new Random(seed)), "client-" + prefix);
            t.setDaemon(true);
            threads.add(t);
            t.start();
        }
        return threads;
    }

    private void stopClients(List<Thread> threads) throws InterruptedException {
        running.set(false);
        for (Thread t : threads) {
            t.join(15_000);
            assertTrue(t.getName() + " did not stop", !t.isAlive());
        }
    }

    /** Sends requests with unique ids until stopped; records each one that was answered 200. */
    private void client(int port, String prefix, Random r) {
        HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
                .connectTimeout(Duration.ofSeconds(2)).build();
        URI uri = URI.create("http://127.0.0.1:" + port + "/v2/models/fashion-mnist/infer");
        for (int n = 0; running.get(); n++) {
            String id = prefix + n;
            int batch = 1 + r.nextInt(4);
            try {
                HttpResponse<String> resp = http.send(HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(10))
                        .header("Content-Type", "application/json")
                        .POST(HttpRequest.BodyPublishers.ofString(ApplianceProcess.fashionMnistBody(id, batch, 0.5f)))
                        .build(), HttpResponse.BodyHandlers.ofString());
                if (resp.statusCode() == 200) {
                    JsonNode body = Http.JSON.readTree(resp.body());
                    if (!id.equals(body.path("id").asText())) {
                        wrongIds.add(id + " answered as " + body.path("id"));
                    }
                    ok.put(id, batch);
                } else {
                    notOk.incrementAndGet();
                }
            } catch (IOException e) {
                clientErrors.incrementAndGet();   // the appliance was killed under this request
                notOk.incrementAndGet();
                if (running.get()) {
                    sleepQuietly(20);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }

    private static void sleepQuietly(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
