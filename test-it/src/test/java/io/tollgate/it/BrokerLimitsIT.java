package io.tollgate.it;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.After;
import org.junit.Before;
import org.junit.Rule;
import org.junit.Test;
import org.junit.rules.TestName;

/**
 * Issue 8, "Fail safe", end to end with the real distribution, a real mosquitto and the real billing service: a broker
 * whose maximum packet size (4 KiB) is below a batch's size, and a data folder copied to a second box.
 */
public class BrokerLimitsIT {
    private static final long DRAIN_TIMEOUT_MS = 120_000;

    @Rule
    public final TestName testName = new TestName();

    private Path tmp;
    private Path plugins;
    private Path billingLog;
    private ApplianceProcess appliance;
    private Mosquitto broker;
    private BillingProcess billing;

    @Before
    public void setUp() throws Exception {
        tmp = Files.createTempDirectory("tollgate-limits-it");
        plugins = tmp.resolve("plugins");
        billingLog = tmp.resolve("billing.log");
        appliance = new ApplianceProcess(tmp.resolve("appliance.log"));
        appliance.copyExamplePlugin(plugins);
    }

    @After
    public void tearDown() throws Exception {
        appliance.killAll();
        if (billing != null) {
            billing.killQuietly();
        }
        if (broker != null) {
            broker.stop();
        }
        ApplianceProcess.keepLogs(tmp, Path.of("target", "limits-it-logs", testName.getMethodName()));
        if (broker != null) {
            broker.close();
        }
        ApplianceProcess.deleteTree(tmp);
    }

    /**
     * Before: every publish got the device disconnected, it reconnected ~3×/s and re-sent the same batch forever,
     * nothing was billed and nothing said why. Now: every answered request is billed exactly once, the device stays on
     * one connection, and /metrics and `sync status` say that batches are split to fit the broker's limit.
     */
    @Test
    public void aBrokerMaximumPacketSizeOf4KiBStillBillsEveryRequestOnce() throws Exception {
        broker = Mosquitto.start(tmp, "max_packet_size 4096");
        Path data = tmp.resolve("data");
        Path billingData = tmp.resolve("billing");
        String device = appliance.initDevice(data);
        BillingProcess.register(device, data.resolve("device/device.pub.pem"), billingData, null, billingLog);
        billing = new BillingProcess("h2", broker.uri(), billingData, null, billingLog).start();
        int port = TollgateExam.freePort();
        // batches wait up to 3 s, so each holds hundreds of records: far more than 4 KiB before the split
        Process dev = appliance.run(port, data, plugins, syncConf(3000), Map.of(), "--mqtt", broker.uri(),
                "--cloud-key", billing.cloudKey().toString());
        appliance.awaitReady(dev, port, 90_000);

        SyncBillingIT.Load load = new SyncBillingIT.Load(port);
        load.runFor("limit", 6000);
        assertTrue("requests were answered: " + load.ok.size(), load.ok.size() > 50);
        long drainMs = awaitEveryRequestBilledOnce(device, load.ok);

        String metrics = new Http(port).get("/metrics").body();
        assertEquals(metrics, 4096, metric(metrics, "tollgate_sync_broker_max_packet_bytes"));
        assertEquals(1, metric(metrics, "tollgate_sync_size_limited{reason=\"broker maximum packet size 4096 bytes: "
                + "batches are split to fit it\"}"));
        assertEquals(0, metric(metrics, "tollgate_sync_disconnects_after_publish_total"));
        assertEquals("one connection, no reconnect loop", 1, metric(metrics, "tollgate_sync_connects_total"));

        assertCleanExit(appliance.stop(dev, 60));
        ApplianceProcess.Result status = appliance.tool("sync", "status", "--data", data.toString());
        assertEquals(status.err(), 0, status.exit());
        assertTrue(status.out(), status.out().contains("uplink:         broker maximum packet size 4096 bytes: "
                + "batches are split to fit it"));
        String counters = billing.counters().toString();
        broker.stop(); // mosquitto's stdout is block-buffered: its log is complete once it exits
        String clientId = "tollgate-" + device;
        String log = broker.log();
        int connects = count(log, "New client connected from .* as " + Pattern.quote(clientId) + " ");
        assertEquals("connections of " + clientId + " in the broker's log", 1, connects);
        assertTrue("the broker never dropped the device for its packet size",
                !log.contains("Client " + clientId + " disconnected due to malformed packet")
                        && !log.contains("Client " + clientId + " disconnected due to protocol error"));
        System.out.printf("BrokerLimitsIT max_packet_size 4096: %d requests answered, all billed once %d ms after the "
                + "load stopped; 1 connection; billing counters %s%n", load.ok.size(), drainMs, counters);
    }

