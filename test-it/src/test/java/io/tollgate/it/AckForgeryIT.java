package io.tollgate.it;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.Signature;
import java.util.Base64;
import java.util.Map;
import java.util.function.LongPredicate;
import org.junit.After;
import org.junit.Before;
import org.junit.Test;

/**
 * Issue 9, "acks are always verified", on real processes: the built appliance ({@code bin/tollgate run --mqtt
 * --cloud-key}), Debian's mosquitto and the built billing service. With the billing service stopped (so the device
 * holds records the cloud has not got), an attacker who can publish on the broker sends the device an unsigned ack
 * and an ack signed with a key of their own, both claiming every record ({@code mosquitto_pub}). On main, one such
 * ack made a device release 2,694 records the cloud never received. Here: both are counted as rejected, the acked
 * seq, the ack cursor and the journal's released seq stay where the real cloud left them, and once the billing
 * service is back its genuine acks still move them to the end. The journal verifies afterwards.
 */
public class AckForgeryIT {
    private Path tmp;
    private ApplianceProcess appliance;
    private Mosquitto broker;
    private BillingProcess billing;

    @Before
    public void setUp() throws IOException {
        tmp = Files.createTempDirectory("tollgate-ackforgery-it");
        appliance = new ApplianceProcess(tmp.resolve("appliance.log"));
        appliance.copyExamplePlugin(tmp.resolve("plugins"));
    }

    @After
    public void tearDown() throws Exception {
        appliance.killAll();
        if (billing != null) {
            billing.killQuietly();
        }
        if (broker != null) {
            broker.close();
        }
        ApplianceProcess.keepLogs(tmp, Path.of("target", "ackforgery-it-logs"));
        ApplianceProcess.deleteTree(tmp);
    }

    @Test
    public void forgedAndUnsignedAcksReleaseNothingAndGenuineAcksStillWork() throws Exception {
        broker = Mosquitto.start(tmp);
        Path data = tmp.resolve("data");
        Path billingData = tmp.resolve("billing");
        Path billingLog = tmp.resolve("billing.log");
        String device = appliance.initDevice(data);
        BillingProcess.register(device, data.resolve("device/device.pub.pem"), billingData, null, billingLog);
        billing = new BillingProcess("h2", broker.uri(), billingData, null, billingLog).start();
        Path conf = conf();
        int port = TollgateExam.freePort();
        Process dev = appliance.run(port, data, tmp.resolve("plugins"), conf, Map.of(), "--mqtt", broker.uri(),
                "--cloud-key", billing.cloudKey().toString());
        appliance.awaitReady(dev, port, 90_000);
        Http http = new Http(port);

        // 1. genuine acks: the cloud holds and acknowledges the first inferences
        infer(http, 20);
        long firstHead = metric(http, "tollgate_usage_last_seq");
        // only sealed records are acked: up to the last seal, whose own record waits for the next seal
        awaitMetric(http, "tollgate_sync_acked_seq", a -> a >= firstHead - 1, 60_000);

        // 2. the cloud goes away; the device keeps serving and holds what the cloud has not got. (The ack is read
        // after these inferences: the cloud may still have acked a seal written after the first ones.)
        billing.stop();
        infer(http, 30);
        long acked = metric(http, "tollgate_sync_acked_seq");
        assertEquals(acked, metric(http, "tollgate_usage_released_seq"));
        long head = metric(http, "tollgate_usage_last_seq");
        assertTrue("records beyond the ack: " + head + " > " + acked, head > acked);
        String cursorBefore = Files.readString(data.resolve("sync/acked-seq"));

        // 3. the attacker: an unsigned ack and one signed with their own key, both claiming every record
        String ackTopic = "tollgate/v1/" + device + "/ack";
        long now = System.currentTimeMillis() * 1_000_000L;
        broker.publish(ackTopic, payload("{\"device\":\"" + device + "\",\"acked_seq\":" + head
                + ",\"cloud_time_nanos\":" + now + "}"));
        broker.publish(ackTopic, payload("{\"device\":\"" + device + "\",\"acked_seq\":" + head
                + ",\"cloud_time_nanos\":" + now + ",\"signature\":\"" + signWithOwnKey(device, head, now) + "\"}"));
        awaitMetric(http, "tollgate_sync_acks_rejected_total", n -> n == 2, 30_000);
        assertEquals("acked seq unchanged", acked, metric(http, "tollgate_sync_acked_seq"));
        assertEquals("nothing released", acked, metric(http, "tollgate_usage_released_seq"));
        assertEquals("ack cursor unchanged", cursorBefore, Files.readString(data.resolve("sync/acked-seq")));
        assertTrue(appliance.tail(200), appliance.tail(200).contains("Ignored 1 ack(s) whose signature is missing "
                + "or does not verify with cloud.public.key.file"));
        ApplianceProcess.Result status = appliance.tool("sync", "status", "--data", data.toString());
        assertTrue(status.toString(), status.exit() == 0 && status.out().contains("acked seq:      " + acked + "\n"));

        // 4. the cloud comes back: the device sends again from its ack (ack.timeout.ms), genuine acks release all
        billing.start();
        long end = metric(http, "tollgate_usage_last_seq");
        awaitMetric(http, "tollgate_sync_acked_seq", a -> a >= end - 1, 90_000);
        assertEquals(metric(http, "tollgate_sync_acked_seq"), metric(http, "tollgate_usage_released_seq"));
        assertEquals(2, metric(http, "tollgate_sync_acks_rejected_total"));
        assertEquals(50, billing.get("/v1/usage?device=" + device).path("records").size());

        assertEquals(143, appliance.stop(dev, 60));
        ApplianceProcess.Result verify = appliance.tool("usage", "verify", "--data", data.toString());
        assertEquals(verify.toString(), 0, verify.exit());
    }

