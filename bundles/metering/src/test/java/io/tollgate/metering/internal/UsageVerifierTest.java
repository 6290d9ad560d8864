package io.tollgate.metering.internal;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertTrue;

import io.tollgate.metering.internal.RecordFormat.Decoded;
import io.tollgate.metering.internal.RecordFormat.SealReason;
import io.tollgate.metering.internal.RecordFormat.SealStatement;
import io.tollgate.metering.testing.TestJournal;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.function.UnaryOperator;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import net.openhft.chronicle.queue.ExcerptAppender;
import net.openhft.chronicle.queue.impl.single.SingleChronicleQueue;
import net.openhft.chronicle.queue.impl.single.SingleChronicleQueueBuilder;
import net.openhft.chronicle.wire.DocumentContext;
import org.junit.Before;
import org.junit.Rule;
import org.junit.Test;
import org.junit.rules.TemporaryFolder;

/**
 * The verifier against deliberately damaged copies of a real journal: bytes edited in place in the
 * Chronicle file (what someone with a hex editor would do), and journals rewritten with records
 * reordered or left out (what someone with the Chronicle API would do).
 */
public class UsageVerifierTest {
    @Rule
    public TemporaryFolder tmp = new TemporaryFolder();

    private Path journal;
    private List<Decoded> original;

    @Before
    public void writeJournal() throws Exception {
        journal = tmp.newFolder("usage").toPath();
        try (ChronicleUsageJournal j = new ChronicleUsageJournal(Fixtures.KEY,
                Fixtures.options(journal).withSeals(10, 3_600_000))) {
            for (int i = 0; i < 60; i++) {
                long seq = j.append(Fixtures.event("acme", i));
                if (i % 10 == 9) {
                    ChronicleUsageJournalTest.awaitSealed(j, seq);
                }
            }
        }
        original = Fixtures.readAll(journal);
        UsageVerifier.Report r = UsageVerifier.verify(journal, Fixtures.KEY.publicKey());
        assertTrue(r.summary(), r.ok());
        assertEquals(60, r.usageRecords());
        assertEquals(8, r.seals()); // START, 6 count seals, SHUTDOWN
    }

    private Decoded usageWithRequest(String requestId) {
        return original.stream().filter(d -> d.usage() != null && d.usage().requestId().equals(requestId))
                .findFirst().orElseThrow();
    }

    @Test
    public void aTamperedFieldBreaksTheNextPrevHash() throws Exception {
        Decoded victim = usageWithRequest("req-acme-20");
        Path copy = copyOf(journal);
        // Change the request id in place in the .cq4 file: same length, so Chronicle still frames it.
        TestJournal.editInPlace(copy, "req-acme-20".getBytes(StandardCharsets.UTF_8), "req-acme-2X".getBytes(StandardCharsets.UTF_8));
        UsageVerifier.Report r = UsageVerifier.verify(copy, Fixtures.KEY.publicKey());
        assertFalse(r.ok());
        assertEquals("seq " + (victim.seq() + 1) + ": prev_hash does not match the hash of seq " + victim.seq(),
                r.problem());
        assertEquals(victim.seq() + 1, r.problemSeq());
    }

    @Test
    public void aTamperedQuantityIsCaughtToo() throws Exception {
        Decoded victim = usageWithRequest("req-acme-33");
        Path copy = copyOf(journal);
        // quantity is the u64 after meter "inference"; find it by the bytes that surround it in this record
        byte[] rec = victim.bytes();
        byte[] forged = rec.clone();
        int q = TestJournal.indexOf(rec, "inference".getBytes(StandardCharsets.UTF_8), 0) + "inference".length() + 7;
        forged[q] = (byte) (forged[q] + 100);
        assertEquals("the forged record still decodes", victim.usage().quantity() + 100,
                RecordFormat.decode(forged).usage().quantity());
        TestJournal.editInPlace(copy, rec, forged);
        UsageVerifier.Report r = UsageVerifier.verify(copy, Fixtures.KEY.publicKey());
        assertEquals("seq " + (victim.seq() + 1) + ": prev_hash does not match the hash of seq " + victim.seq(),
                r.problem());
    }

    @Test
    public void aReorderedRecordIsAGap() throws Exception {
        Decoded a = usageWithRequest("req-acme-40");
        Path copy = rewrite(journal, records -> {
            int i = (int) a.seq() - 1;
            Collections.swap(records, i, i + 1);
            return records;
        });
        UsageVerifier.Report r = UsageVerifier.verify(copy, Fixtures.KEY.publicKey());
        assertEquals("gap: seq " + (a.seq() - 1) + " followed by " + (a.seq() + 1), r.problem());
    }

    @Test
    public void aDeletedRecordIsAGap() throws Exception {
        Decoded gone = usageWithRequest("req-acme-41");
        Path copy = rewrite(journal, records -> {
            records.remove((int) gone.seq() - 1);
            return records;
        });
        UsageVerifier.Report r = UsageVerifier.verify(copy, Fixtures.KEY.publicKey());
        assertEquals("gap: seq " + (gone.seq() - 1) + " followed by " + (gone.seq() + 1), r.problem());
        assertEquals(gone.seq() + 1, r.problemSeq());
    }

