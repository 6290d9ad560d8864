package io.tollgate.cloud.ledger;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

import io.tollgate.cloud.TestRecordWriter;
import io.tollgate.cloud.billing.Invoice;
import io.tollgate.cloud.billing.InvoiceCalculator;
import io.tollgate.cloud.billing.Period;
import io.tollgate.cloud.record.Ed25519Keys;
import io.tollgate.cloud.record.Hex;
import io.tollgate.cloud.record.RecordDecoder;
import io.tollgate.cloud.record.RecordVectorTest;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import org.junit.After;
import org.junit.Before;
import org.junit.Test;

/** The ledger behaviour every supported database must show: H2LedgerTest and PostgresLedgerTest run it. */
public abstract class LedgerContract {
    protected Database db;
    protected Ledger ledger;
    protected BatchIngest ingest;

    /** A fresh, empty database URL. */
    protected abstract String freshUrl() throws Exception;

    protected abstract void dispose() throws Exception;

    @Before
    public void openLedger() throws Exception {
        db = Database.open(freshUrl());
        ledger = new Ledger(db);
        ingest = new BatchIngest(db);
    }

    @After
    public void closeLedger() throws Exception {
        if (db != null) {
            db.close();
        }
        dispose();
    }

    /** START, START seal, three usage records of acme (quantities 4, 1, 2), a seal over the last. */
    static List<byte[]> sixRecords(TestRecordWriter w) {
        List<byte[]> out = new ArrayList<>();
        out.add(w.start(0));
        out.add(w.seal(4));
        out.add(w.usage("acme", "fashion-mnist", "inference", 4));
        out.add(w.usage("acme", "fashion-mnist", "inference", 1));
        out.add(w.usage("acme", "fashion-mnist", "inference", 2));
        out.add(w.seal(1));
        return out;
    }

    TestRecordWriter registered() throws LedgerException {
        TestRecordWriter w = TestRecordWriter.newDevice();
        ledger.registerDevice(w.deviceId(), w.publicPem(), Set.of("acme", "beta", "other"));
        return w;
    }

    long billedQuantity(String device) throws LedgerException {
        return ledger.totals(new UsageFilter(device, null, null, null, null)).stream()
                .mapToLong(Ledger.Total::quantity).sum();
    }

    @Test
    public void migrationsAreVersionedAndRunOnce() throws Exception {
        Database again = Database.open(freshUrlOfOpenDb());
        again.close();
        try (Connection c = db.connect(); Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT version, description FROM schema_version ORDER BY version")) {
            assertTrue(rs.next());
            assertEquals(0, rs.getInt(1));
            assertTrue(rs.next());
            assertEquals(1, rs.getInt(1));
            assertEquals("ledger", rs.getString(2));
            assertTrue(rs.next());
            assertEquals(2, rs.getInt(1));
            assertEquals("drop_device_time_index", rs.getString(2));
            assertTrue(rs.next());
            assertEquals(3, rs.getInt(1));
            assertEquals("sealed_only_and_tenants", rs.getString(2));
            assertTrue(rs.next());
            assertEquals(4, rs.getInt(1));
            assertEquals("quarantined_batches_and_clones", rs.getString(2));
            assertTrue(rs.next());
            assertEquals(5, rs.getInt(1));
            assertEquals("licenses", rs.getString(2));
            assertFalse("each migration recorded once", rs.next());
        }
    }

    /** The URL of the database this test already opened (a second instance on the same ledger). */
    protected abstract String freshUrlOfOpenDb();

