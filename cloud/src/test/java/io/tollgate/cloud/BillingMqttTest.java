package io.tollgate.cloud;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertNotNull;
import static org.junit.Assert.assertNull;
import static org.junit.Assert.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.tollgate.cloud.ledger.Ledger;
import io.tollgate.cloud.ledger.UsageFilter;
import io.tollgate.cloud.record.Ed25519Keys;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.bouncycastle.crypto.params.Ed25519PublicKeyParameters;
import org.junit.After;
import org.junit.Before;
import org.junit.Rule;
import org.junit.Test;
import org.junit.rules.TemporaryFolder;

/** The billing endpoint against a real mosquitto: batches in, acks and resend requests out. */
public class BillingMqttTest {
    @Rule
    public TemporaryFolder tmp = new TemporaryFolder();

    private Mosquitto broker;
    private final List<AutoCloseable> closeables = new ArrayList<>();

    @Before
    public void startBroker() throws Exception {
        broker = Mosquitto.start();
    }

    @After
    public void stopAll() throws Exception {
        for (int i = closeables.size() - 1; i >= 0; i--) {
            closeables.get(i).close();
        }
        broker.close();
    }

    private <T extends AutoCloseable> T closeLater(T c) {
        closeables.add(c);
        return c;
    }

    private BillingService billing(Path data, String clientId) throws Exception {
        return closeLater(BillingService.start(BillingOptions.defaults(data).withMqtt(broker.uri())
                .withHttp("127.0.0.1", 0).withClientId(clientId).withResendDelayMs(300)));
    }

    private static long quantity(Ledger ledger, String device) throws Exception {
        return ledger.totals(new UsageFilter(device, null, null, null, null)).stream()
                .mapToLong(Ledger.Total::quantity).sum();
    }

    private static List<byte[]> sixRecords(TestRecordWriter w) {
        List<byte[]> out = new ArrayList<>();
        out.add(w.start(0));
        out.add(w.seal(4));
        out.add(w.usage("acme", "fashion-mnist", "inference", 4));
        out.add(w.usage("acme", "fashion-mnist", "inference", 1));
        out.add(w.usage("acme", "fashion-mnist", "inference", 2));
        out.add(w.seal(1));
        return out;
    }

    @Test
    public void acksAreContiguousAndSignedByTheCloudKey() throws Exception {
        Path data = tmp.newFolder("data").toPath();
        BillingService billing = billing(data, "billing-a");
        TestRecordWriter w = TestRecordWriter.newDevice();
        billing.ledger().registerDevice(w.deviceId(), w.publicPem(), java.util.Set.of("acme"));
        DeviceClient device = closeLater(new DeviceClient(broker.uri(), w.deviceId()));

        device.publish(TestRecordWriter.batch(2, 1, sixRecords(w)));
        JsonNode ack = device.awaitAck(5, 10_000); // the seal at 6 covers 1..5; the seal itself waits for the next
        assertNotNull("no ack for seq 5 within 10 s", ack);
        assertEquals(5, ack.get("acked_seq").asLong());
        assertEquals(w.deviceId(), ack.get("device").asText());

        // the signature verifies with the cloud's public key as written to the data folder
        Ed25519PublicKeyParameters cloud = Ed25519Keys.parsePublicPem(
                Files.readString(data.resolve("cloud/cloud.pub.pem")));
        long time = ack.get("cloud_time_nanos").asLong();
        assertTrue(Math.abs(System.currentTimeMillis() * 1_000_000L - time) < TimeUnit.SECONDS.toNanos(30));
        byte[] sig = Base64.getDecoder().decode(ack.get("signature").asText());
        assertTrue("ack signature must verify", Ed25519Keys.verify(cloud,
                ("TG-ACK1|" + w.deviceId() + "|5|" + time).getBytes(), sig));
        assertTrue("a changed acked_seq must not verify", !Ed25519Keys.verify(cloud,
                ("TG-ACK1|" + w.deviceId() + "|6|" + time).getBytes(), sig));
        assertEquals("private key mode", "rw-------", java.nio.file.attribute.PosixFilePermissions.toString(
                Files.getPosixFilePermissions(data.resolve("cloud/cloud.key.pem"))));

        device.publish(TestRecordWriter.batch(1, 7, List.of(w.usage("acme", "fashion-mnist", "inference", 3))));
        assertNull("an unsealed record is not acked", device.awaitAck(6, 1_000));
        assertEquals(7, quantity(billing.ledger(), w.deviceId()));
        device.publish(TestRecordWriter.batch(1, 8, List.of(w.seal(1))));
        assertNotNull(device.awaitAck(7, 10_000));
        assertEquals(10, quantity(billing.ledger(), w.deviceId()));
    }