    @Test
    public void aDamagedSealSignatureIsNamed() throws Exception {
        Decoded seal = original.stream().filter(d -> d.statement() != null
                && d.statement().reason() == SealReason.RECORD_COUNT).skip(2).findFirst().orElseThrow();
        Path copy = copyOf(journal);
        byte[] sig = seal.signature();
        byte[] bad = sig.clone();
        bad[10] ^= 0x01; // one bit of the signature
        TestJournal.editInPlace(copy, sig, bad);
        UsageVerifier.Report r = UsageVerifier.verify(copy, Fixtures.KEY.publicKey());
        assertEquals("seq " + seal.seq() + ": seal signature invalid", r.problem());
    }

    @Test
    public void sealsFromAnotherKeyAreInvalid() throws Exception {
        Ed25519DeviceKey other = Ed25519DeviceKey.fromSeed(new byte[32], "");
        UsageVerifier.Report r = UsageVerifier.verify(journal, other.publicKey());
        assertEquals("seq 2: seal signature invalid", r.problem());
    }

    @Test
    public void aValidlySignedSealOverTheWrongHashIsCaught() {
        // Build a synthetic chain: START, seal over a made-up hash (correct signature), usage.
        List<byte[]> chain = new ArrayList<>();
        String dev = Fixtures.KEY.deviceId();
        byte[] r1 = RecordFormat.encodeStart(1, 0, 0, RecordFormat.zeroHash(), dev, RecordFormat.PreviousRun.NEW_JOURNAL);
        chain.add(r1);
        byte[] wrong = RecordFormat.sha256(new byte[] {9}, 0, 1);
        byte[] st = new SealStatement(dev, 1, wrong, SealReason.START).encode();
        chain.add(RecordFormat.encodeSeal(2, 0, 0, RecordFormat.sha256(r1, 0, r1.length), dev, st, Fixtures.KEY.sign(st)));
        assertEquals("seq 2: sealed_hash does not match the hash of seq 1",
                UsageVerifier.verify(chain, Fixtures.KEY.publicKey()).problem());
    }

    @Test
    public void aSealThatDoesNotMoveForwardIsCaught() {
        List<byte[]> chain = new ArrayList<>(TestVector.records().subList(0, 2));
        // A second seal over seq 1 again (validly signed).
        String dev = TestVector.key().deviceId();
        byte[] st = RecordFormat.decode(chain.get(1)).statementBytes();
        byte[] prev = RecordFormat.sha256(chain.get(1), 0, chain.get(1).length);
        chain.add(RecordFormat.encodeSeal(3, 0, 0, prev, dev, st, TestVector.key().sign(st)));
        assertEquals("seq 3: seal covers seq 1, not after the previous seal's seq 1",
                UsageVerifier.verify(chain, TestVector.key().publicKey()).problem());
    }

    @Test
    public void theFirstRecordMustStartTheChain() {
        List<byte[]> chain = TestVector.records();
        byte[] r1 = chain.get(0).clone();
        r1[RecordFormat.OFFSET_PREV_HASH] = 1;
        chain.set(0, r1);
        assertEquals("seq 1: prev_hash of the first record must be 32 zero bytes",
                UsageVerifier.verify(chain, TestVector.key().publicKey()).problem());
    }

    @Test
    public void undecodableBytesAreNamed() {
        List<byte[]> chain = new ArrayList<>(TestVector.records());
        byte[] r3 = chain.get(2);
        byte[] cut = java.util.Arrays.copyOf(r3, r3.length - 3);
        chain.set(2, cut);
        String p = UsageVerifier.verify(chain, TestVector.key().publicKey()).problem();
        assertTrue(p, p.startsWith("seq 3: cannot be decoded: record ends inside"));
    }

    // ---- ways to damage a copy -----------------------------------------------------------------

    private Path copyOf(Path src) throws IOException {
        Path dst = tmp.newFolder().toPath();
        try (Stream<Path> files = Files.list(src)) {
            for (Path f : files.collect(Collectors.toList())) {
                Files.copy(f, dst.resolve(f.getFileName()));
            }
        }
        return dst;
    }

    /** Writes the journal's records, changed by {@code change}, into a new Chronicle queue. */
    private Path rewrite(Path src, UnaryOperator<List<byte[]>> change) throws IOException {
        List<byte[]> records = change.apply(Fixtures.readAllBytes(src));
        Path dst = tmp.newFolder().toPath();
        try (SingleChronicleQueue q = SingleChronicleQueueBuilder.binary(dst).build();
             ExcerptAppender a = q.createAppender()) {
            for (byte[] r : records) {
                try (DocumentContext dc = a.writingDocument()) {
                    dc.wire().bytes().write(r);
                }
            }
        }
        return dst;
    }
}