    /** The distribution's conf/ with a 5 s ack timeout, so that the device sends again soon after the cloud is back. */
    private Path conf() throws IOException {
        Path conf = appliance.copyConf(tmp.resolve("conf"));
        Path sync = conf.resolve("io.tollgate.sync.cfg");
        String cfg = Files.readString(sync).replaceAll("(?m)^ack\\.timeout\\.ms=.*$", "ack.timeout.ms=5000")
                .replaceAll("(?m)^reconnect\\.max\\.ms=.*$", "reconnect.max.ms=2000");
        assertTrue(cfg.contains("ack.timeout.ms=5000"));
        Files.writeString(sync, cfg);
        return conf;
    }

    private static void infer(Http http, int n) throws Exception {
        for (int i = 0; i < n; i++) {
            Http.Response r = http.post("/v2/models/fashion-mnist/infer", ApplianceProcess.fashionMnistBody(null, 1,
                    0.5f));
            assertEquals(r.body(), 200, r.status());
        }
    }

    private Path payload(String json) throws IOException {
        Path f = Files.createTempFile(tmp, "ack", ".json");
        Files.writeString(f, json, StandardCharsets.UTF_8);
        return f;
    }

    /** A well-formed signature over the ack statement, by a key that is not the cloud's. */
    private static String signWithOwnKey(String device, long seq, long time) throws Exception {
        PrivateKey own = KeyPairGenerator.getInstance("Ed25519").generateKeyPair().getPrivate();
        Signature s = Signature.getInstance("Ed25519");
        s.initSign(own);
        s.update(("TG-ACK1|" + device + "|" + seq + "|" + time).getBytes(StandardCharsets.US_ASCII));
        return Base64.getEncoder().encodeToString(s.sign());
    }

    /** A metric without labels from GET /metrics. */
    private static long metric(Http http, String name) throws Exception {
        Http.Response r = http.get("/metrics");
        assertEquals(r.body(), 200, r.status());
        for (String line : r.body().split("\n")) {
            if (line.startsWith(name + " ")) {
                return (long) Double.parseDouble(line.substring(name.length() + 1).trim());
            }
        }
        throw new AssertionError(name + " not in /metrics:\n" + r.body());
    }

    private static void awaitMetric(Http http, String name, LongPredicate ok, long timeoutMs) throws Exception {
        long deadline = System.currentTimeMillis() + timeoutMs;
        long last = metric(http, name);
        while (!ok.test(last)) {
            if (System.currentTimeMillis() > deadline) {
                throw new AssertionError(name + " is " + last + " after " + timeoutMs + " ms");
            }
            Thread.sleep(100);
            last = metric(http, name);
        }
    }
}
