package io.tollgate.cloud;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertNotNull;
import static org.junit.Assert.assertNull;
import static org.junit.Assert.assertTrue;

import io.tollgate.cloud.ledger.BatchIngest;
import io.tollgate.cloud.ledger.DeviceInfo;
import io.tollgate.cloud.ledger.Ledger;
import io.tollgate.cloud.ledger.QuarantineEntry;
import io.tollgate.cloud.ledger.UsageFilter;
import io.tollgate.cloud.record.Ed25519Keys;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.bouncycastle.crypto.params.Ed25519PrivateKeyParameters;
import org.junit.After;
import org.junit.Assume;
import org.junit.Before;
import org.junit.Rule;
import org.junit.Test;
import org.junit.rules.TemporaryFolder;

/**
 * Issue 8, "Fail safe", cloud side: a batch that fails deterministically no longer stops billing on the one ingest
 * thread, and two chains signed with one device's key flag the device. Real mosquitto, real ledger (H2; PostgreSQL
 * when the machine has one).
 */
public class FailSafeIngestTest {
    @Rule
    public TemporaryFolder tmp = new TemporaryFolder();

    private Mosquitto broker;
    private final List<AutoCloseable> closeables = new ArrayList<>();
    private String postgres;

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
        TestDatabases.dropPostgres(postgres);
    }

    private <T extends AutoCloseable> T closeLater(T c) {
        closeables.add(c);
        return c;
    }

    private BillingService billing(String jdbcUrl) throws Exception {
        return closeLater(BillingService.start(BillingOptions.defaults(tmp.newFolder().toPath()).withMqtt(broker.uri())
                .withJdbcUrl(jdbcUrl).withHttp("127.0.0.1", -1).withClientId("billing-a").withResendDelayMs(300)));
    }

    private static long quantity(Ledger ledger, String device) throws Exception {
        return ledger.totals(new UsageFilter(device, null, null, null, null)).stream()
                .mapToLong(Ledger.Total::quantity).sum();
    }

    /** start, three usage records (1 + 2 + 3), a seal vouching for them. */
    private static byte[] firstBatch(TestRecordWriter w) {
        List<byte[]> r = new ArrayList<>();
        r.add(w.start(0));
        r.add(w.usage("acme", "fashion-mnist", "inference", 1));
        r.add(w.usage("acme", "fashion-mnist", "inference", 2));
        r.add(w.usage("acme", "fashion-mnist", "inference", 3));
        r.add(w.seal(1));
        return TestRecordWriter.batch(2, 1, r);
    }

    /**
     * A device whose key in the ledger no longer parses (edited by hand, a bad restore) made every batch of it throw
     * on the one ingest thread, retried forever: no device was billed any more. Now that batch is quarantined whole
     * with its reason and the next device's batch is billed.
     */
    @Test
    public void aBatchThatFailsEveryTimeIsQuarantinedAndBillingGoesOn() throws Exception {
        BillingService billing = billing(null);
        Ledger ledger = billing.ledger();
        TestRecordWriter poisoned = TestRecordWriter.newDevice();
        TestRecordWriter healthy = TestRecordWriter.newDevice();
        ledger.registerDevice(poisoned.deviceId(), poisoned.publicPem(), Set.of("acme"));
        ledger.registerDevice(healthy.deviceId(), healthy.publicPem(), Set.of("acme"));
        try (Connection c = ledger.database().connect();
             PreparedStatement ps = c.prepareStatement("UPDATE devices SET public_key_pem = ? WHERE id = ?")) {
            ps.setString(1, "-----BEGIN PUBLIC KEY-----\nnot a key\n-----END PUBLIC KEY-----\n");
            ps.setString(2, poisoned.deviceId());
            assertEquals(1, ps.executeUpdate());
        }
        DeviceClient p = closeLater(new DeviceClient(broker.uri(), poisoned.deviceId()));
        DeviceClient h = closeLater(new DeviceClient(broker.uri(), healthy.deviceId()));
        byte[] poison = firstBatch(poisoned);
        p.publish(poison);
        h.publish(firstBatch(healthy));

        assertNotNull("the healthy device is acked behind the poison batch", h.awaitAck(4, 20_000));
        assertEquals(6, quantity(ledger, healthy.deviceId()));
        List<Ledger.QuarantinedBatch> kept = ledger.quarantinedBatches(poisoned.deviceId(), 10);
        assertEquals(1, kept.size());
        Ledger.QuarantinedBatch b = kept.get(0);
        assertEquals(Long.valueOf(1), b.firstSeq());
        assertEquals(Integer.valueOf(5), b.records());
        assertEquals(poison.length, b.size());
        assertTrue(b.reason(), b.reason().startsWith("ingest failed deterministically: IllegalStateException: device "
                + poisoned.deviceId() + " has an unreadable key in the ledger"));
        assertEquals(0, quantity(ledger, poisoned.deviceId()));
        assertEquals(1, billing.consumer().stats().poisonBatches.get());
        assertEquals("no retry loop", 0, billing.consumer().stats().dbRetries.get());

        // the device re-sends it (no ack came): counted on the same row, not stored twice
        p.publish(poison);
        long end = System.currentTimeMillis() + 10_000;
        while (ledger.quarantinedBatches(poisoned.deviceId(), 10).get(0).timesSeen() < 2
                && System.currentTimeMillis() < end) {
            Thread.sleep(50);
        }
        assertEquals(2, ledger.quarantinedBatches(poisoned.deviceId(), 10).get(0).timesSeen());
        assertEquals(1, ledger.quarantinedBatches(null, 10).size());
    }

    /**
     * PostgreSQL refuses a NUL character in text (SQLSTATE 22021); a sealed record naming such a model stopped the
     * ingest thread. Now the batch is stored record by record: the refused record stays in the chain without its
     * usage columns, quarantined with the database's reason and never billed; the ack and the next batches go on.
     */
    @Test
    public void aRecordThePostgresLedgerRefusesIsQuarantinedAndTheChainGoesOn() throws Exception {
        postgres = TestDatabases.createPostgres();
        Assume.assumeTrue("SKIPPED: no PostgreSQL at 127.0.0.1:5432 (H2 stores a NUL character)", postgres != null);
        BillingService billing = billing(postgres);
        Ledger ledger = billing.ledger();
        TestRecordWriter w = TestRecordWriter.newDevice();
        ledger.registerDevice(w.deviceId(), w.publicPem(), Set.of("acme"));
        DeviceClient d = closeLater(new DeviceClient(broker.uri(), w.deviceId()));
        d.publish(firstBatch(w));
        assertNotNull(d.awaitAck(4, 10_000));

        List<byte[]> r = new ArrayList<>();
        r.add(w.usage("acme", "fashion-mnist", "inference", 10));
        r.add(w.usage("acme", "fashion\u0000mnist", "inference", 100));
        r.add(w.usage("acme", "fashion-mnist", "inference", 20));
        r.add(w.seal(1));
        d.publish(TestRecordWriter.batch(2, 6, r));
        assertNotNull("acked through the refused record", d.awaitAck(8, 20_000));
        d.publish(TestRecordWriter.batch(2, 10, List.of(w.usage("acme", "fashion-mnist", "inference", 1000),
                w.seal(1))));
        assertNotNull("the next batch is billed too", d.awaitAck(10, 20_000));

        assertEquals(1 + 2 + 3 + 10 + 20 + 1000, quantity(ledger, w.deviceId()));
        List<QuarantineEntry> q = ledger.quarantine(w.deviceId(), 10);
        assertEquals(1, q.size());
        assertEquals(Long.valueOf(7), q.get(0).seq());
        assertTrue(q.get(0).reason(), q.get(0).reason().contains("seq 7: the ledger cannot store this record's "
                + "fields (PSQLException (SQLSTATE 22021)"));
        assertEquals(1, billing.consumer().stats().salvaged.get());
        assertEquals(0, billing.consumer().stats().dbRetries.get());
    }

    /**
     * Copying a box's data folder to another box gives both one identity: two chains, each sealed with the device's
     * key. The cloud bills the chain it holds, quarantines the other and flags the device (list, API, WARN).
     */
    @Test
    public void twoChainsSignedWithOneDeviceKeyFlagTheDevice() throws Exception {
        BillingService billing = billing(null);
        Ledger ledger = billing.ledger();
        Ed25519PrivateKeyParameters key = Ed25519Keys.generate();
        String id = "tg-" + Ed25519Keys.spkiSha256Hex(key.generatePublicKey()).substring(0, 16);
        TestRecordWriter original = new TestRecordWriter(key, id);
        TestRecordWriter copy = new TestRecordWriter(key, id);
        ledger.registerDevice(id, original.publicPem(), Set.of("acme"));
        BatchIngest ingest = new BatchIngest(ledger.database());

        byte[] first = firstBatch(original);
        ingest.ingest(id, first);
        assertFalse(ledger.device(id).orElseThrow().cloned());
        ingest.ingest(id, first); // the same chain again: a duplicate, not a clone
        assertFalse(ledger.device(id).orElseThrow().cloned());

        List<byte[]> other = new ArrayList<>();
        other.add(copy.start(0));  // the same bytes as the original's (same clock in this test)
        other.add(copy.usage("acme", "fashion-mnist", "inference", 7));
        other.add(copy.usage("acme", "fashion-mnist", "inference", 8));
        other.add(copy.usage("acme", "fashion-mnist", "inference", 9));
        other.add(copy.seal(1));
        ingest.ingest(id, TestRecordWriter.batch(2, 1, other));

        DeviceInfo d = ledger.device(id).orElseThrow();
        assertTrue("flagged", d.cloned());
        assertTrue(d.clonedReason(), d.clonedReason().startsWith("seq 5: a seal signed with the device's key vouches "
                + "for seq 4 with hash " + io.tollgate.cloud.record.Hex.of(copy.hashOf(4)) + ", but the ledger's sealed "
                + "record 4 has hash " + io.tollgate.cloud.record.Hex.of(original.hashOf(4))));
        assertEquals("only the chain the ledger holds is billed", 6, quantity(ledger, id));
        assertEquals("the copy's records 2..4 conflict with the stored ones", 3, ledger.quarantineCount(id));
        assertNull("a device registered later is not flagged",
                ledger.devices().stream().filter(x -> !x.id().equals(id)).filter(DeviceInfo::cloned).findAny()
                        .orElse(null));
    }

    /** The clone's seal beyond the head waits in pending; when the original's seal wins those seqs it flags too. */
    @Test
    public void aClonesSealOvertakenByTheSealedChainFlagsTheDevice() throws Exception {
        BillingService billing = billing(null);
        Ledger ledger = billing.ledger();
        Ed25519PrivateKeyParameters key = Ed25519Keys.generate();
        String id = "tg-" + Ed25519Keys.spkiSha256Hex(key.generatePublicKey()).substring(0, 16);
        TestRecordWriter original = new TestRecordWriter(key, id);
        TestRecordWriter copy = new TestRecordWriter(key, id);
        ledger.registerDevice(id, original.publicPem(), Set.of("acme"));
        BatchIngest ingest = new BatchIngest(ledger.database());
        // both boxes start from the copied folder: records 1..5 are common
        byte[] common = firstBatch(original);
        firstBatch(copy);
        ingest.ingest(id, common);
        // the clone's records 6..8 and seal 9 arrive without their first record: they wait (a gap)
        List<byte[]> cloneTail = new ArrayList<>();
        copy.usage("acme", "fashion-mnist", "inference", 50);
        cloneTail.add(copy.usage("acme", "fashion-mnist", "inference", 60));
        cloneTail.add(copy.usage("acme", "fashion-mnist", "inference", 70));
        cloneTail.add(copy.seal(1));
        ingest.ingest(id, TestRecordWriter.batch(2, 7, cloneTail));
        assertFalse(ledger.device(id).orElseThrow().cloned());
        // the original's own 6..9 are sealed and stored; the clone's seal at 9 is not on that chain
        List<byte[]> mine = new ArrayList<>();
        mine.add(original.usage("acme", "fashion-mnist", "inference", 5));
        mine.add(original.usage("acme", "fashion-mnist", "inference", 5));
        mine.add(original.usage("acme", "fashion-mnist", "inference", 5));
        mine.add(original.seal(1));
        ingest.ingest(id, TestRecordWriter.batch(2, 6, mine));
        DeviceInfo d = ledger.device(id).orElseThrow();
        assertEquals(8, d.headSeq());
        assertTrue("flagged", d.cloned());
        assertTrue(d.clonedReason(), d.clonedReason().startsWith("seq 9: a seal signed with the device's key vouches "
                + "for seq 8 with hash " + io.tollgate.cloud.record.Hex.of(copy.hashOf(8))));
        assertEquals(6 + 15, quantity(ledger, id));
    }
}
