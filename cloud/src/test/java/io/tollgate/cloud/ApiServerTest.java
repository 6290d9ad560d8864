package io.tollgate.cloud;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.tollgate.cloud.auth.ApiRole;
import io.tollgate.cloud.auth.ApiTokens;
import io.tollgate.cloud.ledger.BatchIngest;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.junit.After;
import org.junit.Before;
import org.junit.Rule;
import org.junit.Test;
import org.junit.rules.TemporaryFolder;

/** The HTTP API over a real socket, on an embedded ledger filled through the real ingest path. */
public class ApiServerTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    @Rule
    public TemporaryFolder tmp = new TemporaryFolder();

    private BillingService billing;
    private final HttpClient http = HttpClient.newHttpClient();
    private TestRecordWriter w;
    private String admin;

    @Before
    public void start() throws Exception {
        Path prices = tmp.newFile("prices.json").toPath();
        Files.writeString(prices, "{\"currency\": \"EUR\", \"prices\": [{\"model\": \"fashion-mnist\", "
                + "\"meter\": \"inference\", \"unit_price\": \"0.01\"}]}");
        Path data = tmp.newFolder("data").toPath();
        admin = ApiTokens.create(data, ApiRole.ADMIN, null, "test").secret();
        billing = BillingService.start(BillingOptions.defaults(data).withHttp("127.0.0.1", 0).withPrices(prices));
        w = TestRecordWriter.newDevice();
        w.at(io.tollgate.cloud.billing.Period.nanos(Instant.parse("2026-11-23T17:00:00Z")), 1);
    }

    @After
    public void stop() {
        billing.close();
    }

    private HttpResponse<String> get(String path) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + billing.httpPort() + path))
                .header("Authorization", "Bearer " + admin).build(), HttpResponse.BodyHandlers.ofString());
    }

    private HttpResponse<String> post(String path, String body) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + billing.httpPort() + path))
                .POST(HttpRequest.BodyPublishers.ofString(body)).header("Content-Type", "application/json")
                .header("Authorization", "Bearer " + admin).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    private void registerAndIngest() throws Exception {
        ObjectNode reg = JSON.createObjectNode();
        reg.put("id", w.deviceId());
        reg.put("public_key_pem", w.publicPem());
        reg.putArray("tenants").add("beta").add("acme");
        // a second object after the first was dropped silently: which of the two did the caller mean?
        HttpResponse<String> twice = post("/v1/devices", reg + "{\"id\":\"tg-0000000000000000\"}");
        assertEquals(twice.body(), 400, twice.statusCode());
        assertTrue(twice.body(), twice.body().contains("the body is not JSON"));
        HttpResponse<String> r = post("/v1/devices", reg.toString());
        assertEquals(r.body(), 201, r.statusCode());
        JsonNode created = JSON.readTree(r.body());
        assertEquals("[\"acme\",\"beta\"]", created.get("tenants").toString());
        assertTrue(created.get("cloud_public_key_pem").asText().startsWith("-----BEGIN PUBLIC KEY-----"));
        HttpResponse<String> again = post("/v1/devices", reg.toString());
        assertEquals("the same id, key and tenants again", 200, again.statusCode());
        // the device pins the key acks are signed with (contract C1)
        assertEquals(billing.cloudKey().publicPem(), created.path("cloud_public_key_pem").asText());
        List<byte[]> records = new ArrayList<>();
        records.add(w.start(0));
        records.add(w.seal(4));
        records.add(w.usage("acme", "fashion-mnist", "inference", 4));
        records.add(w.usage("beta", "fashion-mnist", "inference", 9));
        records.add(w.usage("acme", "fashion-mnist", "inference", 2));
        records.add(w.seal(1));
        new BatchIngest(billing.ledger().database()).ingest(w.deviceId(), TestRecordWriter.batch(2, 1, records));
    }

    @Test
    public void usageDevicesInvoicesAndExports() throws Exception {
        registerAndIngest();
        HttpResponse<String> r = get("/v1/usage?device=" + w.deviceId() + "&tenant=acme");
        assertEquals(200, r.statusCode());
        JsonNode u = JSON.readTree(r.body());
        assertEquals(2, u.get("records").size());
        assertEquals(3, u.get("records").get(0).get("seq").asLong());
        assertEquals("2026-11-23T17:00:00.002Z", u.get("records").get(0).get("time").asText());
        assertEquals(1, u.get("totals").size());
        assertEquals(6, u.get("totals").get(0).get("quantity").asLong());
        assertEquals(3, u.get("ranges").get(0).get("from_seq").asLong());
        assertEquals(5, u.get("ranges").get(0).get("to_seq").asLong());

        JsonNode window = JSON.readTree(get("/v1/usage?from=2026-11-23T17:00:00.003Z&to=2026-11-24").body());
        assertEquals(2, window.get("records").size()); // seq 4 (beta) and 5 (acme)

        JsonNode devices = JSON.readTree(get("/v1/devices").body()).get("devices");
        assertEquals(w.deviceId(), devices.get(0).get("id").asText());
        assertEquals(5, devices.get(0).get("acked_seq").asLong()); // the seal at 6 covers 1..5
        assertEquals(5, devices.get(0).get("sealed_seq").asLong());
        assertEquals("[\"acme\",\"beta\"]", devices.get(0).get("tenants").toString());

        JsonNode inv = JSON.readTree(get("/v1/invoices?tenant=acme&period=2026-11").body());
        assertEquals("EUR", inv.get("currency").asText());
        assertEquals(6, inv.get("lines").get(0).get("quantity").asLong());
        assertEquals("0.06", inv.get("lines").get(0).get("amount").asText());
        assertEquals("0.06", inv.get("total").asText());
        assertEquals(5, inv.get("lines").get(0).get("ranges").get(0).get("to_seq").asLong());
        assertEquals(io.tollgate.cloud.record.Hex.of(w.hashOf(5)),
                inv.get("lines").get(0).get("ranges").get(0).get("last_hash").asText());

        HttpResponse<String> csv = get("/v1/invoices.csv?tenant=acme&period=2026-11");
        assertEquals(200, csv.statusCode());
        String[] lines = csv.body().split("\r\n");
        assertEquals("tenant,period,currency,model,plugin,meter,requests,quantity,unit_price,amount,ranges,prepaid,billed_quantity", lines[0]);
        assertEquals("acme,2026-11,EUR,fashion-mnist,io.tollgate.plugin.fashion-mnist,inference,2,6,0.01,0.06,"
                + w.deviceId() + ":3-5@" + io.tollgate.cloud.record.Hex.of(w.hashOf(5)) + ",0,6", lines[1]);

        HttpResponse<String> ce = get("/v1/export/cloudevents?period=2026-11");
        assertEquals(200, ce.statusCode());
        String[] events = ce.body().split("\n");
        assertEquals(3, events.length);
        JsonNode e = JSON.readTree(events[1]);
        assertEquals("1.0", e.get("specversion").asText());
        assertEquals("tollgate.usage", e.get("type").asText());
        assertEquals(w.deviceId() + ":4", e.get("id").asText());
        assertEquals(w.deviceId(), e.get("source").asText());
        assertEquals("beta", e.get("subject").asText());
        assertEquals("2026-11-23T17:00:00.003Z", e.get("time").asText());
        assertEquals(9, e.get("data").get("quantity").asLong());
        assertEquals("inference", e.get("data").get("meter").asText());

        JsonNode health = JSON.readTree(get("/health").body());
        assertEquals("UP", health.get("status").asText());
        assertEquals("h2", health.get("database").asText());
        assertEquals("disabled", health.get("mqtt").asText());
    }

    @Test
    public void invoiceCsvCellsNeverStartAFormula() throws Exception {
        ObjectNode reg = JSON.createObjectNode();
        reg.put("id", w.deviceId());
        reg.put("public_key_pem", w.publicPem());
        reg.putArray("tenants").add("acme");
        assertEquals(201, post("/v1/devices", reg.toString()).statusCode());
        List<byte[]> records = new ArrayList<>();
        records.add(w.start(0));
        records.add(w.seal(4));
        records.add(w.usage("acme", "=HYPERLINK(\"http://evil\",\"x\")", "1", "@SUM(A1)", "1", "", "-2+3", 1, 1, "cpu",
                "r", "OK"));
        records.add(w.seal(1));
        new BatchIngest(billing.ledger().database()).ingest(w.deviceId(), TestRecordWriter.batch(2, 1, records));
        String[] lines = get("/v1/invoices.csv?tenant=acme&period=2026-11").body().split("\r\n");
        assertEquals(2, lines.length);
        assertTrue(lines[1], lines[1].startsWith("acme,2026-11,EUR,\"'=HYPERLINK(\"\"http://evil\"\",\"\"x\"\")\","
                + "'@SUM(A1),'-2+3,1,1,"));
    }

    @Test
    public void aRecordOfAnUnboundTenantIsListedInQuarantine() throws Exception {
        registerAndIngest();
        List<byte[]> records = List.of(w.usage("globex", "fashion-mnist", "inference", 50_000), w.seal(1));
        new BatchIngest(billing.ledger().database()).ingest(w.deviceId(), TestRecordWriter.batch(2, 7, records));
        JsonNode q = JSON.readTree(get("/v1/quarantine?device=" + w.deviceId()).body());
        assertEquals(1, q.get("count").asLong());
        assertEquals(7, q.get("entries").get(0).get("seq").asLong());
        assertTrue(q.get("entries").get(0).get("reason").asText().contains("tenant 'globex' is not bound"));
        assertEquals(0, JSON.readTree(get("/v1/invoices?tenant=globex&period=2026-11").body()).get("lines").size());
        assertEquals(7, JSON.readTree(get("/v1/devices").body()).get("devices").get(0).get("acked_seq").asLong());
    }

    @Test
    public void quarantineIsListed() throws Exception {
        registerAndIngest();
        new BatchIngest(billing.ledger().database()).ingest(w.deviceId(), "junk".getBytes());
        JsonNode q = JSON.readTree(get("/v1/quarantine?device=" + w.deviceId()).body());
        assertEquals(1, q.get("count").asLong());
        assertTrue(q.get("entries").get(0).get("seq").isNull());
        assertTrue(q.get("entries").get(0).get("reason").asText().startsWith("batch not decodable"));
    }

    @Test
    public void errorsAreJsonWithProperStatus() throws Exception {
        assertError(get("/v1/nothing"), 404, "no resource /v1/nothing");
        assertError(get("/v1/invoices?tenant=acme"), 400, "give tenant and period");
        assertError(get("/v1/invoices?tenant=acme&period=2026-13"), 400, "2026-13");
        assertError(get("/v1/usage?from=yesterday"), 400, "from='yesterday'");
        assertError(post("/v1/usage", "{}"), 405, "POST is not allowed");
        assertError(post("/v1/devices", "not json"), 400, "not JSON");
        assertError(post("/v1/devices", "{\"id\": \"x\", \"public_key_pem\": \"nope\"}"), 400, "PUBLIC KEY");
        assertError(post("/v1/devices", "{\"id\": \"x\", \"public_key_pem\": \"nope\", \"tenants\": []}"), 400,
                "non-empty array");
        assertError(post("/v1/devices", "{\"id\": \"x\", \"public_key_pem\": \"" + w.publicPem().replace("\n", "\\n")
                + "\", \"tenants\": [\"Globex!\"]}"), 400, "not a tenant name");
        registerAndIngest();
        ObjectNode other = JSON.createObjectNode();
        other.put("id", w.deviceId());
        other.put("public_key_pem", TestRecordWriter.newDevice().publicPem());
        assertError(post("/v1/devices", other.toString()), 409, "already registered with another public key");
        other.put("id", w.deviceId().toUpperCase(java.util.Locale.ROOT));
        assertError(post("/v1/devices", other.toString()), 409, "differs only in letter case from the registered "
                + "device " + w.deviceId());
    }

    /** Issue 8: every period, date and number an endpoint parses is a 400 with a message, never a 500. */
    @Test
    public void outOfRangePeriodsDatesAndNumbersAre400() throws Exception {
        for (String p : new String[] {"/v1/invoices?tenant=acme&", "/v1/invoices.csv?tenant=acme&", "/v1/usage?",
                "/v1/export/cloudevents?"}) {
            assertError(get(p + "period=%2B10000-01"), 400, "period '+10000-01' is out of range");
            assertError(get(p + "period=%2B999999999-12"), 400, "is out of range");
            assertError(get(p + "period=-999999999-01"), 400, "is out of range");
            assertError(get(p + "period=1677-09"), 400, "give a month from 1677-10 to 2262-03");
            assertError(get(p + "period=2262-04"), 400, "give a month from 1677-10 to 2262-03");
            assertError(get(p + "period=nope"), 400, "not a month like 2026-11");
        }
        assertEquals(200, get("/v1/invoices?tenant=acme&period=2262-03").statusCode());
        for (String p : new String[] {"/v1/usage?", "/v1/export/cloudevents?"}) {
            for (String name : new String[] {"from", "to"}) {
                assertError(get(p + name + "=%2B1000000-01-01"), 400, name + "='+1000000-01-01' is out of range");
                assertError(get(p + name + "=%2B1000000-01-01T00:00:00Z"), 400, "is out of range");
                assertError(get(p + name + "=1600-01-01T00:00:00Z"), 400, "is out of range");
                assertError(get(p + name + "=2300-01-01"), 400, "is out of range");
                assertError(get(p + name + "=2026-02-30"), 400, "is not an ISO-8601 instant");
            }
        }
        assertError(get("/v1/usage?limit=99999999999"), 400, "limit='99999999999' is not a non-negative integer");
        assertError(get("/v1/usage?limit=-1"), 400, "is not a non-negative integer");
        assertError(get("/v1/quarantine?limit=1e3"), 400, "limit='1e3' is not a non-negative integer");
    }

    private static void assertError(HttpResponse<String> r, int status, String fragment) throws Exception {
        assertEquals(r.body(), status, r.statusCode());
        assertTrue(r.headers().firstValue("Content-Type").orElse("").startsWith("application/json"));
        String error = JSON.readTree(r.body()).get("error").asText();
        assertTrue(error, error.contains(fragment));
    }
}
