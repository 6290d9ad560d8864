package io.tollgate.cloud;

import static org.junit.Assert.assertArrayEquals;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertNotNull;
import static org.junit.Assert.assertNull;
import static org.junit.Assert.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.tollgate.cloud.auth.ApiRole;
import io.tollgate.cloud.auth.ApiTokens;
import io.tollgate.cloud.ledger.Licenses;
import io.tollgate.cloud.mqtt.UsageConsumer;
import io.tollgate.licensing.Pem;
import io.tollgate.licensing.vendor.LicenseIssuer;
import io.tollgate.licensing.vendor.RevocationIssuer;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.util.Base64;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.After;
import org.junit.Before;
import org.junit.Rule;
import org.junit.Test;
import org.junit.rules.TemporaryFolder;

/**
 * Licenses from the cloud to a device (issue 10): imported into the ledger of the running service, pushed by
 * the running service over a real mosquitto to {@code tollgate/v1/{device}/cmd}, received by a subscriber in the
 * device's place, marked pushed; {@code GET /v1/licenses} for admin and tenant readers.
 */
public class LicensePushTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @Rule
    public TemporaryFolder tmp = new TemporaryFolder();

    private Mosquitto broker;
    private BillingService billing;
    private DeviceClient device;
    private Path data;

    @Before
    public void setUp() throws Exception {
        broker = Mosquitto.start();
        data = tmp.newFolder("data").toPath();
        billing = BillingService.start(BillingOptions.defaults(data).withMqtt(broker.uri()).withHttp("127.0.0.1", 0)
                .withClientId("billing-licenses"));
    }

    @After
    public void tearDown() throws Exception {
        if (device != null) {
            device.close();
        }
        billing.close();
        broker.close();
    }

    private static KeyPair keys() throws Exception {
        return KeyPairGenerator.getInstance("Ed25519").generateKeyPair();
    }

    private JsonNode awaitCommand(long timeoutMs) throws InterruptedException {
        return device.commands.poll(timeoutMs, TimeUnit.MILLISECONDS);
    }

    @Test
    public void aBoundLicenseIsPushedToItsDeviceAndMarkedPushed() throws Exception {
        TestRecordWriter w = TestRecordWriter.newDevice();
        billing.ledger().registerDevice(w.deviceId(), w.publicPem(), Set.of("acme"));
        TestRecordWriter other = TestRecordWriter.newDevice();
        billing.ledger().registerDevice(other.deviceId(), other.publicPem(), Set.of("acme"));
        device = new DeviceClient(broker.uri(), w.deviceId());
        KeyPair vendor = keys();
        byte[] lic = new LicenseIssuer("Acme Models", vendor.getPrivate(), vendor.getPublic()).id("lic-1")
                .tenant("acme").plugin("fashion-mnist").versions("[1.0.0,2.0.0)")
                .device(w.deviceId(), "cd".repeat(32)).quota(100L, "inference").issue();
        Licenses licenses = new Licenses(billing.ledger().database());
        licenses.importLicense(io.tollgate.cloud.licenses.LicenseFile.license(lic, vendor.getPublic()).license(),
                true, lic);

        JsonNode cmd = awaitCommand(15_000);
        assertNotNull("no command on tollgate/v1/" + w.deviceId() + "/cmd within 15 s", cmd);
        assertEquals("license", cmd.get("command").asText());
        assertEquals(Set.of("command", "file"), Set.copyOf(iterable(cmd.fieldNames())));
        assertArrayEquals("the file exactly as imported", lic, Base64.getDecoder().decode(cmd.get("file").asText()));
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (licenses.pushes(w.deviceId()).get(0).pushedAt() == null) {
            assertTrue("marked pushed after the PUBACK", System.nanoTime() < deadline);
            Thread.sleep(50);
        }
        // the pusher counts a push after it marked it pushed: wait for the count too (no race with the mark)
        while (billing.consumer().stats().licensePushes.get() < 1 && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        assertEquals(1, billing.consumer().stats().licensePushes.get());
        assertNull("pushed once", awaitCommand(3_000));

        // an unbound one goes where `license push` says; a revocation list to every device
        byte[] free = new LicenseIssuer("Acme Models", vendor.getPrivate(), vendor.getPublic()).id("lic-free")
                .tenant("acme").plugin("fashion-mnist").issue();
        licenses.importLicense(io.tollgate.cloud.licenses.LicenseFile.license(free, null).license(), false, free);
        assertNull("an unbound license goes nowhere by itself", awaitCommand(3_000));
        licenses.push("lic-free", w.deviceId());
        JsonNode second = awaitCommand(15_000);
        assertNotNull(second);
        assertArrayEquals(free, Base64.getDecoder().decode(second.get("file").asText()));
        byte[] rev = RevocationIssuer.issue(vendor.getPrivate(), vendor.getPublic(), List.of("lic-free"), null);
        licenses.pushRevocations(rev, List.of());
        JsonNode third = awaitCommand(15_000);
        assertNotNull(third);
        assertEquals("revocations", third.get("command").asText());
        assertArrayEquals(rev, Base64.getDecoder().decode(third.get("file").asText()));
        deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (!licenses.pending(10).isEmpty()) {
            assertTrue("every delivery marked pushed (the other device's too: the broker took it)",
                    System.nanoTime() < deadline);
            Thread.sleep(50);
        }
    }

    /** A delivery the broker refuses (its ACLs: 0x87) backs off alone; the next device still gets its license. */
    @Test
    public void aDeliveryTheBrokerRefusesDoesNotHoldUpTheOthers() throws Exception {
        billing.close();
        broker.close();
        TestRecordWriter refused = TestRecordWriter.newDevice();
        TestRecordWriter allowed = TestRecordWriter.newDevice();
        Path dir = tmp.newFolder("acl-broker").toPath();
        int port = Mosquitto.freePort();
        java.nio.file.Files.writeString(dir.resolve("acl"), "topic readwrite tollgate/v1/+/usage\n"
                + "topic readwrite tollgate/v1/+/ack\ntopic readwrite tollgate/v1/+/resend\n"
                + "topic readwrite tollgate/v1/" + allowed.deviceId() + "/cmd\n");
        java.nio.file.Files.writeString(dir.resolve("mosquitto.conf"), "listener " + port + " 127.0.0.1\n"
                + "allow_anonymous true\nacl_file " + dir.resolve("acl") + "\n");
        broker = Mosquitto.start(dir.resolve("mosquitto.conf"), port);
        billing = BillingService.start(BillingOptions.defaults(tmp.newFolder("data2").toPath())
                .withMqtt(broker.uri()).withHttp("127.0.0.1", 0).withClientId("billing-acl"));
        billing.ledger().registerDevice(refused.deviceId(), refused.publicPem(), Set.of("acme"));
        billing.ledger().registerDevice(allowed.deviceId(), allowed.publicPem(), Set.of("acme"));
        device = new DeviceClient(broker.uri(), allowed.deviceId());
        KeyPair vendor = keys();
        Licenses licenses = new Licenses(billing.ledger().database());
        int n = 0;
        for (TestRecordWriter w : List.of(refused, allowed)) { // the refused one is queued first
            byte[] f = new LicenseIssuer("Acme Models", vendor.getPrivate(), vendor.getPublic()).id("lic-" + n++)
                    .tenant("acme").plugin("fashion-mnist").device(w.deviceId(), "cd".repeat(32)).issue();
            licenses.importLicense(io.tollgate.cloud.licenses.LicenseFile.license(f, null).license(), false, f);
        }
        JsonNode cmd = awaitCommand(15_000);
        assertNotNull("the allowed device got its license behind a refused one", cmd);
        List<Licenses.Push> stuck = licenses.pushes(refused.deviceId());
        assertNull("the refused delivery stays queued", stuck.get(0).pushedAt());
        assertTrue("and was tried", stuck.get(0).attempts() >= 1);
        assertTrue(licenses.pushes(allowed.deviceId()).get(0).pushedAt() != null
                || awaitPushed(licenses, allowed.deviceId()));
        Thread.sleep(3 * UsageConsumer.LICENSE_POLL_MS);
        assertEquals("backing off, not retried every poll", 1, licenses.pushes(refused.deviceId()).get(0).attempts());
    }

    private static boolean awaitPushed(Licenses licenses, String device) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (System.nanoTime() < deadline) {
            if (licenses.pushes(device).get(0).pushedAt() != null) {
                return true;
            }
            Thread.sleep(50);
        }
        return false;
    }

    @Test
    public void licensesAreListedForAdminsAndTheTenantsReaders() throws Exception {
        KeyPair vendor = keys();
        Licenses licenses = new Licenses(billing.ledger().database());
        for (String[] l : new String[][] {{"lic-a", "acme"}, {"lic-b", "beta"}}) {
            byte[] f = new LicenseIssuer("Acme Models", vendor.getPrivate(), vendor.getPublic()).id(l[0]).tenant(l[1])
                    .plugin("fashion-mnist").quota(10L, "inference").issue();
            licenses.importLicense(io.tollgate.cloud.licenses.LicenseFile.license(f, vendor.getPublic()).license(),
                    true, f);
        }
        String admin = ApiTokens.create(data, ApiRole.ADMIN, null, "ops").secret();
        String acme = ApiTokens.create(data, ApiRole.READER, "acme", "acme").secret();
        HttpResponse<String> all = get("/v1/licenses", admin);
        assertEquals(all.body(), 200, all.statusCode());
        JsonNode list = JSON.readTree(all.body()).get("licenses");
        assertEquals(2, list.size());
        assertEquals("lic-a", list.get(0).get("license_id").asText());
        assertEquals(10, list.get(0).get("quota").asLong());
        assertTrue(list.get(0).get("device_id").isNull());
        assertTrue(list.get(0).get("vendor_verified").asBoolean());
        assertEquals(Pem.fingerprint(vendor.getPublic()), list.get(0).get("vendor_key").asText());

        HttpResponse<String> mine = get("/v1/licenses", acme);
        assertEquals(200, mine.statusCode());
        JsonNode only = JSON.readTree(mine.body()).get("licenses");
        assertEquals(1, only.size());
        assertEquals("acme", only.get(0).get("tenant").asText());
        assertEquals(403, get("/v1/licenses?tenant=beta", acme).statusCode());
        assertEquals(401, get("/v1/licenses", null).statusCode());
        assertEquals(400, get("/v1/licenses?tenant=Not%20A%20Tenant", admin).statusCode());
    }

    @Test
    public void anAdminImportsAndPushesOverTheApiWhileTheServiceRuns() throws Exception {
        TestRecordWriter w = TestRecordWriter.newDevice();
        billing.ledger().registerDevice(w.deviceId(), w.publicPem(), Set.of("acme"));
        device = new DeviceClient(broker.uri(), w.deviceId());
        String admin = ApiTokens.create(data, ApiRole.ADMIN, null, "ops").secret();
        String reader = ApiTokens.create(data, ApiRole.READER, null, "look").secret();
        KeyPair vendor = keys();
        byte[] free = new LicenseIssuer("Acme Models", vendor.getPrivate(), vendor.getPublic()).id("lic-api")
                .tenant("acme").plugin("fashion-mnist").issue();

        assertEquals(403, post("/v1/licenses", reader, free).statusCode());
        HttpResponse<String> bad = post("/v1/licenses", admin, "{\"format\":\"nope\"}".getBytes());
        assertEquals(bad.body(), 400, bad.statusCode());
        assertTrue(bad.body(), bad.body().contains("not a license file"));
        assertEquals(413, post("/v1/licenses", admin, new byte[Licenses.MAX_FILE_BYTES + 1]).statusCode());
        HttpResponse<String> created = post("/v1/licenses?device=" + w.deviceId(), admin, free);
        assertEquals(created.body(), 201, created.statusCode());
        JsonNode c = JSON.readTree(created.body());
        assertEquals("lic-api", c.get("license_id").asText());
        assertEquals("new", c.get("imported").asText());
        assertEquals(w.deviceId(), c.get("queued_for").get(0).asText());
        JsonNode cmd = awaitCommand(15_000);
        assertNotNull("the license imported over the API reaches the device", cmd);
        assertArrayEquals(free, Base64.getDecoder().decode(cmd.get("file").asText()));

        assertEquals(200, post("/v1/licenses", admin, free).statusCode()); // the same file again: unchanged
        HttpResponse<String> again = post("/v1/licenses/push?license=lic-api&device=" + w.deviceId(), admin,
                new byte[0]);
        assertEquals(again.body(), 202, again.statusCode());
        assertNotNull("pushed again on request", awaitCommand(15_000));
        assertEquals(404, post("/v1/licenses/push?license=lic-nope&device=" + w.deviceId(), admin, new byte[0])
                .statusCode());
        assertEquals(404, post("/v1/licenses/push?license=lic-api&device=tg-nobody", admin, new byte[0])
                .statusCode());
        assertEquals(400, post("/v1/licenses/push?license=lic-api", admin, new byte[0]).statusCode());
    }

    private HttpResponse<String> post(String path, String token, byte[] body) throws Exception {
        return HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:"
                        + billing.httpPort() + path)).header("Authorization", "Bearer " + token)
                .POST(HttpRequest.BodyPublishers.ofByteArray(body)).build(), HttpResponse.BodyHandlers.ofString());
    }

    private HttpResponse<String> get(String path, String token) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + billing.httpPort() + path));
        if (token != null) {
            b.header("Authorization", "Bearer " + token);
        }
        return HttpClient.newHttpClient().send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    private static <T> List<T> iterable(java.util.Iterator<T> it) {
        List<T> out = new java.util.ArrayList<>();
        it.forEachRemaining(out::add);
        return out;
    }
}
