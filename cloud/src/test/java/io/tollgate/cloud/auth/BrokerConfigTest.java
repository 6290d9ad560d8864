package io.tollgate.cloud.auth;

import static org.junit.Assert.assertArrayEquals;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

import io.tollgate.cloud.Mosquitto;
import io.tollgate.cloud.mqtt.BrokerLogin;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.eclipse.paho.mqttv5.client.IMqttToken;
import org.eclipse.paho.mqttv5.client.MqttAsyncClient;
import org.eclipse.paho.mqttv5.client.MqttCallback;
import org.eclipse.paho.mqttv5.client.MqttConnectionOptions;
import org.eclipse.paho.mqttv5.client.MqttDisconnectResponse;
import org.eclipse.paho.mqttv5.client.persist.MemoryPersistence;
import org.eclipse.paho.mqttv5.common.MqttException;
import org.eclipse.paho.mqttv5.common.MqttMessage;
import org.eclipse.paho.mqttv5.common.MqttSubscription;
import org.eclipse.paho.mqttv5.common.packet.MqttProperties;
import org.junit.After;
import org.junit.Before;
import org.junit.Rule;
import org.junit.Test;
import org.junit.rules.TemporaryFolder;

/** broker-config's files run by a real /usr/sbin/mosquitto: who may connect, publish and subscribe to what. */
public class BrokerConfigTest {
    private static final String A = "tg-aaaa";
    private static final String B = "tg-bbbb";

    @Rule
    public TemporaryFolder tmp = new TemporaryFolder();

    private Path data;
    private Mosquitto broker;
    private String uri;
    private String passwordA;
    private String passwordB;
    private String billingPassword;

