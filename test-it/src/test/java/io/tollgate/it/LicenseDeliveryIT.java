package io.tollgate.it;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.tollgate.licensing.Pem;
import io.tollgate.tools.plugin.PluginJar;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.After;
import org.junit.Before;
import org.junit.Test;

/**
 * Issue 10, "licenses arrive ... from the cloud over MQTT": on real processes (the built appliance with
 * {@code --mqtt}, Debian's mosquitto, the built billing service on its H2 ledger), a vendor-signed plugin installed
 * without a license waits ("no license" in {@code /admin/plugins}, never served); the billing admin imports a
 * license bound to this device ({@code POST /v1/licenses}); the service pushes it on
 * {@code tollgate/v1/{device}/cmd}, the device's sync writes it into the licenses folder under a content-derived
 * name, the license store verifies it and the plugin serves, without a restart; its usage record names the license.
 */
public class LicenseDeliveryIT {
    private static final float[] ZEROS = new float[784];

    private Path tmp;
    private ApplianceProcess appliance;
    private Mosquitto broker;
    private BillingProcess billing;

    @Before
    public void setUp() throws Exception {
        tmp = Files.createTempDirectory("tollgate-license-delivery-it");
        appliance = new ApplianceProcess(tmp.resolve("appliance.log"));
    }

    @After
    public void tearDown() {
        appliance.killAll();
        if (billing != null) {
            billing.killQuietly();
        }
        if (broker != null) {
            broker.close();
        }
        ApplianceProcess.keepLogs(tmp, Path.of("target", "license-delivery-it-logs"));
        ApplianceProcess.deleteTree(tmp);
    }

    @Test
    public void aLicensePushedByTheBillingServiceStartsAWaitingPluginWithoutARestart() throws Exception {
        TestVendor vendor = TestVendor.get();
        broker = Mosquitto.start(tmp);
        Path data = tmp.resolve("data");
        Path billingData = tmp.resolve("billing");
        Path billingLog = tmp.resolve("billing.log");
        String device = appliance.initDevice(data);
        BillingProcess.register(device, data.resolve("device/device.pub.pem"), billingData, null, billingLog);
        billing = new BillingProcess("h2", broker.uri(), billingData, null, billingLog).start();

        // a signed plugin without a license; this appliance's own (empty) licenses folder
        Path plugins = Files.createDirectories(tmp.resolve("plugins"));
        Path licenses = Files.createDirectories(tmp.resolve("licenses"));
        byte[] model = TestPlugins.exampleEntry("TOLLGATE-INF/model.onnx");
        Path jar = plugins.resolve("cloud-model.jar");
        Path made = Files.createDirectories(tmp.resolve("made")).resolve("cloud-model.jar");
        new PluginJar("cloud-model", "1.0.0").model("model.onnx", model).maxBatchSize(8).writeTo(made);
        Files.copy(vendor.signOnly(made), jar);

        int port = TollgateExam.freePort();
        Process dev = appliance.run(port, data, plugins, null, Map.of(), "--licenses", licenses.toString(),
                "--mqtt", broker.uri(), "--cloud-key", billing.cloudKey().toString());
        appliance.awaitReady(dev, port, 90_000);
        Http http = new Http(port);
        JsonNode waiting = http.awaitPlugin("tollgate.plugin.cloud-model", "FAILED", 60_000);
        assertTrue("waits for its license: " + waiting, waiting.path("error").asText().contains("no license"));
        assertEquals(403, http.post("/v2/models/cloud-model/infer", infer()).status());
        awaitUplinkConnected(http);

        // the vendor's license for this device, imported by the billing admin and pushed over MQTT
        byte[] license = vendor.issuer().id("lic-cloud-" + device).plugin("cloud-model")
                .device(device, Pem.readPublicKey(data.resolve("device/device.pub.pem"))).issue();
        Http.Response imported = billing.post("/v1/licenses", new String(license, StandardCharsets.UTF_8));
        assertEquals(imported.body(), 201, imported.status());
        assertTrue(imported.body(), imported.json().path("queued_for").toString().contains(device));

        long pushedAt = System.nanoTime();
        Http.Response served = http.await("/v2/models/cloud-model/ready", 200, 60_000);
        assertEquals(served.body(), 200, served.status());
        long activationMs = (System.nanoTime() - pushedAt) / 1_000_000;
        Http.Response answer = http.post("/v2/models/cloud-model/infer", infer());
        assertEquals(answer.body(), 200, answer.status());

        // the file the device wrote: named from its content, byte for byte what the vendor issued
        Path arrived;
        try (Stream<Path> s = Files.list(licenses)) {
            arrived = s.filter(f -> f.getFileName().toString().endsWith(".lic")).findFirst()
                    .orElseThrow(() -> new AssertionError("no license file in " + licenses));
        }
        assertTrue(arrived.toString(), arrived.getFileName().toString().matches("[0-9a-f]{16}\\.lic"));
        assertTrue("the delivered file is the issued one", java.util.Arrays.equals(license, Files.readAllBytes(arrived)));
        JsonNode listed = http.get("/admin/licenses").json();
        assertTrue("GET /admin/licenses lists it: " + listed, listed.toString().contains("lic-cloud-" + device));

        int exit = appliance.stop(dev, 60);
        assertTrue("exit code after SIGTERM is 0 or 143, not " + exit, exit == 0 || exit == 143);
        boolean recorded = false;
        for (JsonNode r : appliance.exportAll(data)) {
            if ("usage".equals(r.path("kind").asText()) && "cloud-model".equals(r.path("model").asText())) {
                assertEquals("the usage record names the license", "lic-cloud-" + device, r.path("license_id").asText());
                recorded = true;
            }
        }
        assertTrue("the served request has its usage record", recorded);
        System.out.printf("LicenseDeliveryIT: license pushed over MQTT; the waiting plugin served %d ms after the"
                + " import (billing poll <= 2 s, the store's stable-file wait 2 s)%n", activationMs);
    }

    private static String infer() {
        return Http.inferBody("image", new long[] {1, 1, 28, 28}, ZEROS);
    }

    /**
     * The cmd topic is subscribed when the uplink connects ({@code tollgate_sync_connects_total} counts connections that
     * completed with their subscriptions); a license pushed before that would reach no session.
     */
    private static void awaitUplinkConnected(Http http) throws Exception {
        long end = System.currentTimeMillis() + 60_000;
        String last = "";
        while (System.currentTimeMillis() < end) {
            last = http.get("/metrics").body();
            for (String line : last.split("\n")) {
                if (line.startsWith("tollgate_sync_connects_total") && Double.parseDouble(line.substring(
                        line.lastIndexOf(' ') + 1)) >= 1) {
                    return;
                }
            }
            Thread.sleep(200);
        }
        throw new AssertionError("the uplink did not connect within 60 s: "
                + last.lines().filter(l -> l.startsWith("tollgate_sync")).toList());
    }
}
