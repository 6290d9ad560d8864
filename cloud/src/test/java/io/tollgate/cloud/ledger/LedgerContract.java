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
        ledger.registerDevice(w.deviceId(), w.publicPem());
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
            assertFalse("each migration recorded once", rs.next());
        }
    }

    /** The URL of the database this test already opened (a second instance on the same ledger). */
    protected abstract String freshUrlOfOpenDb();

    @Test
    public void storesTheDocumentTestVector() throws Exception {
        ledger.registerDevice("tg-06e3fd8fda29bb60", new String(RecordVectorTest.resource("device.pub.pem"),
                StandardCharsets.US_ASCII));
        IngestResult r = ingest.ingest("tg-06e3fd8fda29bb60",
                TestRecordWriter.batch(2, 1, Arrays.asList(RecordVectorTest.vector())));
        assertEquals(5, r.stored());
        assertEquals(0, r.quarantined());
        assertEquals(5, r.ackedSeq());
        DeviceInfo d = ledger.device("tg-06e3fd8fda29bb60").orElseThrow();
        assertEquals("5bac676291e8dd2846e8459e668f937c02530d2963a4b9f035014fcfa54dbde5", d.headHash());
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
        assertEquals(6, r1.stored());
        assertEquals(6, r1.ackedSeq());
        // the next batch continues the chain from the stored head (raw encoding this time), unsealed tail included
        List<byte[]> second = List.of(w.usage("acme", "fashion-mnist", "inference", 10),
                w.usage("beta", "fashion-mnist", "inference", 3));
        IngestResult r2 = ingest.ingest(w.deviceId(), TestRecordWriter.batch(0, 7, second));
        assertEquals(2, r2.stored());
        assertEquals(8, r2.ackedSeq());
        assertEquals(20, billedQuantity(w.deviceId()));
        assertEquals(5, ledger.device(w.deviceId()).orElseThrow().sealedSeq());
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
        assertEquals(6, again.duplicates());
        assertEquals(6, again.ackedSeq());
        // an overlapping batch in another encoding: the old part absorbed, the new part stored
        List<byte[]> overlap = new ArrayList<>(records.subList(3, 6));
        overlap.add(w.usage("acme", "fashion-mnist", "inference", 5));
        IngestResult r = ingest.ingest(w.deviceId(), TestRecordWriter.batch(1, 4, overlap));
        assertEquals(3, r.duplicates());
        assertEquals(1, r.stored());
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
        assertTrue(q.get(0).reason(), q.get(0).reason().startsWith("conflict: seq 3 differs"));
        assertEquals(Hex.of(RecordDecoder.sha256(forged)), q.get(0).hash());
    }

    @Test
    public void tamperedRecordIsQuarantinedAndNotBilled() throws Exception {
        TestRecordWriter w = registered();
        List<byte[]> records = sixRecords(w);
        byte[] tampered = records.get(3).clone();
        tampered[tampered.length - 40] ^= 0x08; // record 4: quantity 1 -> 9
        records.set(3, tampered);
        // elided hashes: the chain stays self-consistent, the seal over record 5 exposes it
        IngestResult r = ingest.ingest(w.deviceId(), TestRecordWriter.batch(2, 1, records));
        assertEquals(1, r.ackedSeq()); // the START seal vouches for record 1 only
        assertEquals(0, billedQuantity(w.deviceId()));
        assertEquals(5, r.quarantined());
        DeviceInfo d = ledger.device(w.deviceId()).orElseThrow();
        assertEquals(2, d.brokenAtSeq());
        assertTrue(d.brokenReason(), d.brokenReason().contains("seq 6: seal's sealed_hash is not the hash of seq 5"));
        // raw encoding: the record after the tampered one no longer links
        TestRecordWriter w2 = registered();
        List<byte[]> raw = sixRecords(w2);
        byte[] t2 = raw.get(4).clone();
        t2[t2.length - 40] ^= 0x08;
        raw.set(4, t2);
        IngestResult r2 = ingest.ingest(w2.deviceId(), TestRecordWriter.batch(0, 1, raw));
        assertEquals(1, r2.ackedSeq());
        assertEquals(0, billedQuantity(w2.deviceId()));
        assertTrue(ledger.device(w2.deviceId()).orElseThrow().brokenReason()
                .contains("seq 6: prev_hash does not match the hash of seq 5"));
        // later records of a broken device are quarantined too, never billed
        IngestResult later = ingest.ingest(w2.deviceId(), TestRecordWriter.batch(0, 7,
                List.of(w2.usage("acme", "fashion-mnist", "inference", 100))));
        assertEquals(1, later.quarantined());
        assertEquals(0, billedQuantity(w2.deviceId()));
        assertTrue(ledger.invoiceUsage("acme", Long.MIN_VALUE, Long.MAX_VALUE).isEmpty());
    }

    @Test
    public void badSealQuarantinesFromThenOn() throws Exception {
        TestRecordWriter w = registered();
        List<byte[]> records = sixRecords(w);
        ingest.ingest(w.deviceId(), TestRecordWriter.batch(2, 1, records));
        // unsealed usage is stored and billed at once
        ingest.ingest(w.deviceId(), TestRecordWriter.batch(2, 7, List.of(w.usage("acme", "fashion-mnist",
                "inference", 10))));
        assertEquals(17, billedQuantity(w.deviceId()));
        // a seal signed by another key
        byte[] forgedSeal = w.seal(7, w.hashOf(7), 1, Ed25519Keys.generate());
        byte[] after = w.usage("acme", "fashion-mnist", "inference", 50);
        IngestResult r = ingest.ingest(w.deviceId(), TestRecordWriter.batch(2, 8, List.of(forgedSeal, after)));
        assertEquals(2, r.quarantined());
        assertEquals(7, r.ackedSeq());
        assertEquals(17, billedQuantity(w.deviceId()));
        DeviceInfo d = ledger.device(w.deviceId()).orElseThrow();
        assertEquals(8, d.brokenAtSeq());
        assertEquals("seq 8: seal signature invalid", d.brokenReason());
        // a seal that does not move forward is invalid as well
        TestRecordWriter w2 = registered();
        List<byte[]> r2 = sixRecords(w2);
        r2.add(w2.seal(5, w2.hashOf(5), 1, null)); // seq 7 seals 5 again
        IngestResult res = ingest.ingest(w2.deviceId(), TestRecordWriter.batch(0, 1, r2));
        assertEquals(5, res.ackedSeq());
        assertTrue(ledger.device(w2.deviceId()).orElseThrow().brokenReason()
                .contains("sealed_seq 5 is not after the previous seal's 5"));
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
        assertTrue(ledger.device(other.deviceId()).orElseThrow().brokenReason().contains("names device '"
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
        assertEquals("gap: have up to 0, got 7", gap.gapReason());
        assertEquals(2, gap.pending());
        assertEquals(0, gap.ackedSeq());
        assertEquals(0, billedQuantity(w.deviceId()));
        assertEquals(7, ledger.firstPending(w.deviceId()).orElseThrow());
        IngestResult fill = ingest.ingest(w.deviceId(), TestRecordWriter.batch(2, 1, records));
        assertFalse(fill.hasGap());
        assertEquals(8, fill.stored());
        assertEquals(8, fill.ackedSeq());
        assertEquals(17, billedQuantity(w.deviceId()));
        assertTrue(ledger.firstPending(w.deviceId()).isEmpty());
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
        ingest.ingest(a.deviceId(), TestRecordWriter.batch(2, 1, ra));
        b.at(nov + 5, 1);
        List<byte[]> rb = sixRecords(b);
        rb.add(b.usage("other", "fashion-mnist", "inference", 70)); // another tenant
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
    public void registrationValidatesTheKeyAndRefusesAnotherKeyForAnId() throws Exception {
        TestRecordWriter w = registered();
        ledger.registerDevice(w.deviceId(), w.publicPem()); // same key again: fine
        try {
            ledger.registerDevice(w.deviceId(), TestRecordWriter.newDevice().publicPem());
            fail("re-registered with another key");
        } catch (LedgerException e) {
            assertEquals(LedgerException.Reason.CONFLICT, e.reason());
        }
        try {
            ledger.registerDevice("tg-x", "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n");
            fail("accepted a non-Ed25519 key");
        } catch (LedgerException e) {
            assertEquals(LedgerException.Reason.BAD_INPUT, e.reason());
        }
        try {
            ledger.registerDevice("a/b", w.publicPem());
            fail("accepted a topic-breaking id");
        } catch (LedgerException e) {
            assertEquals(LedgerException.Reason.BAD_INPUT, e.reason());
        }
    }
}