    @Test
    public void storesTheDocumentTestVector() throws Exception {
        ledger.registerDevice("tg-06e3fd8fda29bb60", new String(RecordVectorTest.resource("device.pub.pem"),
                StandardCharsets.US_ASCII), Set.of("acme"));
        try (Connection c = db.connect(); Statement st = c.createStatement()) { // a tenant name outside C1's alphabet
            st.execute("INSERT INTO device_tenants (device_id, tenant) VALUES ('tg-06e3fd8fda29bb60', 'müller-gmbh')");
        }
        IngestResult r = ingest.ingest("tg-06e3fd8fda29bb60",
                TestRecordWriter.batch(2, 1, Arrays.asList(RecordVectorTest.vector())));
        // the seal at seq 5 covers 1..4; the seal itself waits for the next one
        assertEquals(4, r.stored());
        assertEquals(0, r.quarantined());
        assertEquals(4, r.ackedSeq());
        assertEquals(1, r.pending());
        DeviceInfo d = ledger.device("tg-06e3fd8fda29bb60").orElseThrow();
        assertEquals("eef36f12241bde16b9e127684b53d09b604fdbba168217e139cb0f5d8f60d7ca", d.headHash());
        assertEquals(4, d.sealedSeq());
        List<Ledger.Total> totals = ledger.totals(UsageFilter.all());
        assertEquals(2, totals.size());
        assertEquals(new Ledger.Total("acme", "fashion-mnist", "inference", 1, 4), totals.get(0));
        assertEquals(new Ledger.Total("müller-gmbh", "fashion-mnist", "inference", 1, 1), totals.get(1));
        List<StoredUsage> usage = ledger.usage(UsageFilter.all(), 100);
        assertEquals(2, usage.size());
        assertEquals("req-0001", usage.get(0).requestId());
        assertEquals(1_768_478_401_500_000_000L, usage.get(0).wallTimeNanos());
    }

    @Test
    public void verifiedChainIsStoredAndBilledAcrossBatches() throws Exception {
        TestRecordWriter w = registered();
        List<byte[]> first = sixRecords(w);
        IngestResult r1 = ingest.ingest(w.deviceId(), TestRecordWriter.batch(2, 1, first));
        assertEquals(5, r1.stored());
        assertEquals(5, r1.ackedSeq());
        // the next batch continues the chain (raw encoding this time): unsealed, so neither billed nor acked
        List<byte[]> second = List.of(w.usage("acme", "fashion-mnist", "inference", 10),
                w.usage("beta", "fashion-mnist", "inference", 3));
        IngestResult r2 = ingest.ingest(w.deviceId(), TestRecordWriter.batch(0, 7, second));
        assertEquals(0, r2.stored());
        assertEquals(5, r2.ackedSeq());
        assertEquals(7, billedQuantity(w.deviceId()));
        // the seal over seq 8 arrives: 6 (the previous seal), 7 and 8 are billed
        IngestResult r3 = ingest.ingest(w.deviceId(), TestRecordWriter.batch(0, 9, List.of(w.seal(1))));
        assertEquals(3, r3.stored());
        assertEquals(8, r3.ackedSeq());
        assertFalse(r3.hasGap());
        assertEquals(20, billedQuantity(w.deviceId()));
        assertEquals(8, ledger.device(w.deviceId()).orElseThrow().sealedSeq());
        List<Ledger.Range> ranges = ledger.ranges(new UsageFilter(w.deviceId(), "acme", null, null, null));
        assertEquals(List.of(new Ledger.Range(w.deviceId(), 3, 7, 4, Hex.of(w.hashOf(7)))), ranges);
    }

    @Test
    public void duplicatesAreAbsorbed() throws Exception {
        TestRecordWriter w = registered();
        List<byte[]> records = sixRecords(w);
        byte[] batch = TestRecordWriter.batch(2, 1, records);
        ingest.ingest(w.deviceId(), batch);
        IngestResult again = ingest.ingest(w.deviceId(), batch);
        assertEquals(0, again.stored());
        assertEquals(6, again.duplicates()); // 1..5 stored, 6 (the seal) pending
        assertEquals(5, again.ackedSeq());
        // an overlapping batch in another encoding: the old part absorbed, the new part sealed and stored
        List<byte[]> overlap = new ArrayList<>(records.subList(3, 6));
        overlap.add(w.usage("acme", "fashion-mnist", "inference", 5));
        overlap.add(w.seal(1));
        IngestResult r = ingest.ingest(w.deviceId(), TestRecordWriter.batch(1, 4, overlap));
        assertEquals(3, r.duplicates());
        assertEquals(2, r.stored());
        assertEquals(12, billedQuantity(w.deviceId()));
        assertEquals(0, ledger.quarantineCount(null));
    }

