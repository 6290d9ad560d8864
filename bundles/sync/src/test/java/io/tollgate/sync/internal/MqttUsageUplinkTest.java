package io.tollgate.sync.internal;

import static io.tollgate.sync.internal.TestDevice.await;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

import io.tollgate.sync.SyncStatus;
import io.tollgate.sync.SyncStatus.LinkState;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import org.bouncycastle.crypto.params.Ed25519PrivateKeyParameters;
import org.junit.After;
import org.junit.Before;
import org.junit.Rule;
import org.junit.Test;
import org.junit.rules.TemporaryFolder;

/** The uplink against a real mosquitto, a real Chronicle journal and a fake cloud speaking docs/sync-protocol.md. */
public class MqttUsageUplinkTest {
    @Rule
    public TemporaryFolder tmp = new TemporaryFolder();

    private Mosquitto broker;
    private TestDevice device;
    private final List<AutoCloseable> closeables = new ArrayList<>();
    private final List<MqttUsageUplink> uplinks = new ArrayList<>();

    @Before
    public void setUp() throws Exception {
        broker = new Mosquitto(tmp.newFolder("broker").toPath());
        device = new TestDevice(tmp.newFolder("data").toPath());
    }

    @After
    public void tearDown() throws Exception {
        for (MqttUsageUplink u : uplinks) {
            u.deactivate();
        }
        for (AutoCloseable c : closeables) {
            c.close();
        }
        device.close();
        broker.close();
    }

    private FakeCloud cloud(boolean autoAck) throws Exception {
        return cloud(autoAck, device.cloudKey);
    }

    private FakeCloud cloud(boolean autoAck, Ed25519PrivateKeyParameters key) throws Exception {
        FakeCloud c = new FakeCloud(broker.url(), device.id(), autoAck, key);
        closeables.add(c);
        return c;
    }

    private MqttUsageUplink start(Map<String, Object> extra) throws Exception {
        Map<String, Object> cfg = new java.util.HashMap<>(extra);
        cfg.put("broker.url", broker.url());
        cfg.putIfAbsent("reconnect.min.ms", 200L);
        cfg.putIfAbsent("reconnect.max.ms", 1000L);
        cfg.putIfAbsent("max.delay.ms", 50L);
        MqttUsageUplink u = device.uplink(cfg);
        uplinks.add(u);
        await("the uplink to connect", 10_000, () -> u.syncStatus().link() == LinkState.ONLINE);
        return u;
    }

    private void stop(MqttUsageUplink u) {
        u.deactivate();
        uplinks.remove(u);
    }

    @Test
    public void deliversEveryRecordInOrderWithAVerifyingChainAndReleasesWhatWasAcked() throws Exception {
        FakeCloud cloud = cloud(true);
        MqttUsageUplink uplink = start(Map.of("max.records", 500));
        for (int burst = 0; burst < 10; burst++) {
            device.append(1000);
            Thread.sleep(30);
        }
        long last = device.settledLastSeq();
        await("the cloud to hold every record", 20_000, () -> cloud.prefix() == last);
        await("the ack cursor to reach the last seq", 10_000, () -> device.cursor() == last);

        assertEquals("ok", cloud.verifyChain());
        assertEquals(List.of(), cloud.problems);
        assertEquals(last, cloud.records.size());
        // Without faults every record arrives exactly once, in seq order.
        List<Long> arrivals = new ArrayList<>(cloud.arrivals);
        for (int i = 0; i < arrivals.size(); i++) {
            assertEquals("arrival " + i, i + 1, (long) arrivals.get(i));
        }
        assertEquals(0, cloud.resendsSent.get());
        assertTrue("batches of at most max.records", cloud.batchFirstSeqs.size() >= last / 500);
        assertEquals(last, device.journal.status().releasedSeq());
        SyncStatus s = uplink.syncStatus();
        assertEquals(last, s.ackedSeq());
        assertEquals(0, s.backlog());
        assertEquals(last, s.recordsSent());
    }

