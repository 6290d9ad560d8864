package io.tollgate.it;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertNotEquals;
import static org.junit.Assert.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPairGenerator;
import java.util.Base64;
import org.junit.After;
import org.junit.Before;
import org.junit.Test;

/**
 * Issue 9 "Trust", the billing side, as an operator runs it: {@code bin/tollgate-billing} as a process behind a real
 * mosquitto configured by {@code tollgate-billing broker-config}. The billing API refuses requests without a token
 * and holds tokens to their role and tenant; the broker lets no anonymous client in and no device onto another
 * device's topic, while the billing, logged in as tollgate-billing, receives every device's usage.
 */
public class BillingAuthIT {
    private Path tmp;
    private Path data;
    private Path log;
    private Mosquitto broker;
    private BillingProcess billing;

    @Before
    public void setUp() throws Exception {
        tmp = Files.createTempDirectory("tollgate-billing-auth-it");
        data = tmp.resolve("billing");
        log = tmp.resolve("billing.log");
    }

    @After
    public void tearDown() throws Exception {
        if (billing != null) {
            billing.killQuietly();
        }
        if (broker != null) {
            broker.close();
        }
        ApplianceProcess.deleteTree(tmp);
    }

    private static String publicKeyPem() throws Exception {
        byte[] spki = KeyPairGenerator.getInstance("Ed25519").generateKeyPair().getPublic().getEncoded();
        return "-----BEGIN PUBLIC KEY-----\n" + Base64.getEncoder().encodeToString(spki) + "\n-----END PUBLIC KEY-----\n";
    }

    private static String registration(String id, String pem) {
        ObjectNode body = Http.JSON.createObjectNode();
        body.put("id", id);
        body.put("public_key_pem", pem);
        return body.toString();
    }

    @Test
    public void tokensRolesAndBrokerIdentities() throws Exception {
        // the broker first: broker-config makes the billing's identity, mosquitto runs the files as written
        int mqttPort = TollgateExam.freePort();
        Path brokerDir = tmp.resolve("broker");
        BillingProcess.cli(log, "broker-config", "--out", brokerDir.toString(), "--data", data.toString(), "--port",
                Integer.toString(mqttPort));
        broker = Mosquitto.startWith(tmp, brokerDir.resolve("mosquitto.conf"), mqttPort);
        // start() returns once /health says the MQTT link is up: the login and the subscription were accepted
        billing = new BillingProcess("auth", broker.uri(), data, null, log)
                .withMqttLogin("tollgate-billing", data.resolve("auth/mqtt-billing.password")).start();
        int port = billing.httpPort();

        // no token: 401 with a challenge; /health stays open
        Http anonymous = new Http(port);
        Http.Response refused = anonymous.post("/v1/devices", registration("tg-auth-a", publicKeyPem()));
        assertEquals(refused.body(), 401, refused.status());
        assertTrue(refused.body(), refused.json().path("error").asText().contains("Authorization: Bearer"));
        assertEquals(401, anonymous.get("/v1/invoices?tenant=acme&period=2026-11").status());
        assertEquals(200, anonymous.get("/health").status());

        // admin registers A; an enroll token registers B, not B again; each gets a broker password once
        Http admin = new Http(port, billing.adminToken());
        Http.Response a = admin.post("/v1/devices", registration("tg-auth-a", publicKeyPem()));
        assertEquals(a.body(), 201, a.status());
        String passwordA = a.json().path("mqtt").path("password").asText();
        assertEquals("tg-auth-a", a.json().path("mqtt").path("username").asText());
        Http enroll = new Http(port, BillingProcess.createToken(data, "enroll", null, log));
        String pemB = publicKeyPem();
        Http.Response b = enroll.post("/v1/devices", registration("tg-auth-b", pemB));
        assertEquals(b.body(), 201, b.status());
        String passwordB = b.json().path("mqtt").path("password").asText();
        Http.Response again = enroll.post("/v1/devices", registration("tg-auth-b", pemB));
        assertEquals(again.body(), 403, again.status());
        assertTrue(again.body(), again.json().path("error").asText().contains("already registered"));
        assertEquals("an enroll token reads nothing", 403, enroll.get("/v1/devices").status());

        // a reader of tenant acme: its invoices, not globex's; no writes
        Http acme = new Http(port, BillingProcess.createToken(data, "reader", "acme", log));
        Http.Response globex = acme.get("/v1/invoices?tenant=globex&period=2026-11");
        assertEquals(globex.body(), 403, globex.status());
        assertTrue(globex.body(), globex.json().path("error").asText().contains("tenant acme"));
        Http.Response own = acme.get("/v1/invoices?tenant=acme&period=2026-11");
        assertEquals(own.body(), 200, own.status());
        assertEquals("acme", own.json().path("tenant").asText());
        for (JsonNode r : acme.get("/v1/usage").json().path("records")) {
            assertEquals(r.toString(), "acme", r.path("tenant").asText());
        }
        assertEquals(403, acme.post("/v1/devices", registration("tg-auth-c", publicKeyPem())).status());

        // the broker, with the devices registered since: broker-config again, SIGHUP
        BillingProcess.cli(log, "broker-config", "--out", brokerDir.toString(), "--data", data.toString(), "--port",
                Integer.toString(mqttPort));
        broker.reload();
        String[] anon = broker.publishAs(null, null, "tollgate/v1/tg-auth-a/usage", "anonymous");
        assertNotEquals("an anonymous publish is refused: " + anon[1], "0", anon[0]);
        String[] wrong = broker.publishAs("tg-auth-a", passwordB, "tollgate/v1/tg-auth-a/usage", "wrong password");
        assertNotEquals("a wrong password is refused: " + wrong[1], "0", wrong[0]);
        // A onto B's topic: dropped by the broker; then A onto its own: the billing gets it (and quarantines the junk)
        String[] forged = awaitLogin(() -> broker.publishAs("tg-auth-a", passwordA, "tollgate/v1/tg-auth-b/usage",
                "forged"));
        String[] mine = broker.publishAs("tg-auth-a", passwordA, "tollgate/v1/tg-auth-a/usage", "not a batch");
        assertEquals("A publishes its own usage: " + mine[1], "0", mine[0]);
        long deadline = System.currentTimeMillis() + 30_000;
        while (billing.get("/v1/quarantine?device=tg-auth-a").path("count").asLong() < 1) {
            assertTrue("the billing never received A's batch; broker log:\n" + broker.log(),
                    System.currentTimeMillis() < deadline);
            Thread.sleep(100);
        }
        assertEquals("A's publish to B's topic (" + forged[1] + ") never reached the billing", 0,
                billing.get("/v1/quarantine?device=tg-auth-b").path("count").asLong());
    }

    private interface Publish {
        String[] run() throws Exception;
    }

    /** Runs {@code publish} until it connects (mosquitto re-reads its password file on SIGHUP, asynchronously). */
    private String[] awaitLogin(Publish publish) throws Exception {
        long deadline = System.currentTimeMillis() + 15_000;
        while (true) {
            String[] r = publish.run();
            if ("0".equals(r[0]) || !r[1].contains("authori") || System.currentTimeMillis() > deadline) {
                return r;
            }
            Thread.sleep(100);
        }
    }
}