    @Test
    public void differentBytesForAStoredSeqAreAConflict() throws Exception {
        TestRecordWriter w = registered();
        List<byte[]> records = sixRecords(w);
        ingest.ingest(w.deviceId(), TestRecordWriter.batch(2, 1, records));
        byte[] forged = records.get(2).clone();
        forged[forged.length - 40] ^= 1; // record 3's quantity
        IngestResult r = ingest.ingest(w.deviceId(), TestRecordWriter.batch(0, 3, List.of(forged)));
        assertEquals(1, r.quarantined());
        assertEquals(7, billedQuantity(w.deviceId()));
        List<QuarantineEntry> q = ledger.quarantine(w.deviceId(), 10);
        assertEquals(1, q.size());
        assertEquals(Long.valueOf(3), q.get(0).seq());
        assertTrue(q.get(0).reason(), q.get(0).reason().startsWith("conflict: seq 3 differs from the sealed record"));
        assertEquals(Hex.of(RecordDecoder.sha256(forged)), q.get(0).hash());
    }

    @Test
    public void tamperedRecordIsNeverBilledAndTheGenuineOneIsWhenResent() throws Exception {
        TestRecordWriter w = registered();
        List<byte[]> records = sixRecords(w);
        byte[] tampered = records.get(3).clone();
        tampered[tampered.length - 40] ^= 0x08; // record 4: quantity 1 -> 9
        List<byte[]> sent = new ArrayList<>(records);
        sent.set(3, tampered);
        // elided hashes: the chain stays self-consistent, but the seal at 6 signs the genuine hash of record 5
        IngestResult r = ingest.ingest(w.deviceId(), TestRecordWriter.batch(2, 1, sent));
        assertEquals(1, r.ackedSeq()); // the START seal vouches for record 1 only
        assertEquals(0, billedQuantity(w.deviceId()));
        assertTrue("a verified seal vouches for records the ledger lacks", r.hasGap());
        assertEquals(2, r.gapFrom());
        assertEquals("gap: have up to 1, the device sealed up to 5", r.gapReason());
        assertEquals(java.util.Optional.of(new Ledger.Gap(2, "gap: have up to 1, the device sealed up to 5")),
                ledger.gap(w.deviceId()));
        // the device resends from 2: the genuine records are covered by the seal, the tampered ones quarantined
        IngestResult resent = ingest.ingest(w.deviceId(), TestRecordWriter.batch(0, 2, records.subList(1, 6)));
        assertEquals(5, resent.ackedSeq());
        assertFalse(resent.hasGap());
        assertTrue(ledger.gap(w.deviceId()).isEmpty());
        assertEquals(7, billedQuantity(w.deviceId()));
        List<QuarantineEntry> q = ledger.quarantine(w.deviceId(), 10);
        assertEquals(2, q.size()); // the tampered 4 and the 5 that chained to it
        assertEquals(Hex.of(RecordDecoder.sha256(tampered)), q.get(0).hash());
        assertTrue(q.get(0).reason(), q.get(0).reason().contains("not covered by the device's seal"));
    }

    @Test
    public void aForgedUnsealedRecordIsNeverBilledAndNeverBlocksTheGenuineOne() throws Exception {
        TestRecordWriter w = registered();
        ingest.ingest(w.deviceId(), TestRecordWriter.batch(2, 1, sixRecords(w)));
        List<byte[]> genuine = new ArrayList<>();
        for (int i = 0; i < 1000; i++) {
            genuine.add(w.usage("acme", "fashion-mnist", "inference", 1));
        }
        // an anonymous publisher's record 7 in the device's name: right seq, right prev_hash, its own quantity
        byte[] forged = genuine.get(0).clone();
        forged[forged.length - 40] ^= 0x7f;
        IngestResult f = ingest.ingest(w.deviceId(), TestRecordWriter.batch(0, 7, List.of(forged)));
        assertEquals(0, f.stored());
        assertEquals(5, f.ackedSeq());
        assertEquals(1, f.pending());
        assertFalse("an unsigned record never triggers resends", f.hasGap());
        // the genuine 1,000 records and their seal: all billed, the forged record quarantined
        genuine.add(w.seal(1));
        for (int from = 0; from < genuine.size(); from += 300) {
            List<byte[]> part = genuine.subList(from, Math.min(genuine.size(), from + 300));
            ingest.ingest(w.deviceId(), TestRecordWriter.batch(2, 7 + from, part));
        }
        assertEquals(1006, ledger.device(w.deviceId()).orElseThrow().headSeq());
        assertEquals(1007, billedQuantity(w.deviceId()));
        List<QuarantineEntry> q = ledger.quarantine(w.deviceId(), 10);
        assertEquals(1, q.size());
        assertEquals(Hex.of(RecordDecoder.sha256(forged)), q.get(0).hash());
        assertTrue(q.get(0).reason(), q.get(0).reason().contains("not covered by the device's seal"));
        // the forged record again, now below the sealed head: a conflict, still never billed
        IngestResult again = ingest.ingest(w.deviceId(), TestRecordWriter.batch(0, 7, List.of(forged)));
        assertEquals(1, again.quarantined());
        assertEquals(1007, billedQuantity(w.deviceId()));
    }