    /**
     * Cloned identities, cloud side: a data folder copied to a second box gives both boxes one device id and key.
     * The billing service flags the device (device list and API), bills one chain only, never both silently.
     */
    @Test
    public void aCopiedDataFolderIsFlaggedAsAClonedIdentity() throws Exception {
        broker = Mosquitto.start(tmp);
        Path data = tmp.resolve("data");
        Path billingData = tmp.resolve("billing");
        String device = appliance.initDevice(data);
        BillingProcess.register(device, data.resolve("device/device.pub.pem"), billingData, null, billingLog);
        billing = new BillingProcess("h2", broker.uri(), billingData, null, billingLog).start();
        Path conf = syncConf(200);
        int port = TollgateExam.freePort();
        Process first = appliance.run(port, data, plugins, conf, Map.of(), "--mqtt", broker.uri(), "--cloud-key",
                billing.cloudKey().toString());
        appliance.awaitReady(first, port, 90_000);
        SyncBillingIT.Load load = new SyncBillingIT.Load(port);
        load.runFor("before-copy", 1500);
        awaitEveryRequestBilledOnce(device, load.ok);
        assertCleanExit(appliance.stop(first, 60));
        assertEquals(false, deviceRow(device).path("cloned").asBoolean(true));

        Path copy = tmp.resolve("data-copy");
        copyTree(data, copy);
        int portA = TollgateExam.freePort();
        int portB = TollgateExam.freePort();
        Process a = appliance.run(portA, data, plugins, conf, Map.of(), "--mqtt", broker.uri(), "--cloud-key",
                billing.cloudKey().toString());
        Process b = appliance.run(portB, copy, plugins, conf, Map.of(), "--mqtt", broker.uri(), "--cloud-key",
                billing.cloudKey().toString());
        appliance.awaitReady(a, portA, 90_000);
        appliance.awaitReady(b, portB, 90_000);
        SyncBillingIT.Load loadA = new SyncBillingIT.Load(portA);
        SyncBillingIT.Load loadB = new SyncBillingIT.Load(portB);
        loadA.start("box-a");
        loadB.start("box-b");
        JsonNode row = deviceRow(device);
        long end = System.currentTimeMillis() + 90_000;
        while (!row.path("cloned").asBoolean() && System.currentTimeMillis() < end) {
            Thread.sleep(500);
            row = deviceRow(device);
        }
        loadA.stop();
        loadB.stop();
        assertTrue("the device is flagged within 90 s: " + row, row.path("cloned").asBoolean());
        assertTrue(row.toString(), row.path("cloned_reason").asText().contains("a seal signed with the device's key "));
        assertTrue(row.path("cloned_at").asText().startsWith("20"));
        String log = Files.readString(billingLog, StandardCharsets.UTF_8);
        assertTrue("a WARN names the device", log.contains("WARN") && log.contains("Device " + device
                + " is flagged as a cloned identity"));

        // never both: each billed seq belongs to one box's journal, and no request id of the two boxes is billed twice
        Map<Long, String> billed = new HashMap<>();
        Map<String, Integer> ids = new HashMap<>();
        for (JsonNode r : billing.get("/v1/usage?device=" + device + "&limit=100000000").path("records")) {
            billed.put(r.path("seq").asLong(), r.path("hash").asText());
            ids.merge(r.path("request_id").asText(), 1, Integer::sum);
        }
        assertTrue("no request billed twice", ids.values().stream().allMatch(n -> n == 1));
        // (a box's records below its journal's first seq were deleted by retention after the cloud acked them)
        ApplianceProcess.JournalView journalA = appliance.journal(data);
        ApplianceProcess.JournalView journalB = appliance.journal(copy);
        for (Map.Entry<Long, String> e : billed.entrySet()) {
            long seq = e.getKey();
            assertTrue("billed seq " + seq + " is a record of one of the boxes",
                    e.getValue().equals(journalA.usage().get(seq)) || e.getValue().equals(journalB.usage().get(seq))
                            || journalA.deletedAfterAck(seq) || journalB.deletedAfterAck(seq));
        }
        billing.stop(); // the embedded ledger is the service's alone while it runs
        String list = BillingProcess.cli(billingLog, "device", "list", "--data", billingData.toString());
        assertTrue(list, list.contains(device) && list.contains("CLONED since "));
        System.out.printf("BrokerLimitsIT cloned identity: flagged (%s); %d records billed, box A answered %d, box B "
                + "%d%n", row.path("cloned_reason").asText(), billed.size(), loadA.ok.size(), loadB.ok.size());
    }

