package io.tollgate.sync.internal;

import static org.junit.Assert.assertArrayEquals;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertNull;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

import io.tollgate.metering.UsageRecord;
import java.nio.ByteBuffer;
import java.util.List;
import org.junit.AfterClass;
import org.junit.BeforeClass;
import org.junit.ClassRule;
import org.junit.Test;
import org.junit.rules.TemporaryFolder;

/** Batches from real journal records, decoded by the doc-derived {@link BatchDecoder}. */
public class BatchEncoderTest {
    @ClassRule
    public static TemporaryFolder tmp = new TemporaryFolder();

    private static TestDevice device;
    private static List<UsageRecord> records;

    @BeforeClass
    public static void journal() throws Exception {
        device = new TestDevice(tmp.newFolder("data").toPath());
        device.append(5000);
        device.settledLastSeq();
        records = device.journal.readFrom(1, 5000);
    }

    @AfterClass
    public static void close() {
        device.close();
    }

    @Test
    public void everyEncodingRoundTripsToTheCanonicalBytes() {
        for (int enc = 0; enc <= 2; enc++) {
            List<UsageRecord> batch = records.subList(100, 900);
            byte[] payload = new BatchEncoder(enc).encode(batch);
            BatchDecoder.Batch b = BatchDecoder.decode(payload);
            assertEquals(enc, b.encoding());
            assertEquals(101, b.firstSeq());
            assertEquals(800, b.count());
            assertEquals(payload.length - BatchEncoder.HEADER_BYTES, b.bodyLen());
            for (int i = 0; i < batch.size(); i++) {
                assertArrayEquals("encoding " + enc + " record " + i, batch.get(i).canonicalBytes(), b.records().get(i));
            }
        }
    }

    @Test
    public void headerIsLaidOutAsTheDocSays() {
        byte[] p = new BatchEncoder(0).encode(records.subList(0, 2));
        ByteBuffer b = ByteBuffer.wrap(p);
        assertEquals('T', b.get(0));
        assertEquals('1', b.get(3));
        assertEquals(0, b.get(4));
        assertEquals(1, b.getLong(5));
        assertEquals(2, b.getInt(13));
        int len1 = records.get(0).canonicalBytes().length;
        int len2 = records.get(1).canonicalBytes().length;
        assertEquals(4 + len1 + 4 + len2, b.getInt(17));
        assertEquals(len1, b.getInt(21));
    }

    @Test
    public void elisionDropsThirtyTwoBytesFromEveryRecordButTheFirst() {
        List<UsageRecord> batch = records.subList(0, 50);
        byte[] elided = new BatchEncoder(2).encode(batch);
        byte[] plain = new BatchEncoder(1).encode(batch);
        assertTrue("elided " + elided.length + " < deflated " + plain.length, elided.length < plain.length);
        // the receiver restores each elided prev_hash as the hash of the record before
        BatchDecoder.Batch ok = BatchDecoder.decode(elided);
        byte[] r3 = ok.records().get(3);
        byte[] r4 = ok.records().get(4);
        assertArrayEquals(BatchDecoder.sha256(r3), BatchDecoder.prevHash(r4));
    }

    @Test
    public void aBatchWhoseBodyExceeds256KiBIsRefusedSoTheSenderSplitsIt() {
        BatchEncoder raw = new BatchEncoder(0);
        assertNull("5000 raw records are ~1 MB", raw.encode(records));
        assertTrue(raw.encodeUnbounded(records).length > BatchEncoder.MAX_BODY_BYTES);
    }

    @Test
    public void nonConsecutiveRecordsAreRefused() {
        try {
            new BatchEncoder(2).encode(List.of(records.get(0), records.get(2)));
            fail();
        } catch (IllegalArgumentException e) {
            assertTrue(e.getMessage(), e.getMessage().contains("consecutive"));
        }
    }

    @Test
    public void bytesPerRecordByEncodingAndBatchSize() {
        StringBuilder table = new StringBuilder("bytes per record on the wire (realistic records, seals included):\n");
        for (int size : new int[] {10, 100, 500, 2000}) {
            table.append(String.format("  %4d records/batch:", size));
            double[] per = new double[3];
            for (int enc = 0; enc <= 2; enc++) {
                BatchEncoder e = new BatchEncoder(enc);
                long bytes = 0;
                int n = 0;
                for (int from = 0; from + size <= 4000; from += size) {
                    byte[] p = e.encodeUnbounded(records.subList(from, from + size));
                    bytes += p.length;
                    n += size;
                }
                per[enc] = (double) bytes / n;
                table.append(String.format("  enc %d %6.1f", enc, per[enc]));
            }
            table.append('\n');
            assertTrue(per[2] < per[1] && per[1] < per[0]);
        }
        System.out.print(table);
    }
}