    @Test
    public void anAckPersistsTheCursorReleasesTheJournalAndNeverMovesBackwards() throws Exception {
        FakeCloud cloud = cloud(false);
        MqttUsageUplink uplink = start(Map.of());
        device.append(3000);
        long last = device.settledLastSeq();
        await("the cloud to receive every record", 10_000, () -> cloud.prefix() == last);
        assertEquals("nothing acked yet", 0, device.cursor());
        assertFalse(Files.exists(device.data.resolve("sync/acked-seq")));
        assertEquals(last, uplink.syncStatus().backlog());

        cloud.ack(1200);
        await("the cursor to reach 1200", 5_000, () -> device.cursor() == 1200);
        await("the journal release", 5_000, () -> device.journal.status().releasedSeq() == 1200);
        SyncStatus s = uplink.syncStatus();
        assertEquals(1200, s.ackedSeq());
        assertEquals(last - 1200, s.backlog());
        assertTrue(s.lastAckEpochMs() > 0);
        assertTrue(s.lastCloudTimeNanos() > 0);
        assertEquals("1200\n", Files.readString(device.data.resolve("sync/acked-seq")));

        cloud.ack(1000);                           // backwards: ignored
        cloud.ack(last + 5);                       // beyond the journal: ignored
        cloud.ackAs("tg-someone-else", 2500, device.cloudKey); // another device's (signed) ack: ignored
        cloud.publishRaw("ack", "{not json");     // garbage: ignored
        cloud.ack(2000);                           // a real step forward, after all of the above
        await("the cursor to reach 2000", 5_000, () -> device.cursor() == 2000);
        // the cursor file is written first, then the status and the journal release: wait for those too
        await("the status to say 2000", 5_000, () -> uplink.syncStatus().ackedSeq() == 2000);
        await("the journal release up to 2000", 5_000, () -> device.journal.status().releasedSeq() == 2000);
    }

    @Test
    public void aResendRequestMakesTheDeviceSendAgainFromThatSeq() throws Exception {
        FakeCloud cloud = cloud(false);
        start(Map.of());
        device.append(2000);
        long last = device.settledLastSeq();
        await("every record once", 10_000, () -> cloud.prefix() == last);
        assertEquals(List.of(), cloud.seqsSeenMoreThanOnce());

        cloud.resend(1500, "test: lost my database");
        await("records from 1500 again", 10_000, () -> cloud.timesSeen.get(last).get() == 2);
        for (long seq = 1; seq <= last; seq++) {
            assertEquals("times seq " + seq + " arrived", seq >= 1500 ? 2 : 1, cloud.timesSeen.get(seq).get());
        }
        assertEquals(List.of(), cloud.problems);
        assertEquals("ok", cloud.verifyChain());
    }

    @Test
    public void brokerKilledAndRestartedMidStreamLosesNothing() throws Exception {
        FakeCloud cloud = cloud(true);
        MqttUsageUplink uplink = start(Map.of("ack.timeout.ms", 2000L, "max.records", 200));
        AtomicBoolean writing = new AtomicBoolean(true);
        AtomicReference<Throwable> writerFailure = new AtomicReference<>();
        Thread writer = new Thread(() -> {
            try {
                while (writing.get()) {
                    device.append(50);
                    Thread.sleep(5);
                }
            } catch (Throwable t) {
                writerFailure.set(t);
            }
        }, "test-writer");
        writer.start();
        try {
            await("some records to arrive", 10_000, () -> cloud.prefix() > 2000);
            broker.kill();
            await("the device to notice", 10_000, () -> uplink.syncStatus().link() == LinkState.CONNECTING);
            Thread.sleep(1500);
            long whileDown = device.lastSeq();
            broker.start();
            cloud.connect();
            await("the device to reconnect", 15_000, () -> uplink.syncStatus().link() == LinkState.ONLINE);
            Thread.sleep(500);
            assertTrue("records were written while the broker was down", device.lastSeq() > whileDown);
        } finally {
            writing.set(false);
            writer.join();
        }
        assertEquals(null, writerFailure.get());
        long last = device.settledLastSeq();
        await("the cloud to hold every record after the restart", 30_000, () -> cloud.prefix() == last);
        await("the cursor to catch up", 10_000, () -> device.cursor() == last);
        assertEquals("ok", cloud.verifyChain());
        assertEquals(List.of(), cloud.problems);
        SyncStatus s = uplink.syncStatus();
        assertTrue("connected twice: " + s, s.connects() >= 2);
        System.out.printf("broker restart: %d records, %d arrivals (%d duplicates), %d resend requests%n", last,
                cloud.arrivals.size(), cloud.arrivals.size() - last, cloud.resendsSent.get());
    }