    @Test
    public void aRecordNamingAnUnboundTenantIsSealedAckedAndNeverBilled() throws Exception {
        TestRecordWriter w = TestRecordWriter.newDevice();
        assertTrue(ledger.registerDevice(w.deviceId(), w.publicPem(), Set.of("acme")));
        List<byte[]> records = sixRecords(w); // acme 4 + 1 + 2
        records.add(w.usage("globex", "fashion-mnist", "inference", 50_000));
        records.add(w.usage("acme", "fashion-mnist", "inference", 3));
        records.add(w.seal(1));
        IngestResult r = ingest.ingest(w.deviceId(), TestRecordWriter.batch(2, 1, records));
        assertEquals(8, r.ackedSeq()); // the chain goes on: acked past the globex record
        assertEquals(1, r.quarantined());
        assertEquals(10, billedQuantity(w.deviceId()));
        assertTrue(ledger.invoiceUsage("globex", Long.MIN_VALUE, Long.MAX_VALUE).isEmpty());
        assertTrue(ledger.usage(new UsageFilter(null, "globex", null, null, null), 10).isEmpty());
        QuarantineEntry q = ledger.quarantine(w.deviceId(), 10).get(0);
        assertEquals(Long.valueOf(7), q.seq());
        assertTrue(q.reason(), q.reason().contains("tenant 'globex' is not bound to device " + w.deviceId()
                + " (bound: acme)"));
        assertEquals(Set.of("acme"), ledger.device(w.deviceId()).orElseThrow().tenants());
    }

    @Test
    public void aSealWithABadSignatureIsQuarantinedAndBlocksNothing() throws Exception {
        TestRecordWriter w = registered();
        ingest.ingest(w.deviceId(), TestRecordWriter.batch(2, 1, sixRecords(w)));
        ingest.ingest(w.deviceId(), TestRecordWriter.batch(2, 7, List.of(w.usage("acme", "fashion-mnist",
                "inference", 10))));
        assertEquals("unsealed usage is not billed", 7, billedQuantity(w.deviceId()));
        byte[] genuineSeal = w.seal(1); // seq 8 over 7
        byte[] badSeal = genuineSeal.clone();
        badSeal[badSeal.length - 1] ^= 1;
        IngestResult r = ingest.ingest(w.deviceId(), TestRecordWriter.batch(2, 8, List.of(badSeal)));
        assertEquals(1, r.quarantined());
        assertEquals(5, r.ackedSeq());
        assertEquals(7, billedQuantity(w.deviceId()));
        assertTrue(ledger.quarantine(w.deviceId(), 10).get(0).reason().contains("seq 8: seal signature invalid"));
        // the device's own seal at seq 8 is not blocked by it
        IngestResult ok = ingest.ingest(w.deviceId(), TestRecordWriter.batch(2, 8, List.of(genuineSeal)));
        assertEquals(7, ok.ackedSeq());
        assertEquals(17, billedQuantity(w.deviceId()));
    }

    @Test
    public void unknownDeviceIsQuarantinedAndNotAcked() throws Exception {
        TestRecordWriter w = TestRecordWriter.newDevice();
        IngestResult r = ingest.ingest(w.deviceId(), TestRecordWriter.batch(2, 1, sixRecords(w)));
        assertFalse(r.knownDevice());
        assertEquals(6, r.quarantined());
        assertEquals(0, r.ackedSeq());
        assertTrue(ledger.usage(UsageFilter.all(), 10).isEmpty());
        assertTrue(ledger.quarantine(null, 10).get(0).reason().startsWith("unknown device " + w.deviceId()));
        // a record naming another device than its topic
        TestRecordWriter other = registered();
        TestRecordWriter stranger = TestRecordWriter.newDevice();
        IngestResult wrong = ingest.ingest(other.deviceId(), TestRecordWriter.batch(2, 1, sixRecords(stranger)));
        assertEquals(0, wrong.stored());
        assertEquals(6, wrong.quarantined());
        assertTrue(ledger.quarantine(other.deviceId(), 1).get(0).reason().contains("names device '"
                + stranger.deviceId() + "'"));
    }