    @Test
    public void theSameBatchTwiceIsBilledOnce() throws Exception {
        BillingService billing = billing(tmp.newFolder("data").toPath(), "billing-a");
        TestRecordWriter w = TestRecordWriter.newDevice();
        billing.ledger().registerDevice(w.deviceId(), w.publicPem(), java.util.Set.of("acme"));
        DeviceClient device = closeLater(new DeviceClient(broker.uri(), w.deviceId()));
        byte[] batch = TestRecordWriter.batch(2, 1, sixRecords(w));
        device.publish(batch);
        assertNotNull(device.awaitAck(5, 10_000));
        device.publish(batch);
        JsonNode second = device.awaitAck(5, 10_000);
        assertNotNull("a duplicate batch is acked again", second);
        assertEquals(5, second.get("acked_seq").asLong());
        assertEquals(7, quantity(billing.ledger(), w.deviceId()));
        assertEquals(2, billing.consumer().stats().batches.get());
        assertEquals(6, billing.consumer().stats().duplicates.get());
    }

    @Test
    public void aGapMakesTheCloudAskForAResend() throws Exception {
        BillingService billing = billing(tmp.newFolder("data").toPath(), "billing-a");
        TestRecordWriter w = TestRecordWriter.newDevice();
        billing.ledger().registerDevice(w.deviceId(), w.publicPem(), java.util.Set.of("acme"));
        DeviceClient device = closeLater(new DeviceClient(broker.uri(), w.deviceId()));
        byte[] first = TestRecordWriter.batch(2, 1, sixRecords(w));
        byte[] second = TestRecordWriter.batch(2, 7, List.of(w.usage("acme", "fashion-mnist", "inference", 3),
                w.seal(1)));
        device.publish(second);
        JsonNode resend = device.resends.poll(10, TimeUnit.SECONDS);
        assertNotNull("no resend request within 10 s", resend);
        assertEquals(1, resend.get("from_seq").asLong());
        assertEquals("gap: have up to 0, the device sealed up to 7", resend.get("reason").asText());
        assertTrue("nothing is acked across a gap", device.acks.isEmpty());
        device.publish(first);
        JsonNode ack = device.awaitAck(7, 10_000);
        assertNotNull("after the gap closes, the held record is verified and acked", ack);
        assertEquals(7, ack.get("acked_seq").asLong());
        assertEquals(10, quantity(billing.ledger(), w.deviceId()));
    }

    @Test
    public void unknownDeviceIsQuarantinedAndNotAcked() throws Exception {
        BillingService billing = billing(tmp.newFolder("data").toPath(), "billing-a");
        TestRecordWriter w = TestRecordWriter.newDevice();
        DeviceClient device = closeLater(new DeviceClient(broker.uri(), w.deviceId()));
        device.publish(TestRecordWriter.batch(2, 1, sixRecords(w)));
        long deadline = System.currentTimeMillis() + 10_000;
        while (billing.ledger().quarantineCount(w.deviceId()) < 6 && System.currentTimeMillis() < deadline) {
            Thread.sleep(50);
        }
        assertEquals(6, billing.ledger().quarantineCount(w.deviceId()));
        assertNull(device.acks.poll(500, TimeUnit.MILLISECONDS));
        assertEquals(0, quantity(billing.ledger(), w.deviceId()));
        assertEquals(6, billing.consumer().stats().quarantined.get());
    }

    @Test
    public void brokerSigkilledAndRestartedAfter3sLosesNothing() throws Exception {
        brokerOutage(true, 3_000);
    }