    @Test
    public void recordsTheCloudMissedAreSentAgainAfterTheAckTimeout() throws Exception {
        FakeCloud cloud = cloud(true);
        start(Map.of("ack.timeout.ms", 1000L));
        device.append(300);
        long first = device.settledLastSeq();
        await("the first records", 10_000, () -> cloud.prefix() == first);
        cloud.close();                      // the cloud is away: the broker drops what nobody subscribed to
        device.append(300);
        long last = device.settledLastSeq();
        cloud.connect();
        // No new record follows, so the cloud cannot see a gap: only the device's ack timeout brings the rest.
        await("the missed records", 10_000, () -> cloud.prefix() == last);
        await("acked", 5_000, () -> device.cursor() == last);
        assertEquals("ok", cloud.verifyChain());
    }

    @Test
    public void aRestartedComponentResumesFromThePersistedAck() throws Exception {
        FakeCloud cloud = cloud(true);
        MqttUsageUplink first = start(Map.of());
        device.append(1000);
        long acked = device.settledLastSeq();
        await("everything acked", 10_000, () -> device.cursor() == acked);
        stop(first);
        assertEquals(LinkState.STOPPED, first.syncStatus().link());

        device.append(700);                 // while sync is down the records wait in the journal
        long last = device.settledLastSeq();
        int arrivalsBefore = cloud.arrivals.size();
        MqttUsageUplink second = start(Map.of());
        await("the rest to arrive", 10_000, () -> cloud.prefix() == last);
        List<Long> after = cloud.arrivals.subList(arrivalsBefore, cloud.arrivals.size());
        assertEquals("the restarted uplink starts after the persisted ack", acked + 1, (long) after.get(0));
        assertEquals(last - acked, after.size());
        await("acked again", 10_000, () -> device.cursor() == last);
        // the status follows the cursor file (written first, so a crash never reports more than is persisted)
        await("the status shows the ack", 10_000, () -> second.syncStatus().ackedSeq() == last);
        assertEquals("ok", cloud.verifyChain());
    }

    @Test
    public void encodingTwoSendsFewBytesPerRealisticRecord() throws Exception {
        FakeCloud cloud = cloud(true);
        MqttUsageUplink uplink = start(Map.of("max.delay.ms", 200L));
        for (int i = 0; i < 20; i++) {
            device.append(1000);
            Thread.sleep(20);
        }
        long last = device.settledLastSeq();
        await("everything acked", 60_000, () -> device.cursor() == last);
        SyncStatus s = uplink.syncStatus();
        double perRecord = (double) s.bytesSent() / s.recordsSent();
        System.out.printf("encoding 2: %d records (seals included) in %d batches, %d payload bytes = %.1f B/record%n",
                s.recordsSent(), s.batchesSent(), s.bytesSent(), perRecord);
        assertEquals(last, s.recordsSent());
        assertEquals(cloud.payloadBytes.get(), s.bytesSent());
        assertTrue("goal: at most 64 bytes per record on the wire, was " + perRecord, perRecord <= 64);
    }

