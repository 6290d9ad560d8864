package io.tollgate.cloud;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.tollgate.cloud.auth.ApiRole;
import io.tollgate.cloud.auth.ApiTokens;
import io.tollgate.cloud.auth.MqttPasswords;
import io.tollgate.cloud.ledger.BatchIngest;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.After;
import org.junit.Before;
import org.junit.Rule;
import org.junit.Test;
import org.junit.rules.TemporaryFolder;

/** The billing API's bearer tokens and roles, over a real socket (docs/billing.md, "API tokens"). */
public class ApiAuthTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    @Rule
    public TemporaryFolder tmp = new TemporaryFolder();

    private final HttpClient http = HttpClient.newHttpClient();
    private Path data;
    private BillingService billing;
    private String admin;

    @Before
    public void start() throws Exception {
        data = tmp.newFolder("data").toPath();
        admin = ApiTokens.create(data, ApiRole.ADMIN, null, "ops").secret();
        billing = BillingService.start(BillingOptions.defaults(data).withHttp("127.0.0.1", 0));
    }

    @After
    public void stop() {
        if (billing != null) {
            billing.close();
        }
    }

    private HttpResponse<String> get(String path, String token) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + billing.httpPort() + path));
        if (token != null) {
            b.header("Authorization", "Bearer " + token);
        }
        return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    private HttpResponse<String> register(String token, String id, String pem, String... tenants) throws Exception {
        ObjectNode body = JSON.createObjectNode();
        body.put("id", id);
        body.put("public_key_pem", pem);
        if (tenants.length > 0) {
            body.putArray("tenants").addAll(List.of(tenants).stream().map(JSON.getNodeFactory()::textNode).toList());
        }
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + billing.httpPort()
                + "/v1/devices")).POST(HttpRequest.BodyPublishers.ofString(body.toString()));
        if (token != null) {
            b.header("Authorization", "Bearer " + token);
        }
        return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    private static void assertError(HttpResponse<String> r, int status, String fragment) throws Exception {
        assertEquals(r.body(), status, r.statusCode());
        String error = JSON.readTree(r.body()).get("error").asText();
        assertTrue(error, error.contains(fragment));
    }

    @Test
    public void everyV1RequestNeedsAKnownTokenButHealthDoesNot() throws Exception {
        assertEquals(200, get("/health", null).statusCode());
        HttpResponse<String> none = get("/v1/devices", null);
        assertError(none, 401, "Authorization: Bearer");
        assertTrue(none.headers().firstValue("WWW-Authenticate").orElse("").startsWith("Bearer"));
        assertError(register(null, "tg-x", "pem"), 401, "needs a token");
        assertError(get("/v1/devices", "tgb_" + "A".repeat(43)), 401, "not valid");
        HttpResponse<String> basic = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:"
                + billing.httpPort() + "/v1/devices")).header("Authorization", "Basic " + admin).build(),
                HttpResponse.BodyHandlers.ofString());
        assertError(basic, 401, "Bearer <token>");
        assertEquals(200, get("/v1/devices", admin).statusCode());
        assertEquals(200, get("/v1/nothing".replace("nothing", "quarantine"), admin).statusCode());
    }

    @Test
    public void tokensAreStoredHashedInOwnerOnlyFiles() throws Exception {
        Path file = ApiTokens.file(data);
        String text = Files.readString(file);
        assertFalse("the token itself is not stored", text.contains(admin.substring(4)));
        assertTrue(admin.matches("tgb_[A-Za-z0-9_-]{43}"));
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(file)));
        assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(file.getParent())));
    }

    @Test
    public void createdAndRevokedTokensTakeEffectWithoutARestart() throws Exception {
        String reader = ApiTokens.create(data, ApiRole.READER, null, "late").secret();
        assertEquals(200, get("/v1/devices", reader).statusCode());
        String id = ApiTokens.list(data).stream().filter(t -> t.name().equals("late")).findFirst().orElseThrow().id();
        assertTrue(ApiTokens.revoke(data, id));
        assertError(get("/v1/devices", reader), 401, "not valid");
        assertEquals(200, get("/v1/devices", admin).statusCode());
    }

    @Test
    public void aBrokenTokenFileKeepsTheLastGoodSet() throws Exception {
        assertEquals(200, get("/v1/devices", admin).statusCode());
        Files.writeString(ApiTokens.file(data), "{ not json");
        assertEquals(200, get("/v1/devices", admin).statusCode());
        try {
            ApiTokens.create(data, ApiRole.READER, null, null);
            org.junit.Assert.fail("a token was added to a broken file");
        } catch (java.io.IOException expected) {
            assertTrue(expected.getMessage(), expected.getMessage().contains("is not JSON"));
        }
        Files.writeString(ApiTokens.file(data), "{\"tokens\": []}");
        assertError(get("/v1/devices", admin), 401, "not valid");
    }

    @Test
    public void aTokenFileBrokenAtStartRefusesEverythingButHealth() throws Exception {
        billing.close();
        billing = null;
        Files.writeString(ApiTokens.file(data), "{\"tokens\": 3}");
        billing = BillingService.start(BillingOptions.defaults(data).withHttp("127.0.0.1", 0));
        assertEquals(200, get("/health", null).statusCode());
        assertError(get("/v1/devices", admin), 503, "api-tokens.json");
    }

    @Test
    public void aTenantReaderSeesOnlyItsTenantAndOnlyReads() throws Exception {
        TestRecordWriter w = TestRecordWriter.newDevice();
        assertEquals(201, register(admin, w.deviceId(), w.publicPem(), "acme", "globex").statusCode());
        w.at(io.tollgate.cloud.billing.Period.nanos(Instant.parse("2026-11-23T17:00:00Z")), 1);
        List<byte[]> records = new ArrayList<>();
        records.add(w.start(0));
        records.add(w.usage("acme", "fashion-mnist", "inference", 4));
        records.add(w.usage("globex", "fashion-mnist", "inference", 9));
        records.add(w.seal(1));
        new BatchIngest(billing.ledger().database()).ingest(w.deviceId(), TestRecordWriter.batch(2, 1, records));
        String acme = ApiTokens.create(data, ApiRole.READER, "acme", "acme billing").secret();

        JsonNode all = JSON.readTree(get("/v1/usage", acme).body());
        assertEquals(1, all.get("records").size());
        assertEquals("acme", all.get("records").get(0).get("tenant").asText());
        assertEquals(2, JSON.readTree(get("/v1/usage", admin).body()).get("records").size());
        assertEquals(200, get("/v1/invoices?tenant=acme&period=2026-11", acme).statusCode());
        assertEquals(200, get("/v1/invoices?period=2026-11", acme).statusCode());
        assertError(get("/v1/invoices?tenant=globex&period=2026-11", acme), 403, "only read tenant acme, not globex");
        assertError(get("/v1/invoices.csv?tenant=globex&period=2026-11", acme), 403, "tenant acme");
        assertError(get("/v1/usage?tenant=globex", acme), 403, "tenant acme");
        String events = get("/v1/export/cloudevents", acme).body();
        assertEquals(1, events.split("\n").length);
        assertTrue(events.contains("\"subject\":\"acme\""));
        assertError(get("/v1/devices", acme), 403, "spans every tenant");
        assertError(get("/v1/quarantine", acme), 403, "spans every tenant");
        assertError(register(acme, "tg-new", w.publicPem()), 403, "may only GET");
        String everyone = ApiTokens.create(data, ApiRole.READER, null, null).secret();
        assertEquals(200, get("/v1/devices", everyone).statusCode());
    }

    @Test
    public void anEnrollTokenRegistersOnlyNewDevicesOfItsTenantAndGetsTheirBrokerPassword() throws Exception {
        String enroll = ApiTokens.create(data, ApiRole.ENROLL, null, "factory").secret();
        TestRecordWriter w = TestRecordWriter.newDevice();
        HttpResponse<String> r = register(enroll, w.deviceId(), w.publicPem());
        assertEquals(r.body(), 201, r.statusCode());
        JsonNode mqtt = JSON.readTree(r.body()).get("mqtt");
        assertEquals(w.deviceId(), mqtt.get("username").asText());
        String password = mqtt.get("password").asText();
        Map<String, String> hashes = MqttPasswords.read(MqttPasswords.file(data));
        assertTrue("the stored hash is of the returned password", MqttPasswords.matches(password,
                hashes.get(w.deviceId())));
        assertFalse(Files.readString(MqttPasswords.file(data)).contains(password));
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(
                MqttPasswords.file(data))));

        assertError(register(enroll, w.deviceId(), w.publicPem()), 403, "already registered");
        assertTrue("an enroll token cannot reset a device's broker password",
                MqttPasswords.matches(password, MqttPasswords.read(MqttPasswords.file(data)).get(w.deviceId())));
        assertError(get("/v1/devices", enroll), 403, "may only POST /v1/devices");
        assertError(get("/v1/usage", enroll), 403, "may only POST /v1/devices");

        String acmeEnroll = ApiTokens.create(data, ApiRole.ENROLL, "acme", null).secret();
        TestRecordWriter w2 = TestRecordWriter.newDevice();
        assertError(register(acmeEnroll, w2.deviceId(), w2.publicPem()), 403, "only register devices of tenant acme");
        assertError(register(acmeEnroll, w2.deviceId(), w2.publicPem(), "acme", "globex"), 403, "not globex");
        assertEquals(1, JSON.readTree(get("/v1/devices", admin).body()).get("devices").size());
        assertEquals(201, register(acmeEnroll, w2.deviceId(), w2.publicPem(), "acme").statusCode());

        // admin may register again (200: the same id, key and tenants): a new broker password replaces the old one
        HttpResponse<String> again = register(admin, w.deviceId(), w.publicPem());
        assertEquals(again.body(), 200, again.statusCode());
        String newPassword = JSON.readTree(again.body()).get("mqtt").get("password").asText();
        String stored = MqttPasswords.read(MqttPasswords.file(data)).get(w.deviceId());
        assertTrue(MqttPasswords.matches(newPassword, stored));
        assertFalse(MqttPasswords.matches(password, stored));
    }
}