    @Test
    public void brokerDown15sLosesNothing() throws Exception {
        brokerOutage(false, 15_000);
    }

    /**
     * Batches (and so acks) flowing when the broker dies; after it is back on the same port the consumer must
     * reconnect, re-subscribe and go on billing — mosquitto must never drop it for a protocol error (Paho 1.2.5's
     * automatic reconnect re-sent a stale alias-only ack publish: eclipse-paho/paho.mqtt.java#916, #1104).
     */
    private void brokerOutage(boolean kill, long downMs) throws Exception {
        BillingService billing = billing(tmp.newFolder("data").toPath(), "billing-outage");
        TestRecordWriter w = TestRecordWriter.newDevice();
        billing.ledger().registerDevice(w.deviceId(), w.publicPem(), java.util.Set.of("acme"));
        DeviceClient device = closeLater(new DeviceClient(broker.uri(), w.deviceId()));
        long expectedQuantity = 7;
        device.publish(TestRecordWriter.batch(2, 1, sixRecords(w)));
        assertNotNull("no ack for seq 5 within 10 s", device.awaitAck(5, 10_000));

        // one-record batches fired without waiting: the consumer is storing and acking while the broker dies
        List<byte[]> unconfirmed = new ArrayList<>();
        for (int i = 0; i < 30; i++) {
            byte[] batch = TestRecordWriter.batch(2, w.seq() + 1,
                    List.of(w.usage("acme", "fashion-mnist", "inference", i + 1)));
            expectedQuantity += i + 1;
            unconfirmed.add(batch);
            device.publish(batch);
        }
        Thread.sleep(5);
        if (kill) {
            broker.kill();
        } else {
            broker.stop();
        }
        long downAt = System.nanoTime();
        long deadline = System.currentTimeMillis() + 5_000;
        while (billing.consumer().connected() && System.currentTimeMillis() < deadline) {
            Thread.sleep(20);
        }
        assertTrue("the consumer noticed the broker is gone", !billing.consumer().connected());
        Thread.sleep(downMs);
        device.close();
        broker.restart();
        long upAt = System.nanoTime();

        deadline = System.currentTimeMillis() + 45_000;
        while (!billing.consumer().connected() && System.currentTimeMillis() < deadline) {
            Thread.sleep(20);
        }
        assertTrue("the consumer did not reconnect within 45 s of the broker's restart; broker log:\n"
                + broker.log(), billing.consumer().connected());
        long reconnectMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - upAt);

