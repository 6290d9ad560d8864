package io.tollgate.cloud.record;

import static org.junit.Assert.assertArrayEquals;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

import io.tollgate.cloud.TestRecordWriter;
import java.util.Arrays;
import java.util.List;
import org.junit.Test;

public class BatchDecoderTest {

    @Test
    public void allThreeEncodingsCarryTheVectorUnchanged() throws Exception {
        List<byte[]> records = Arrays.asList(RecordVectorTest.vector());
        for (int encoding = 0; encoding <= 2; encoding++) {
            byte[] payload = TestRecordWriter.batch(encoding, 1, records);
            Batch b = BatchDecoder.decode(payload);
            assertEquals(encoding, b.encoding());
            assertEquals(1, b.firstSeq());
            assertEquals(5, b.count());
            for (int i = 0; i < 5; i++) {
                assertArrayEquals("encoding " + encoding + " record " + (i + 1), records.get(i), b.records().get(i));
            }
        }
        // elision really shortens: 4 records × 32 bytes fewer before compression
        assertTrue(TestRecordWriter.batch(2, 1, records).length < TestRecordWriter.batch(1, 1, records).length);
    }

    @Test
    public void elisionKeepsTheFirstRecordsPrevHashAndATamperedRecordStillShows() throws Exception {
        List<byte[]> records = Arrays.asList(RecordVectorTest.vector()).subList(2, 5);
        Batch b = BatchDecoder.decode(TestRecordWriter.batch(2, 3, records));
        assertArrayEquals(records.get(0), b.records().get(0));
        // tamper with record 4's quantity: record 5's restored prev_hash is the hash of the tampered bytes,
        // so record 5 is not the original; its seal's sealed_hash no longer matches what precedes it
        byte[] tampered = records.get(1).clone();
        tampered[tampered.length - 40] ^= 1;
        Batch t = BatchDecoder.decode(TestRecordWriter.batch(2, 3, List.of(records.get(0), tampered,
                records.get(2))));
        UsageRecord seal = RecordDecoder.decode(t.records().get(2));
        assertTrue(!Arrays.equals(seal.seal().sealedHash(), RecordDecoder.sha256(t.records().get(1))));
    }

    @Test
    public void rejectsBrokenFraming() throws Exception {
        List<byte[]> records = Arrays.asList(RecordVectorTest.vector());
        byte[] ok = TestRecordWriter.batch(1, 1, records);
        byte[] magic = ok.clone();
        magic[0] = 'X';
        expect(magic, "TGB1");
        byte[] enc = ok.clone();
        enc[4] = 7;
        expect(enc, "encoding 7");
        expect(Arrays.copyOf(ok, ok.length - 1), "body_len");
        byte[] count = ok.clone();
        count[16] = 6; // count 5 -> 6
        expect(count, "ends before entry 6");
        byte[] fewer = ok.clone();
        fewer[16] = 4;
        expect(fewer, "trailing bytes");
        byte[] notZlib = TestRecordWriter.batch(0, 1, records);
        notZlib[4] = 1;
        expect(notZlib, "zlib");
        expect(new byte[5], "shorter than its");
    }

    private static void expect(byte[] payload, String fragment) {
        try {
            BatchDecoder.decode(payload);
            fail("decoded a broken batch; expected '" + fragment + "'");
        } catch (RecordFormatException e) {
            assertTrue(e.getMessage(), e.getMessage().contains(fragment));
        }
    }
}