    @Test
    public void statusIsRetainedOnlineWhileRunningAndOfflineAfterStop() throws Exception {
        FakeCloud cloud = cloud(false);
        MqttUsageUplink uplink = start(Map.of());
        device.append(100);
        long last = device.settledLastSeq();
        await("records to arrive", 10_000, () -> cloud.prefix() == last);
        Thread.sleep(50);
        SyncStatus s = uplink.syncStatus();
        assertEquals(LinkState.ONLINE, s.link());
        assertEquals(broker.url(), s.brokerUrl());
        assertEquals(last, s.lastSeq());
        assertEquals(0, s.ackedSeq());
        assertEquals(last, s.backlog());
        assertTrue("oldest unacked age " + s.oldestUnackedAgeMs(), s.oldestUnackedAgeMs() >= 40);
        assertEquals(0, s.lastAckEpochMs());
        assertEquals(last, s.recordsSent());
        assertTrue(s.bytesSent() > 0 && s.batchesSent() > 0);
        assertEquals(1, s.connects());
        assertEquals("", s.lastError());
        await("an online status", 5_000, () -> cloud.statusPayloads.stream().anyMatch(p -> p.contains("\"online\"")));

        cloud.ack(last);
        await("acked", 5_000, () -> uplink.syncStatus().ackedSeq() == last);
        assertEquals(0, uplink.syncStatus().backlog());
        assertEquals(0, uplink.syncStatus().oldestUnackedAgeMs());

        stop(uplink);
        await("an offline status", 5_000, () -> cloud.statusPayloads.get(cloud.statusPayloads.size() - 1)
                .equals("{\"state\":\"offline\"}"));
        // retained: a subscriber that comes later still sees it
        FakeCloud late = cloud(false);
        await("the retained status for a late subscriber", 5_000, () -> !late.statusPayloads.isEmpty());
        assertEquals("{\"state\":\"offline\"}", late.statusPayloads.get(0));
    }

    @Test
    public void unsignedAndWronglySignedAcksNeverMoveTheCursorNorReleaseRecordsAndAreCounted() throws Exception {
        Ed25519PrivateKeyParameters otherKey = CloudKeys.generate();
        FakeCloud cloud = cloud(false);
        MqttUsageUplink u = start(Map.of());
        device.append(500);
        long last = device.settledLastSeq();
        await("records to arrive", 10_000, () -> cloud.prefix() == last);

        cloud.ackAs(device.id(), 300, otherKey);   // signed by someone else
        cloud.ackAs(device.id(), 350, null);       // unsigned
        cloud.ackAs("tg-forged", 400, null);       // unsigned, for another device
        await("three rejected acks", 5_000, () -> u.syncStatus().acksRejected() == 3);
        assertEquals("no cursor", 0, device.cursor());
        assertEquals("acked seq unchanged", 0, u.syncStatus().ackedSeq());
        assertEquals("nothing released", 0, device.journal.status().releasedSeq());

        cloud.ack(100);                            // properly signed
        await("the signed ack", 5_000, () -> device.cursor() == 100);
        // the cursor file is written first, then the status and the journal release: wait for those too
        await("the status to say 100", 5_000, () -> u.syncStatus().ackedSeq() == 100);
        await("the journal release up to 100", 5_000, () -> device.journal.status().releasedSeq() == 100);
        assertEquals(3, u.syncStatus().acksRejected());
    }

    @Test
    public void withABrokerButNoCloudKeyTheComponentDoesNotActivate() throws Exception {
        Map<String, Object> cfg = new java.util.HashMap<>();
        cfg.put("broker.url", broker.url());
        cfg.put("cloud.public.key.file", "");
        try {
            uplinks.add(device.uplink(cfg));
            fail("activated without a cloud key");
        } catch (IllegalArgumentException e) {
            assertTrue(e.getMessage(), e.getMessage().contains("cloud.public.key.file is required"));
            assertTrue(e.getMessage(), e.getMessage().contains("bin/tollgate device enroll"));
        }
    }

    @Test
    public void aMisspeltKeyStopsTheUplinkWithTheRightSpelling() throws Exception {
        try {
            uplinks.add(device.activatedUplink(Map.of("broker_url", broker.url(), "service.pid", "io.tollgate.sync")));
            fail("a misspelt broker.url must stop the uplink, not leave sync silently off");
        } catch (IllegalArgumentException e) {
            assertTrue(e.getMessage(), e.getMessage().contains("configuration io.tollgate.sync has an unknown key "
                    + "'broker_url' (did you mean 'broker.url'?)"));
        }
    }

    @Test
    public void withoutABrokerUrlRecordsStayOnTheDevice() throws Exception {
        device.append(10);
        MqttUsageUplink u = device.uplink(Map.of());
        uplinks.add(u);
        SyncStatus s = u.syncStatus();
        assertEquals(LinkState.DISABLED, s.link());
        assertEquals(device.lastSeq(), s.backlog());
        assertEquals(0, s.ackedSeq());
        assertTrue(s.oldestUnackedAgeMs() >= 0);
    }