        // the broker lost every session (persistence off): the device sends again from its last ack (all of the
        // fired batches, whether stored or not: duplicates are absorbed), then new batches
        DeviceClient again = closeLater(new DeviceClient(broker.uri(), w.deviceId()));
        for (byte[] batch : unconfirmed) {
            again.publish(batch);
        }
        for (int i = 0; i < 10; i++) {
            again.publish(TestRecordWriter.batch(2, w.seq() + 1,
                    List.of(w.usage("acme", "fashion-mnist", "inference", 100 + i))));
            expectedQuantity += 100 + i;
        }
        long last = w.seq();
        again.publish(TestRecordWriter.batch(2, last + 1, List.of(w.seal(1)))); // billed once sealed
        JsonNode ack = again.awaitAck(last, 30_000);
        assertNotNull("not acked up to seq " + last + " within 30 s after the reconnect; broker log:\n"
                + broker.log(), ack);
        assertEquals(last, ack.get("acked_seq").asLong());
        assertEquals(expectedQuantity, quantity(billing.ledger(), w.deviceId()));
        try (Connection c = billing.ledger().database().connect(); Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT COUNT(*), MIN(seq), MAX(seq) FROM records")) {
            rs.next();
            assertEquals("every record stored once", last, rs.getLong(1));
            assertEquals(1, rs.getLong(2));
            assertEquals(last, rs.getLong(3));
        }
        assertEquals(0, billing.ledger().quarantineCount(null));
        // still connected a while later: no connect / protocol-error / disconnect loop
        Thread.sleep(1_500);
        assertTrue(billing.consumer().connected());
        String log = broker.log();
        assertTrue("mosquitto dropped the consumer for a protocol error:\n" + log,
                !log.contains("billing-outage disconnected due to protocol error"));
        assertEquals("one connection per broker run", 2, billing.consumer().stats().connects.get());
        System.out.printf("BillingMqttTest %s %d ms: reconnected %d ms after the broker was back, %d records, "
                + "%d duplicates absorbed%n", kill ? "SIGKILL" : "stop", downMs, reconnectMs, last,
                billing.consumer().stats().duplicates.get());
    }

    @Test
    public void twoInstancesSplitTheBatchesAndStoreEachRecordOnce() throws Exception {
        twoInstances(null);
    }

    @Test
    public void twoInstancesOnOnePostgresLedger() throws Exception {
        String url = TestDatabases.createPostgres();
        org.junit.Assume.assumeTrue("SKIPPED: no PostgreSQL at 127.0.0.1:5432", url != null);
        try {
            twoInstances(url);
        } finally {
            for (AutoCloseable c : closeables) {
                c.close();
            }
            closeables.clear();
            TestDatabases.dropPostgres(url);
        }
    }

    private void twoInstances(String jdbcUrl) throws Exception {
        Path data = tmp.newFolder("data").toPath();
        // same ledger, same shared subscription group
        BillingService a = closeLater(BillingService.start(BillingOptions.defaults(data).withMqtt(broker.uri())
                .withJdbcUrl(jdbcUrl).withHttp("127.0.0.1", -1).withClientId("billing-a").withResendDelayMs(300)));
        BillingService b = closeLater(BillingService.start(BillingOptions.defaults(data).withMqtt(broker.uri())
                .withJdbcUrl(jdbcUrl).withHttp("127.0.0.1", -1).withClientId("billing-b").withResendDelayMs(300)));
        int devices = 3;
        int batches = 12;
        List<TestRecordWriter> writers = new ArrayList<>();
        List<DeviceClient> clients = new ArrayList<>();
        for (int d = 0; d < devices; d++) {
            TestRecordWriter w = TestRecordWriter.newDevice();
            a.ledger().registerDevice(w.deviceId(), w.publicPem(), java.util.Set.of("acme"));
            writers.add(w);
            clients.add(closeLater(new DeviceClient(broker.uri(), w.deviceId())));
        }
        long expectedQuantity = 0;
        for (int i = 0; i < batches; i++) {
            for (int d = 0; d < devices; d++) {
                TestRecordWriter w = writers.get(d);
                long first = w.seq() + 1;
                List<byte[]> records = new ArrayList<>();
                if (i == 0) {
                    records.add(w.start(0));
                    records.add(w.seal(4));
                }
                for (int k = 0; k < 4; k++) {
                    records.add(w.usage("acme", "fashion-mnist", "inference", k + 1));
                    expectedQuantity += k + 1;
                }
                records.add(w.seal(1));
                clients.get(d).publish(TestRecordWriter.batch(2, first, records));
            }
        }
        for (int d = 0; d < devices; d++) {
            long last = writers.get(d).seq() - 1; // the last seal is covered by the next one
            assertNotNull("device " + d + " not acked up to " + last, clients.get(d).awaitAck(last, 30_000));
        }
        long total = 0;
        for (int d = 0; d < devices; d++) {
            total += quantity(a.ledger(), writers.get(d).deviceId());
        }
        assertEquals(expectedQuantity, total);
        try (Connection c = a.ledger().database().connect(); Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT COUNT(*), COUNT(DISTINCT device_id || ':' || seq) FROM records")) {
            rs.next();
            long expectedRecords = writers.stream().mapToLong(w -> w.seq() - 1).sum();
            assertEquals(expectedRecords, rs.getLong(1));
            assertEquals(expectedRecords, rs.getLong(2));
        }
        long batchesA = a.consumer().stats().batches.get();
        long batchesB = b.consumer().stats().batches.get();
        assertTrue("both instances took batches: a=" + batchesA + " b=" + batchesB, batchesA > 0 && batchesB > 0);
        assertTrue(batchesA + batchesB >= devices * batches);
        assertEquals(0, a.ledger().quarantineCount(null));
    }
}