    private JsonNode deviceRow(String device) throws Exception {
        for (JsonNode d : billing.get("/v1/devices").path("devices")) {
            if (d.path("id").asText().equals(device)) {
                return d;
            }
        }
        throw new AssertionError("device " + device + " is not in /v1/devices");
    }

    /** Waits until each answered request id is billed once with its batch as quantity; returns the ms it took. */
    private long awaitEveryRequestBilledOnce(String device, Map<String, Integer> answered) throws Exception {
        Map<String, Integer> ok = new HashMap<>(answered);
        long t0 = System.nanoTime();
        long end = System.currentTimeMillis() + DRAIN_TIMEOUT_MS;
        String last = "";
        while (System.currentTimeMillis() < end) {
            Map<String, Integer> billed = new HashMap<>();
            Map<String, Long> quantity = new HashMap<>();
            for (JsonNode r : billing.get("/v1/usage?device=" + device + "&limit=100000000").path("records")) {
                billed.merge(r.path("request_id").asText(), 1, Integer::sum);
                quantity.put(r.path("request_id").asText(), r.path("quantity").asLong());
            }
            long missing = ok.keySet().stream().filter(id -> !billed.containsKey(id)).count();
            if (missing == 0) {
                for (Map.Entry<String, Integer> e : ok.entrySet()) {
                    assertEquals("billed once: " + e.getKey(), 1, (int) billed.get(e.getKey()));
                    assertEquals("quantity of " + e.getKey(), (long) e.getValue(), (long) quantity.get(e.getKey()));
                }
                return (System.nanoTime() - t0) / 1_000_000;
            }
            last = missing + " of " + ok.size() + " answered requests not billed yet";
            Thread.sleep(250);
        }
        throw new AssertionError("after " + DRAIN_TIMEOUT_MS + " ms: " + last + "; logs in target/limits-it-logs");
    }

    /** The distribution's conf folder with a shorter ack timeout and reconnect back-off, as SyncBillingIT's. */
    private Path syncConf(long maxDelayMs) throws Exception {
        Path conf = tmp.resolve("conf");
        appliance.copyConf(conf);
        Path sync = conf.resolve("io.tollgate.sync.cfg");
        String cfg = Files.readString(sync, StandardCharsets.UTF_8)
                .replaceAll("(?m)^ack\\.timeout\\.ms=.*$", "ack.timeout.ms=10000")
                .replaceAll("(?m)^reconnect\\.max\\.ms=.*$", "reconnect.max.ms=4000")
                .replaceAll("(?m)^max\\.delay\\.ms=.*$", "max.delay.ms=" + maxDelayMs);
        assertTrue("the distribution's sync config has the keys the test sets", cfg.contains("max.delay.ms="
                + maxDelayMs) && cfg.contains("reconnect.max.ms=4000"));
        Files.writeString(sync, cfg, StandardCharsets.UTF_8);
        return conf;
    }

    private static void copyTree(Path from, Path to) throws Exception {
        try (var walk = Files.walk(from)) {
            for (Path p : walk.toList()) {
                Path target = to.resolve(from.relativize(p).toString());
                if (Files.isDirectory(p)) {
                    Files.createDirectories(target);
                } else {
                    Files.copy(p, target, java.nio.file.StandardCopyOption.COPY_ATTRIBUTES);
                }
            }
        }
    }

    private static int count(String text, String regex) {
        Matcher m = Pattern.compile(regex).matcher(text);
        int n = 0;
        while (m.find()) {
            n++;
        }
        return n;
    }

    private static long metric(String text, String series) {
        for (String line : text.split("\n")) {
            if (line.startsWith(series + " ")) {
                return Long.parseLong(line.substring(series.length() + 1).trim());
            }
        }
        throw new AssertionError("no " + series + " in /metrics");
    }

    private static void assertCleanExit(int exit) {
        assertTrue("exit code after SIGTERM is 0 or 143, not " + exit, exit == 0 || exit == 143);
    }
}
