package io.tollgate.it;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.After;
import org.junit.Before;
import org.junit.Test;

/**
 * Issue 9, enrollment in one command, on real processes: {@code bin/tollgate device enroll} against the built billing
 * service ({@code bin/tollgate-billing run}, H2) registers the device over HTTP and configures the uplink; then a
 * plain {@code bin/tollgate run --conf C} (no --mqtt, no --cloud-key: all from the written configuration) gets its
 * inferences onto the bill, the acks verified with the pinned key.
 */
public class EnrollIT {
    private Path tmp;
    private ApplianceProcess appliance;
    private Mosquitto broker;
    private BillingProcess billing;

    @Before
    public void setUp() throws IOException {
        tmp = Files.createTempDirectory("tollgate-enroll-it");
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
        ApplianceProcess.keepLogs(tmp, Path.of("target", "enroll-it-logs"));
        ApplianceProcess.deleteTree(tmp);
    }

    @Test
    public void enrollThenRunBillsTheInferencesWithTheAcksVerified() throws Exception {
        broker = Mosquitto.start(tmp);
        Path billingData = tmp.resolve("billing");
        billing = new BillingProcess("h2", broker.uri(), billingData, null, tmp.resolve("billing.log")).start();
        Path data = tmp.resolve("data");
        Path conf = appliance.copyConf(tmp.resolve("conf"));

        // bound to acme and to default: the requests below come without an API key, which bills tenant default
        String enrollToken = BillingProcess.createToken(billingData, "enroll", null, tmp.resolve("billing.log"));
        ApplianceProcess.Result enrolled = appliance.tool("device", "enroll", "--billing", billing.url(), "--token",
                enrollToken, "--tenant", "acme", "--tenant", "default", "--mqtt", broker.uri(), "--data",
                data.toString(), "--conf", conf.toString());
        assertEquals(enrolled.toString(), 0, enrolled.exit());
        String device = appliance.tool("device", "id", "--data", data.toString()).out().trim();
        assertTrue(enrolled.out(), enrolled.out().startsWith("Enrolled device " + device + " with " + billing.url()));
        assertEquals("the pinned key is the billing's", Files.readString(billing.cloudKey()),
                Files.readString(conf.resolve("cloud.pub.pem")));
        JsonNode devices = billing.get("/v1/devices").path("devices");
        assertEquals(devices.toString(), device, devices.get(0).path("id").asText());
        String cfg = Files.readString(conf.resolve("io.tollgate.sync.cfg"));
        assertTrue(cfg, cfg.contains("\nbroker.url=" + broker.uri() + "\n"));
        assertTrue(cfg, cfg.contains("\ncloud.public.key.file=${tollgate.conf}/cloud.pub.pem\n"));

        // an enroll token registers new devices only; enrolling again takes an admin token (same id, key, tenants)
        ApplianceProcess.Result refused = appliance.tool("device", "enroll", "--billing", billing.url(), "--token",
                enrollToken, "--tenant", "acme", "--tenant", "default", "--mqtt", broker.uri(), "--data",
                data.toString(), "--conf", conf.toString());
        assertEquals(refused.toString(), 1, refused.exit());
        assertTrue(refused.err(), refused.err().contains("(403)"));
        ApplianceProcess.Result again = appliance.tool("device", "enroll", "--billing", billing.url(), "--token",
                billing.adminToken(), "--tenant", "acme", "--tenant", "default", "--mqtt", broker.uri(), "--data",
                data.toString(), "--conf", conf.toString());
        assertEquals(again.toString(), 0, again.exit());

        int port = TollgateExam.freePort();
        Process dev = appliance.run(port, data, tmp.resolve("plugins"), conf, Map.of());
        appliance.awaitReady(dev, port, 90_000);
        Http http = new Http(port);
        for (int i = 0; i < 5; i++) {
            Http.Response r = http.post("/v2/models/fashion-mnist/infer", ApplianceProcess.fashionMnistBody(null, 2,
                    0.5f));
            assertEquals(r.body(), 200, r.status());
        }
        long deadline = System.currentTimeMillis() + 60_000;
        long billed = 0;
        while (billed < 5 && System.currentTimeMillis() < deadline) {
            billed = billing.get("/v1/usage?device=" + device).path("records").size();
            Thread.sleep(200);
        }
        assertEquals("every inference on the bill", 5, billed);
        String metrics = http.get("/metrics").body();
        assertTrue(metrics, metrics.contains("\ntollgate_sync_acks_rejected_total 0\n"));
        long deadlineAck = System.currentTimeMillis() + 30_000;
        while (!http.get("/metrics").body().matches("(?s).*\ntollgate_sync_acked_seq [1-9].*")
                && System.currentTimeMillis() < deadlineAck) {
            Thread.sleep(200);
        }
        assertTrue("a verified ack moved the cursor", Files.exists(data.resolve("sync/acked-seq")));
        assertEquals(143, appliance.stop(dev, 60));
    }

    @Test
    public void anUnreachableBillingServiceAndPlainHttpAreOneLineAndWriteNothing() throws Exception {
        Path data = tmp.resolve("data");
        Path conf = tmp.resolve("conf");
        int closed;
        try (ServerSocket s = new ServerSocket(0)) {
            closed = s.getLocalPort();
        }
        ApplianceProcess.Result r = appliance.tool("device", "enroll", "--billing", "http://127.0.0.1:" + closed,
                "--token", "t", "--data", data.toString(), "--conf", conf.toString());
        assertEquals(r.toString(), 1, r.exit());
        assertEquals(r.err(), 1, r.err().lines().count());
        assertTrue(r.err(), r.err().startsWith("tollgate device enroll: cannot reach the billing service at "));
        assertTrue("nothing configured", !Files.exists(conf.resolve("cloud.pub.pem")));

        r = appliance.tool("device", "enroll", "--billing", "http://billing.example.com", "--token", "t", "--data",
                data.toString(), "--conf", conf.toString());
        assertEquals(r.toString(), 2, r.exit());
        assertTrue(r.err(), r.err().contains("--allow-plain"));
    }
}
