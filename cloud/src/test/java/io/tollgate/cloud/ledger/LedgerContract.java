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

    /**
     * Hybrid overflow (docs/scheduling.md): a box meters the requests its route sent to another box as
     * {@code remote:<route>}; a price list priced by that accelerator bills them at their own price (here 0, because
     * the other box meters them too) in a line of their own, and the rest of the model's usage as before.
     */
    @Test
    public void anAcceleratorPriceBillsThatAcceleratorsUsageInALineOfItsOwn() throws Exception {
        TestRecordWriter a = registered();
        long nov = Period.nanos(java.time.Instant.parse("2026-11-03T10:00:00Z"));
        a.at(nov, 1);
        List<byte[]> records = sixRecords(a);   // acme: fashion-mnist 4 + 1 + 2 on cpu
        records.add(a.usage("acme", "fashion-mnist", "1.0.0", "io.tollgate.plugin.fashion-mnist", "1.0.0", "",
                "inference", 5, 9, "remote:plant-b", "r-remote-1", "OK"));
        records.add(a.usage("acme", "fashion-mnist", "inference", 3));   // cpu again, after the remote one
        records.add(a.usage("acme", "fashion-mnist", "", "", "", "", "inference", 2, 9, "remote:plant-b",
                "r-remote-2", "OK"));   // a model that exists on this box only as a route: no plugin here
        records.add(a.seal(1));
        ingest.ingest(a.deviceId(), TestRecordWriter.batch(2, 1, records));
        ledger.replacePrices(List.of(
                new Ledger.PriceRow("model", "fashion-mnist", "inference", new BigDecimal("0.25"), "EUR"),
                new Ledger.PriceRow(io.tollgate.cloud.billing.PriceList.ACCELERATOR, "remote:plant-b", "inference", BigDecimal.ZERO, "EUR")));
        Invoice inv = new InvoiceCalculator(ledger).invoice("acme", Period.parse("2026-11"));
        List<String> lines = inv.lines().stream().map(l -> l.model() + "|" + l.plugin() + "|" + l.accelerator()
                + " q=" + l.quantity() + " r=" + l.requests() + " " + l.amount()).toList();
        assertEquals(List.of("fashion-mnist||remote:plant-b q=2 r=1 0.00",
                "fashion-mnist|io.tollgate.plugin.fashion-mnist| q=10 r=4 2.50",
                "fashion-mnist|io.tollgate.plugin.fashion-mnist|remote:plant-b q=5 r=1 0.00"), lines);
        assertEquals(new BigDecimal("2.50"), inv.total());
        assertEquals(List.of(new Ledger.Range(a.deviceId(), 3, 8, 4, Hex.of(a.hashOf(8)))), inv.lines().get(1).ranges());
        assertTrue(io.tollgate.cloud.billing.UsageExport.invoiceJson(inv).toString()
                .contains("\"accelerator\":\"remote:plant-b\""));

        // without an accelerator price: one line as before, every accelerator at the model's price
        ledger.replacePrices(List.of(
                new Ledger.PriceRow("model", "fashion-mnist", "inference", new BigDecimal("0.25"), "EUR")));
        inv = new InvoiceCalculator(ledger).invoice("acme", Period.parse("2026-11"));
        assertEquals(2, inv.lines().size());   // the route-only records have no plugin: a line of their own
        assertEquals(15, inv.lines().get(1).quantity());
        assertEquals(new BigDecimal("4.25"), inv.total());
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

    // ---- licenses (issue 10) ------------------------------------------------------------------------------

    static java.security.KeyPair vendorKeys() throws Exception {
        return java.security.KeyPairGenerator.getInstance("Ed25519").generateKeyPair();
    }

    static io.tollgate.licensing.vendor.LicenseIssuer issuer(java.security.KeyPair k) {
        return new io.tollgate.licensing.vendor.LicenseIssuer("Acme Models", k.getPrivate(), k.getPublic())
                .tenant("acme").plugin("fashion-mnist").versions("[1.0.0,2.0.0)");
    }

    static final String DEVICE_KEY_FP = "ab".repeat(32);

    @Test
    public void licensesAreImportedListedQueuedAndMarkedPushed() throws Exception {
        TestRecordWriter a = registered();
        TestRecordWriter b = registered();
        java.security.KeyPair vendor = vendorKeys();
        byte[] bound = issuer(vendor).id("lic-bound").device(a.deviceId(), DEVICE_KEY_FP).quota(1000L, "inference")
                .issue();
        byte[] unbound = issuer(vendor).id("lic-free").issue();
        Licenses licenses = new Licenses(db);
        io.tollgate.cloud.licenses.LicenseFile.Parsed pb = io.tollgate.cloud.licenses.LicenseFile.license(bound,
                vendor.getPublic());
        assertTrue(pb.verified());
        assertEquals(Licenses.Imported.NEW, licenses.importLicense(pb.license(), true, bound));
        assertEquals(Licenses.Imported.UNCHANGED, licenses.importLicense(pb.license(), true, bound));
        io.tollgate.cloud.licenses.LicenseFile.Parsed pu = io.tollgate.cloud.licenses.LicenseFile.license(unbound,
                null);
        assertFalse("no vendor key: not verified", pu.verified());
        assertEquals(Licenses.Imported.NEW, licenses.importLicense(pu.license(), false, unbound));
        byte[] reissued = issuer(vendor).id("lic-free").quota(5L, "inference").issue();
        try {
            licenses.importLicense(io.tollgate.cloud.licenses.LicenseFile.license(reissued, null).license(), false,
                    reissued);
            fail("another file under a known id imported");
        } catch (LedgerException e) {
            assertEquals(LedgerException.Reason.CONFLICT, e.reason());
        }

        // the bound one is queued for its device at import; the unbound one for nobody yet
        List<Licenses.PendingPush> pending = licenses.pending(10);
        assertEquals(1, pending.size());
        assertEquals(a.deviceId(), pending.get(0).deviceId());
        assertEquals("license", pending.get(0).command());
        assertEquals("lic-bound", pending.get(0).licenseId());
        org.junit.Assert.assertArrayEquals(bound, pending.get(0).file());

        List<Licenses.LicenseRow> rows = licenses.list(null);
        assertEquals(List.of("lic-bound", "lic-free"), rows.stream().map(Licenses.LicenseRow::licenseId).toList());
        Licenses.LicenseRow r = rows.get(0);
        assertEquals(a.deviceId(), r.deviceId());
        assertEquals(Long.valueOf(1000), r.quota());
        assertEquals("inference", r.meter());
        assertEquals("[1.0.0,2.0.0)", r.versions());
        assertTrue(r.vendorVerified());
        assertEquals(Licenses.sha256(bound), r.fileHash());
        assertEquals(null, rows.get(1).deviceId());
        assertEquals(null, rows.get(1).quota());
        assertEquals(null, rows.get(1).expires());
        assertFalse(rows.get(1).vendorVerified());
        assertEquals(List.of(), licenses.list("other"));

        licenses.push("lic-free", b.deviceId());
        for (String[] bad : new String[][] {{"lic-bound", b.deviceId(), "CONFLICT"}, {"lic-free", "tg-nobody",
                "NOT_FOUND"}, {"lic-unknown", b.deviceId(), "NOT_FOUND"}}) {
            try {
                licenses.push(bad[0], bad[1]);
                fail("pushed " + bad[0] + " to " + bad[1]);
            } catch (LedgerException e) {
                assertEquals(bad[0] + " to " + bad[1] + ": " + e.getMessage(), bad[2], e.reason().name());
            }
        }
        pending = licenses.pending(10);
        assertEquals(2, pending.size());
        licenses.attempted(pending.get(0).id(), true);
        licenses.attempted(pending.get(1).id(), false);
        assertEquals(List.of(pending.get(1).id()), licenses.pending(10).stream().map(Licenses.PendingPush::id)
                .toList());
        Licenses.Push done = licenses.pushes(a.deviceId()).get(0);
        assertTrue(done.pushedAt() != null);
        assertEquals(1, done.attempts());
        licenses.push("lic-bound", a.deviceId()); // again: the same row, queued again
        assertEquals(2, licenses.pending(10).size());
        assertEquals(1, licenses.pushes(a.deviceId()).size());

        byte[] revocations = io.tollgate.licensing.vendor.RevocationIssuer.issue(vendor.getPrivate(),
                vendor.getPublic(), List.of("lic-free"), null);
        assertEquals(Set.of("lic-free"), io.tollgate.cloud.licenses.LicenseFile.revocations(revocations,
                vendor.getPublic()).revoked());
        List<String> to = licenses.pushRevocations(revocations, List.of());
        assertEquals(List.of(a.deviceId(), b.deviceId()).stream().sorted().toList(), to);
        assertEquals(4, licenses.pending(10).size());
    }

    @Test
    public void aLicenseThatDoesNotVerifyWithTheVendorKeyIsRefused() throws Exception {
        java.security.KeyPair vendor = vendorKeys();
        java.security.KeyPair other = vendorKeys();
        byte[] lic = issuer(vendor).id("lic-1").issue();
        try {
            io.tollgate.cloud.licenses.LicenseFile.license(lic, other.getPublic());
            fail("verified with another vendor's key");
        } catch (IllegalArgumentException e) {
            assertTrue(e.getMessage(), e.getMessage().contains("unknown vendor"));
        }
        String text = new String(lic, java.nio.charset.StandardCharsets.UTF_8);
        int at = text.indexOf("\"payload\":\"") + 12;
        char c = text.charAt(at + 20);
        byte[] flipped = (text.substring(0, at + 20) + (c == 'A' ? 'B' : 'A') + text.substring(at + 21))
                .getBytes(java.nio.charset.StandardCharsets.UTF_8);
        try {
            io.tollgate.cloud.licenses.LicenseFile.license(flipped, vendor.getPublic());
            fail("a changed payload verified");
        } catch (IllegalArgumentException e) {
            assertTrue(e.getMessage(), e.getMessage().contains("invalid license"));
        }
        try {
            io.tollgate.cloud.licenses.LicenseFile.license("{\"format\":\"tollgate-revocations/1\",\"payload\":\"e30=\","
                    .concat("\"signature\":\"\"}").getBytes(java.nio.charset.StandardCharsets.UTF_8), null);
            fail("a revocation envelope imported as a license");
        } catch (IllegalArgumentException e) {
            assertTrue(e.getMessage(), e.getMessage().contains("not a tollgate-license/1 file"));
        }
    }

    @Test
    public void invoicesShowEachLicensesPrepaidQuotaAndMeteredOverage() throws Exception {
        TestRecordWriter a = registered();
        java.security.KeyPair vendor = vendorKeys();
        byte[] quota5 = issuer(vendor).id("lic-q5").device(a.deviceId(), DEVICE_KEY_FP).quota(5L, "inference")
                .issue();
        byte[] unlimited = issuer(vendor).id("lic-metered").issue();
        Licenses licenses = new Licenses(db);
        licenses.importLicense(io.tollgate.cloud.licenses.LicenseFile.license(quota5, null).license(), false, quota5);
        licenses.importLicense(io.tollgate.cloud.licenses.LicenseFile.license(unlimited, null).license(), false,
                unlimited);
        long oct = Period.nanos(java.time.Instant.parse("2026-10-20T10:00:00Z"));
        long nov = Period.nanos(java.time.Instant.parse("2026-11-03T10:00:00Z"));
        List<byte[]> rs = new ArrayList<>();
        a.at(oct, 1);
        rs.add(a.start(0));
        rs.add(a.usage("acme", "fashion-mnist", "1.0.0", "fashion-mnist", "1.0.0", "lic-q5", "inference", 3, 1,
                "cpu", "r1", "OK"));
        a.at(nov, 2);
        rs.add(a.usage("acme", "fashion-mnist", "1.0.0", "fashion-mnist", "1.0.0", "lic-q5", "inference", 4, 1,
                "cpu", "r2", "OK"));
        rs.add(a.usage("acme", "fashion-mnist", "1.0.0", "fashion-mnist", "1.0.0", "lic-metered", "inference", 10, 1,
                "cpu", "r3", "OK"));
        rs.add(a.usage("acme", "fashion-mnist", "1.0.0", "fashion-mnist", "1.0.0", "lic-not-imported", "inference",
                1, 1, "cpu", "r4", "OK"));
        rs.add(a.usage("acme", "fashion-mnist", "1.0.0", "fashion-mnist", "1.0.0", "", "inference", 100, 1, "cpu",
                "r5", "OK"));
        rs.add(a.seal(1));
        ingest.ingest(a.deviceId(), TestRecordWriter.batch(2, 1, rs));
        ledger.replacePrices(List.of(new Ledger.PriceRow("model", "fashion-mnist", "inference",
                new BigDecimal("0.25"), "EUR")));

        Invoice inv = new InvoiceCalculator(ledger).invoice("acme", Period.parse("2026-11"));
        assertEquals(1, inv.lines().size());
        Invoice.Line line = inv.lines().get(0);
        assertEquals(115, line.quantity()); // 4 + 10 + 1 + 100
        // lic-q5: 3 used in October, so 2 of November's 4 are within the quota of 5, 2 are overage
        assertEquals(2, line.prepaid());
        assertEquals(113, line.billed());
        assertEquals(new BigDecimal("28.25"), line.amount());
        assertEquals(3, inv.licenses().size());
        Invoice.LicenseUse q5 = inv.licenses().stream().filter(u -> u.licenseId().equals("lic-q5")).findFirst()
                .orElseThrow();
        assertEquals(new Invoice.LicenseUse("lic-q5", a.deviceId(), "fashion-mnist", "inference", true, 5L, 3, 4, 2,
                2), q5);
        Invoice.LicenseUse metered = inv.licenses().stream().filter(u -> u.licenseId().equals("lic-metered"))
                .findFirst().orElseThrow();
        assertEquals(new Invoice.LicenseUse("lic-metered", a.deviceId(), "fashion-mnist", "inference", true, null, 0,
                10, 0, 10), metered);
        Invoice.LicenseUse unknown = inv.licenses().stream().filter(u -> u.licenseId().equals("lic-not-imported"))
                .findFirst().orElseThrow();
        assertFalse(unknown.known());
        assertEquals(1, unknown.overage());

        Invoice october = new InvoiceCalculator(ledger).invoice("acme", Period.parse("2026-10"));
        assertEquals(3, october.lines().get(0).prepaid());
        assertEquals(new BigDecimal("0.00"), october.total());
        com.fasterxml.jackson.databind.JsonNode json = io.tollgate.cloud.billing.UsageExport.invoiceJson(inv);
        assertEquals(2, json.get("lines").get(0).get("prepaid").asLong());
        assertEquals(113, json.get("lines").get(0).get("billed_quantity").asLong());
        assertEquals(5, json.get("licenses").get(2).get("quota").asLong());
        assertEquals(2, json.get("licenses").get(2).get("overage").asLong());
    }
}