    @Before
    public void start() throws Exception {
        data = tmp.newFolder("data").toPath();
        passwordA = MqttPasswords.issue(data, A);
        passwordB = MqttPasswords.issue(data, B);
        int port = Mosquitto.freePort();
        Path out = tmp.newFolder("broker").toPath();
        BrokerConfig.Written w = BrokerConfig.write(data, out, "127.0.0.1", port);
        assertEquals(2, w.devices());
        billingPassword = AuthFiles.readSecret(w.billingPasswordFile(), "test");
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(w.billingPasswordFile())));
        assertEquals("rw-r-----", PosixFilePermissions.toString(Files.getPosixFilePermissions(w.passwd())));
        broker = Mosquitto.start(w.conf(), port);
        uri = broker.uri();
    }

    @After
    public void stop() throws Exception {
        if (broker != null) {
            broker.close();
        }
    }

    /** A connected client; every message it receives goes to {@code inbox}. */
    private MqttAsyncClient connect(String clientId, String user, String password, BlockingQueue<String> inbox)
            throws MqttException {
        MqttAsyncClient c = new MqttAsyncClient(uri, clientId, new MemoryPersistence());
        c.setCallback(new MqttCallback() {
            @Override
            public void messageArrived(String topic, MqttMessage message) {
                inbox.add(topic + " " + new String(message.getPayload(), StandardCharsets.UTF_8));
            }

            @Override
            public void disconnected(MqttDisconnectResponse r) {
                inbox.add("DISCONNECTED " + r.getReturnCode());
            }

            @Override
            public void mqttErrorOccurred(MqttException e) {
            }

            @Override
            public void deliveryComplete(IMqttToken token) {
            }

            @Override
            public void connectComplete(boolean reconnect, String serverURI) {
            }

            @Override
            public void authPacketArrived(int reasonCode, MqttProperties properties) {
            }
        });
        MqttConnectionOptions o = new MqttConnectionOptions();
        if (user != null) {
            o.setUserName(user);
            o.setPassword(password.getBytes(StandardCharsets.UTF_8));
        }
        c.connect(o).waitForCompletion(10_000);
        return c;
    }

    private static int subscribe(MqttAsyncClient c, String filter) throws MqttException {
        IMqttToken t = c.subscribe(new MqttSubscription(filter, 1));
        try {
            t.waitForCompletion(10_000);
        } catch (MqttException e) {
            return e.getReasonCode();
        }
        return t.getReasonCodes()[0];
    }

    private static void refusedConnect(String what, Mosquitto broker, ThrowingConnect connect) throws Exception {
        try {
            connect.run().disconnectForcibly();
            fail(what + " was let in; broker log:\n" + broker.log());
        } catch (MqttException expected) {
            // 0x86 bad user name or password / 0x87 not authorized (MQTT 5)
            assertTrue(what + ": " + expected + " (" + expected.getReasonCode() + ")",
                    expected.getReasonCode() == 0x86 || expected.getReasonCode() == 0x87);
        }
    }

    private interface ThrowingConnect {
        MqttAsyncClient run() throws MqttException;
    }

    @Test
    public void onlyKnownIdentitiesConnect() throws Exception {
        BlockingQueue<String> ignored = new LinkedBlockingQueue<>();
        refusedConnect("an anonymous client", broker, () -> connect("anon", null, null, ignored));
        refusedConnect("a wrong password", broker, () -> connect("x", A, passwordB, ignored));
        refusedConnect("an unknown user", broker, () -> connect("x", "tg-cccc", passwordA, ignored));
        connect("any", A, passwordA, ignored).disconnect().waitForCompletion(5_000);
        connect("any", MqttPasswords.BILLING_USERNAME, billingPassword, ignored).disconnect().waitForCompletion(5_000);
    }

    /** Issue 10: licenses arrive on a device's cmd topic; only the billing may write there, only the device reads. */
    @Test
    public void onlyTheBillingWritesCommandsAndOnlyTheirDeviceReadsThem() throws Exception {
        MqttAsyncClient billing = connect("tollgate-billing-x", MqttPasswords.BILLING_USERNAME, billingPassword,
                new LinkedBlockingQueue<>());
        BlockingQueue<String> inboxA = new LinkedBlockingQueue<>();
        MqttAsyncClient a = connect("tollgate-" + A, A, passwordA, inboxA);
        assertEquals(1, subscribe(a, "tollgate/v1/" + A + "/cmd"));
        subscribe(a, "tollgate/v1/" + B + "/cmd"); // granted by mosquitto 2.0, but nothing of B's is delivered
        BlockingQueue<String> inboxB = new LinkedBlockingQueue<>();
        MqttAsyncClient b = connect("tollgate-" + B, B, passwordB, inboxB);
        assertEquals(1, subscribe(b, "tollgate/v1/" + B + "/cmd"));

        // B (a compromised device) tries to hand A a license, and A itself tries to write its own cmd topic
        b.publish("tollgate/v1/" + A + "/cmd", "forged-by-b".getBytes(StandardCharsets.UTF_8), 1, false)
                .waitForCompletion(10_000);
        a.publish("tollgate/v1/" + A + "/cmd", "forged-by-a".getBytes(StandardCharsets.UTF_8), 1, false)
                .waitForCompletion(10_000);
        billing.publish("tollgate/v1/" + B + "/cmd", "for-b".getBytes(StandardCharsets.UTF_8), 1, false)
                .waitForCompletion(10_000);
        billing.publish("tollgate/v1/" + A + "/cmd", "for-a".getBytes(StandardCharsets.UTF_8), 1, false)
                .waitForCompletion(10_000);
        assertEquals("A's first message is the billing's, sent after the forgeries", "tollgate/v1/" + A + "/cmd for-a",
                inboxA.poll(10, TimeUnit.SECONDS));
        assertEquals("tollgate/v1/" + B + "/cmd for-b", inboxB.poll(10, TimeUnit.SECONDS));
        assertEquals("nothing else reached A", null, inboxA.poll(1, TimeUnit.SECONDS));
        a.disconnect().waitForCompletion(5_000);
        b.disconnect().waitForCompletion(5_000);
        billing.disconnect().waitForCompletion(5_000);
    }

    @Test
    public void eachDeviceOnlyItsOwnTopicsAndTheBillingAllUsage() throws Exception {
        BlockingQueue<String> billingInbox = new LinkedBlockingQueue<>();
        MqttAsyncClient billing = connect("tollgate-billing-x", MqttPasswords.BILLING_USERNAME, billingPassword,
                billingInbox);
        String group = new BrokerLogin(MqttPasswords.BILLING_USERNAME, billingPassword).shareGroup();
        assertEquals(1, subscribe(billing, "$share/" + group + "/tollgate/v1/+/usage"));
        BlockingQueue<String> inboxA = new LinkedBlockingQueue<>();
        MqttAsyncClient a = connect("tollgate-" + A, A, passwordA, inboxA);
        assertEquals(1, subscribe(a, "tollgate/v1/" + A + "/ack"));
        assertEquals(1, subscribe(a, "tollgate/v1/" + A + "/resend"));
        // mosquitto 2.0's acl_file grants every SUBSCRIBE and checks each delivery: these subscriptions succeed and
        // deliver nothing of B's (checked below by A's inbox, whose next messages are its own)
        subscribe(a, "tollgate/v1/" + B + "/ack");
        subscribe(a, "tollgate/v1/#");
        subscribe(a, "tollgate/v1/+/usage");
        // the documented group name: a device in the billing's group would make mosquitto drop the batches the
        // round-robin hands it (an ACL-denied delivery); the billing's group is named after its password instead
        subscribe(a, "$share/tollgate-billing/tollgate/v1/+/usage");
        BlockingQueue<String> inboxB = new LinkedBlockingQueue<>();
        MqttAsyncClient b = connect("tollgate-" + B, B, passwordB, inboxB);
        assertEquals(1, subscribe(b, "tollgate/v1/" + B + "/ack"));
        for (int i = 0; i < 3; i++) {
            b.publish("tollgate/v1/" + B + "/usage", ("b" + i).getBytes(StandardCharsets.UTF_8), 1, false)
                    .waitForCompletion(10_000);
            assertEquals("tollgate/v1/" + B + "/usage b" + i, billingInbox.poll(10, TimeUnit.SECONDS));
        }
        billing.publish("tollgate/v1/" + B + "/ack", "{}".getBytes(StandardCharsets.UTF_8), 1, false)
                .waitForCompletion(10_000);
        assertEquals("tollgate/v1/" + B + "/ack {}", inboxB.poll(10, TimeUnit.SECONDS));

        // A's publish to B's usage is dropped; the billing's next message is A's own, published after it
        a.publish("tollgate/v1/" + B + "/usage", "forged".getBytes(StandardCharsets.UTF_8), 1, false)
                .waitForCompletion(10_000);
        a.publish("tollgate/v1/" + A + "/usage", "mine".getBytes(StandardCharsets.UTF_8), 1, false)
                .waitForCompletion(10_000);
        assertEquals("tollgate/v1/" + A + "/usage mine", billingInbox.poll(10, TimeUnit.SECONDS));

        // the billing answers on A's ack topic and A gets it (twice: A also holds tollgate/v1/#); A cannot write acks
        billing.publish("tollgate/v1/" + A + "/ack", "{}".getBytes(StandardCharsets.UTF_8), 1, false)
                .waitForCompletion(10_000);
        a.publish("tollgate/v1/" + A + "/ack", "self".getBytes(StandardCharsets.UTF_8), 1, false)
                .waitForCompletion(10_000);
        billing.publish("tollgate/v1/" + A + "/resend", "{}".getBytes(StandardCharsets.UTF_8), 1, false)
                .waitForCompletion(10_000);
        java.util.List<String> seenByA = new java.util.ArrayList<>();
        String m;
        while ((m = inboxA.poll(10, TimeUnit.SECONDS)) != null) {
            seenByA.add(m);
            if (m.equals("tollgate/v1/" + A + "/resend {}")) {
                break;
            }
        }
        assertEquals("A saw only its own acks and resend requests: " + seenByA,
                java.util.Set.of("tollgate/v1/" + A + "/ack {}", "tollgate/v1/" + A + "/resend {}"),
                new java.util.HashSet<>(seenByA));
        // B connecting with A's client id does not push A off: the client id is the username
        b.disconnect().waitForCompletion(5_000);
        b = connect("tollgate-" + A, B, passwordB, inboxB);
        a.publish("tollgate/v1/" + A + "/usage", "still".getBytes(StandardCharsets.UTF_8), 1, false)
                .waitForCompletion(10_000);
        assertEquals("tollgate/v1/" + A + "/usage still", billingInbox.poll(10, TimeUnit.SECONDS));
        assertTrue(a.isConnected());
        assertTrue("A was not disconnected: " + inboxA, inboxA.stream().noneMatch(e -> e.startsWith("DISCONNECTED")));
        b.disconnect().waitForCompletion(5_000);
        a.disconnect().waitForCompletion(5_000);
        billing.disconnect().waitForCompletion(5_000);
        assertFalse(Files.readString(data.resolve("auth/mqtt-passwd")).contains(passwordA));
    }

    @Test
    public void regeneratingKeepsTheBillingPasswordAndAddsNewDevices() throws Exception {
        Path out = tmp.newFolder("again").toPath();
        String before = billingPassword;
        MqttPasswords.issue(data, "tg-cccc");
        BrokerConfig.Written w = BrokerConfig.write(data, out, "127.0.0.1", 1883);
        assertEquals(3, w.devices());
        assertEquals(before, AuthFiles.readSecret(w.billingPasswordFile(), "test"));
        String conf = Files.readString(w.conf());
        for (String line : new String[] {"allow_anonymous false", "per_listener_settings false",
            "use_username_as_clientid true", "max_packet_size " + BrokerConfig.MAX_PACKET_SIZE,
            "listener 1883 127.0.0.1", "password_file " + w.passwd(), "acl_file " + w.acl()}) {
            assertTrue(line + " in\n" + conf, conf.lines().anyMatch(line::equals));
        }
    }

    @Test
    public void hashesAreMosquittoPasswdsFormat() {
        // a line mosquitto_passwd 2.0.11 wrote for alice / secret
        String line = "$7$101$mt5Ad+H2F869FsO+$nX7H5+Wlo0iJ4HLrp2WCY4/+k+mXlbL03Fv0onrpqOXkihXAl+VI0+Lb/egN9g9uER8aUQQkWPXV4"
                + "yqOpsRHWg==";
        assertTrue(MqttPasswords.matches("secret", line));
        assertFalse(MqttPasswords.matches("Secret", line));
        byte[] salt = java.util.Base64.getDecoder().decode("mt5Ad+H2F869FsO+");
        assertArrayEquals(line.getBytes(StandardCharsets.US_ASCII),
                MqttPasswords.hash("secret", salt, 101).getBytes(StandardCharsets.US_ASCII));
    }
}