    @Test
    public void undecodableBatchIsQuarantined() throws Exception {
        TestRecordWriter w = registered();
        IngestResult r = ingest.ingest(w.deviceId(), "not a batch".getBytes(StandardCharsets.US_ASCII));
        assertEquals(1, r.quarantined());
        QuarantineEntry q = ledger.quarantine(w.deviceId(), 10).get(0);
        assertEquals(null, q.seq());
        assertTrue(q.reason(), q.reason().startsWith("batch not decodable"));
    }

    @Test
    public void aGapIsHeldUntilFilledThenVerified() throws Exception {
        TestRecordWriter w = registered();
        List<byte[]> records = sixRecords(w);
        List<byte[]> tail = List.of(w.usage("acme", "fashion-mnist", "inference", 10), w.seal(1));
        IngestResult gap = ingest.ingest(w.deviceId(), TestRecordWriter.batch(2, 7, tail));
        assertTrue(gap.hasGap());
        assertEquals(1, gap.gapFrom());
        assertEquals("gap: have up to 0, the device sealed up to 7", gap.gapReason());
        assertEquals(2, gap.pending());
        assertEquals(0, gap.ackedSeq());
        assertEquals(0, billedQuantity(w.deviceId()));
        assertEquals(7, ledger.firstPending(w.deviceId()).orElseThrow());
        IngestResult fill = ingest.ingest(w.deviceId(), TestRecordWriter.batch(2, 1, records));
        assertFalse(fill.hasGap());
        assertEquals(7, fill.stored());
        assertEquals(7, fill.ackedSeq());
        assertEquals(17, billedQuantity(w.deviceId()));
        assertEquals(8, ledger.firstPending(w.deviceId()).orElseThrow()); // the last seal waits for the next one
        assertEquals(7, ledger.device(w.deviceId()).orElseThrow().sealedSeq());
    }

    @Test
    public void invoicesPriceTheStoredUsage() throws Exception {
        TestRecordWriter a = registered();
        TestRecordWriter b = registered();
        long nov = Period.nanos(java.time.Instant.parse("2026-11-03T10:00:00Z"));
        long dec = Period.nanos(java.time.Instant.parse("2026-12-01T00:00:00Z"));
        a.at(nov, 1);
        List<byte[]> ra = sixRecords(a); // acme 4 + 1 + 2 = 7
        ra.add(a.usage("acme", "ocr", "1.0.0", "io.tollgate.plugin.ocr", "1.0.0", "", "page", 3, 1, "cpu", "r", "OK"));
        a.at(dec, 2);
        ra.add(a.usage("acme", "fashion-mnist", "inference", 1000)); // December: not on the November invoice
        ra.add(a.seal(1));
        ingest.ingest(a.deviceId(), TestRecordWriter.batch(2, 1, ra));
        b.at(nov + 5, 1);
        List<byte[]> rb = sixRecords(b);
        rb.add(b.usage("other", "fashion-mnist", "inference", 70)); // another tenant
        rb.add(b.seal(1));
        ingest.ingest(b.deviceId(), TestRecordWriter.batch(2, 1, rb));

        ledger.replacePrices(List.of(
                new Ledger.PriceRow("model", "fashion-mnist", "inference", new BigDecimal("0.25"), "EUR"),
                new Ledger.PriceRow("plugin", "io.tollgate.plugin.ocr", "page", new BigDecimal("0.125"), "EUR")));
        Invoice inv = new InvoiceCalculator(ledger).invoice("acme", Period.parse("2026-11"));
        assertEquals("EUR", inv.currency());
        assertEquals("2026-11-01T00:00:00Z", inv.from());
        assertEquals(2, inv.lines().size());
        Invoice.Line fm = inv.lines().get(0);
        assertEquals("fashion-mnist", fm.model());
        assertEquals(14, fm.quantity());
        assertEquals(6, fm.requests());
        assertEquals(new BigDecimal("3.50"), fm.amount());
        assertEquals(List.of(new Ledger.Range(a.deviceId(), 3, 5, 3, Hex.of(a.hashOf(5))),
                new Ledger.Range(b.deviceId(), 3, 5, 3, Hex.of(b.hashOf(5)))).stream()
                .sorted(java.util.Comparator.comparing(Ledger.Range::device)).toList(), fm.ranges());
        Invoice.Line ocr = inv.lines().get(1);
        assertEquals("page", ocr.meter());
        assertEquals(new BigDecimal("0.125"), ocr.unitPrice());
        assertEquals(new BigDecimal("0.38"), ocr.amount()); // 0.375 rounded half-up
        assertEquals(List.of(new Ledger.Range(a.deviceId(), 7, 7, 1, Hex.of(a.hashOf(7)))), ocr.ranges());
        assertEquals(new BigDecimal("3.88"), inv.total());
        Invoice december = new InvoiceCalculator(ledger).invoice("acme", Period.parse("2026-12"));
        assertEquals(1000, december.lines().get(0).quantity());
        assertEquals(new BigDecimal("250.00"), december.total());
        try {
            Period.parse("2026-13");
            fail("month 13 accepted");
        } catch (IllegalArgumentException expected) {
            assertTrue(expected.getMessage().contains("2026-13"));
        }
    }