    /** A broker whose maximum packet size (sent in CONNACK) is 4 KiB, with its fake cloud. */
    private FakeCloud smallPacketBroker() throws Exception {
        broker.close();
        broker = new Mosquitto(tmp.newFolder("small-broker").toPath(), "max_packet_size 4096\n");
        return cloud(true);
    }

    /**
     * Issue 8: with a broker maximum packet size below a batch's size, the device used to be disconnected at every
     * publish and reconnect and resend the same batch forever. Now batches are split to fit the CONNACK limit: every
     * record arrives on one connection, and the status says why batches are small.
     */
    @Test
    public void batchesFitTheBrokersMaximumPacketSize() throws Exception {
        FakeCloud cloud = smallPacketBroker();
        MqttUsageUplink uplink = start(Map.of());
        device.append(3000);
        long last = device.settledLastSeq();
        await("the cloud to hold every record through a 4 KiB broker limit", 30_000, () -> cloud.prefix() == last);
        await("the ack cursor to reach the last seq", 10_000, () -> device.cursor() == last);
        assertEquals("ok", cloud.verifyChain());
        SyncStatus s = uplink.syncStatus();
        assertEquals("one connection: the broker never dropped us", 1, s.connects());
        assertEquals(0, s.disconnectsAfterPublish());
        assertEquals(4096, s.brokerMaxPacketBytes());
        assertEquals("broker maximum packet size 4096 bytes: batches are split to fit it", s.sizeLimit());
        assertEquals(s.sizeLimit(), io.tollgate.sync.files.SyncStateFiles.of(device.data).uplinkNote());
        assertTrue("batches of at most 4 KiB: " + cloud.payloadBytes.get() + " bytes in "
                + cloud.batchFirstSeqs.size() + " batches", cloud.batchFirstSeqs.size() >= cloud.payloadBytes.get() / 4096);
        stop(uplink);
        MqttUsageUplink again = start(Map.of());
        await("a new run forgets the note until it meets the limit again", 5_000,
                () -> again.syncStatus().connects() == 1);
        assertEquals("", io.tollgate.sync.files.SyncStateFiles.of(device.data).uplinkNote());
    }

    /**
     * Issue 8: a single record larger than the broker's limit is not sent (the broker would drop the connection at
     * every try): sending holds at its seq, without reconnecting, and the status and the note say what to raise.
     */
    @Test
    public void aRecordLargerThanTheBrokersLimitHoldsSendingAndSaysWhy() throws Exception {
        FakeCloud cloud = smallPacketBroker();
        MqttUsageUplink uplink = start(Map.of());
        device.append(10);
        long big = device.journal.append(hugeEvent());
        device.append(10);
        await("the records before the huge one to arrive", 10_000, () -> cloud.prefix() == big - 1);
        await("the status to name the record", 10_000, () -> uplink.syncStatus().sizeLimit().contains("usage record "
                + "seq " + big));
        Thread.sleep(3_000);
        SyncStatus s = uplink.syncStatus();
        assertEquals(big - 1, cloud.prefix());
        assertEquals("no reconnect loop", 1, s.connects());
        assertEquals(0, s.disconnectsAfterPublish());
        assertEquals(LinkState.ONLINE, s.link());
        assertTrue(s.sizeLimit(), s.sizeLimit().contains("over the broker maximum packet size 4096 bytes: sending is "
                + "held at seq " + big + "; raise the broker's limit (mosquitto: max_packet_size) to at least "));
        assertEquals(s.sizeLimit(), io.tollgate.sync.files.SyncStateFiles.of(device.data).uplinkNote());
    }

    /** A usage event whose request id (16 000 random hex digits) makes its record about 8 KiB even deflated. */
    private static io.tollgate.metering.UsageEvent hugeEvent() {
        java.util.Random r = new java.util.Random(7);
        StringBuilder id = new StringBuilder();
        while (id.length() < 16_000) {
            id.append(Long.toHexString(r.nextLong()));
        }
        return new io.tollgate.metering.UsageEvent("acme", "fashion-mnist", "1.0.0", "io.tollgate.plugin.fashion-mnist",
                "1.0.0", "", "inference", 1, 1000, "cpu", id.toString(), "OK");
    }
}