    @Test
    public void registrationValidatesTheKeyTheTenantsAndRefusesAnotherKeyForAnId() throws Exception {
        TestRecordWriter w = registered();
        assertFalse("same id, key and tenants again: not new",
                ledger.registerDevice(w.deviceId(), w.publicPem(), Set.of("acme", "beta", "other")));
        expect(LedgerException.Reason.CONFLICT, () -> ledger.registerDevice(w.deviceId(),
                TestRecordWriter.newDevice().publicPem(), null));
        expect(LedgerException.Reason.CONFLICT, () -> ledger.registerDevice(w.deviceId(), w.publicPem(),
                Set.of("globex")));
        expect(LedgerException.Reason.BAD_INPUT, () -> ledger.registerDevice("tg-x",
                "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n", null));
        expect(LedgerException.Reason.BAD_INPUT, () -> ledger.registerDevice("a/b", w.publicPem(), null));
        expect(LedgerException.Reason.BAD_INPUT, () -> ledger.registerDevice("tollgate-billing", w.publicPem(), null));
        TestRecordWriter x = TestRecordWriter.newDevice();
        expect(LedgerException.Reason.BAD_INPUT, () -> ledger.registerDevice(x.deviceId(), x.publicPem(),
                Set.of("Acme")));
        expect(LedgerException.Reason.BAD_INPUT, () -> ledger.registerDevice(x.deviceId(), x.publicPem(),
                Set.of("-acme")));
        assertTrue(ledger.device(x.deviceId()).isEmpty());
        assertTrue(ledger.registerDevice(x.deviceId(), x.publicPem(), null));
        assertEquals(Set.of("default"), ledger.device(x.deviceId()).orElseThrow().tenants());
    }

    @Test
    public void anIdThatDiffersOnlyInLetterCaseIsRefusedNamingTheRegisteredOne() throws Exception {
        TestRecordWriter w = TestRecordWriter.newDevice();
        assertTrue(ledger.registerDevice("TG-574E0A1B", w.publicPem(), null));
        TestRecordWriter other = TestRecordWriter.newDevice();
        try {
            ledger.registerDevice("tg-574e0a1b", other.publicPem(), null);
            fail("a look-alike id was registered as a new device");
        } catch (LedgerException e) {
            assertEquals(e.getMessage(), LedgerException.Reason.CONFLICT, e.reason());
            assertTrue(e.getMessage(), e.getMessage().contains("TG-574E0A1B"));
        }
        expect(LedgerException.Reason.CONFLICT, () -> ledger.registerDevice("Tg-574E0a1B", w.publicPem(), null));
        assertTrue(ledger.device("tg-574e0a1b").isEmpty());
        assertFalse("the registered id itself again: not new", ledger.registerDevice("TG-574E0A1B", w.publicPem(),
                null));
    }

    private interface Registration {
        void run() throws LedgerException;
    }

    private static void expect(LedgerException.Reason reason, Registration r) {
        try {
            r.run();
            fail("accepted; expected " + reason);
        } catch (LedgerException e) {
            assertEquals(e.getMessage(), reason, e.reason());
        }
    }
}
