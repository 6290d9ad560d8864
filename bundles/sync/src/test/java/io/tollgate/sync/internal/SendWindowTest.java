package io.tollgate.sync.internal;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertTrue;

import io.tollgate.metering.JournalStatus;
import io.tollgate.metering.UsageEvent;
import io.tollgate.metering.UsageJournal;
import io.tollgate.metering.UsageRecord;
import java.nio.file.Path;
import java.util.List;
import org.junit.Test;

/** What to send when, with made-up clocks and a journal whose records were all written at one wall time. */
public class SendWindowTest {
    private static final long MS = 1_000_000;
    private static final long MAX_DELAY_MS = 200;
    private static final int MAX_RECORDS = 100;
    private static final int MAX_IN_FLIGHT = 2;
    private static final int MAX_UNACKED = 300;
    private static final long ACK_TIMEOUT_MS = 30_000;
    private static final long RECONNECT_MIN_MS = 1000;

    private final UplinkOptions options = new UplinkOptions("tcp://127.0.0.1:1883", "c", "tg-test", 60, MAX_RECORDS,
            MAX_DELAY_MS, 2, MAX_IN_FLIGHT, MAX_UNACKED, ACK_TIMEOUT_MS, RECONNECT_MIN_MS, 60_000, 30_000, null, null,
            Path.of("sync"), "tg-test", null);
    /** Wall time (ms) every record of the fake journal was written at. */
    private long writtenAtMs = 10_000;
    private int reads;
    private final UsageJournal journal = new UsageJournal() {
        @Override
        public long append(UsageEvent event) {
            throw new UnsupportedOperationException();
        }

        @Override
        public JournalStatus status() {
            throw new UnsupportedOperationException();
        }

        @Override
        public void releaseUpTo(long seq) {
            throw new UnsupportedOperationException();
        }

        @Override
        public List<UsageRecord> readFrom(long fromSeq, int max) {
            reads++;
            return List.of(new UsageRecord(fromSeq, UsageRecord.Kind.USAGE, writtenAtMs * MS, new byte[0]));
        }
    };
    private final SendWindow w = new SendWindow(journal, options);

    @Test
    public void aPartBatchWaitsForMaxDelayAfterItsFirstRecordAFullOneGoesAtOnce() throws Exception {
        w.restart(0, 0);
        assertEquals(1, w.nextSeq());
        assertEquals("10 records, the first one 50 ms old", 150, w.msUntilNextBatch(10, 0, 0, writtenAtMs + 50));
        assertEquals(0, w.msUntilNextBatch(10, 0, 0, writtenAtMs + MAX_DELAY_MS));
        assertEquals("the first record's time is read once per batch", 1, reads);
        assertEquals("a full batch", 0, w.msUntilNextBatch(MAX_RECORDS, 0, 0, writtenAtMs));
        assertEquals("records that waited while the link was down go at once", 0,
                w.msUntilNextBatch(10, 0, 0, writtenAtMs + 3_600_000));
    }

    @Test
    public void nothingNewMeansWaitingTheDelay() throws Exception {
        w.restart(5, 0);
        assertEquals(MAX_DELAY_MS, w.msUntilNextBatch(5, 5, 0, writtenAtMs));
    }

    @Test
    public void atMostMaxInFlightBatchesAwaitPuback() throws Exception {
        w.restart(0, 0);
        w.published(1, 100, 0, 0);
        w.published(101, 200, 0, 0);
        assertEquals(2, w.inFlight());
        assertEquals(201, w.nextSeq());
        assertEquals(MAX_DELAY_MS, w.msUntilNextBatch(1000, 0, 0, writtenAtMs + 1000));
        w.delivered();
        assertEquals(0, w.msUntilNextBatch(1000, 0, 0, writtenAtMs + 1000));
    }

    @Test
    public void neverFurtherThanMaxUnackedBeyondTheAck() throws Exception {
        w.restart(0, 0);
        w.published(1, 300, 0, 0);
        w.delivered();
        assertEquals(301, w.nextSeq());
        assertEquals("301 > 0 + 300", MAX_DELAY_MS, w.msUntilNextBatch(1000, 0, 0, writtenAtMs + 1000));
        w.acked(100, 0);
        assertEquals(0, w.msUntilNextBatch(1000, 100, 0, writtenAtMs + 1000));
    }

    @Test
    public void aBatchTheBrokerDidNotTakeIsSentAgainAfterAPause() throws Exception {
        w.restart(0, 0);
        w.published(1, 100, 0, 0);
        w.published(101, 200, 0, 0);
        w.notDelivered(1, 0);
        assertEquals(1, w.nextSeq());
        assertEquals(1, w.inFlight());
        assertEquals("paused: it looks again after max.delay.ms", MAX_DELAY_MS,
                w.msUntilNextBatch(1000, 0, 0, writtenAtMs + 1000));
        assertEquals("or when the pause ends", 100, w.msUntilNextBatch(1000, 0, 900 * MS, writtenAtMs + 1000));
        assertEquals("reconnect.min.ms later it sends again", 0,
                w.msUntilNextBatch(1000, 0, RECONNECT_MIN_MS * MS, writtenAtMs + 1000));
    }

    @Test
    public void withoutAnAckForTheTimeoutItSendsAgainFromAckPlusOne() {
        w.restart(0, 0);
        assertFalse("nothing sent, nothing overdue", w.rewindIfAckOverdue(0, ACK_TIMEOUT_MS * 2 * MS));
        w.published(1, 100, 0, 1 * MS);
        w.published(101, 200, 0, 2 * MS);
        assertFalse(w.rewindIfAckOverdue(0, ACK_TIMEOUT_MS * MS));
        assertTrue(w.rewindIfAckOverdue(0, (ACK_TIMEOUT_MS + 2) * MS));
        assertEquals(1, w.nextSeq());
        assertFalse("the timeout starts over", w.rewindIfAckOverdue(0, (ACK_TIMEOUT_MS + 3) * MS));
    }

    @Test
    public void acksMoveTheCursorForwardOnlyAndResendsRewind() {
        w.restart(0, 0);
        w.published(1, 100, 0, 0);
        w.acked(50, 0);
        assertEquals("already past the ack", 101, w.nextSeq());
        w.acked(500, 0);
        assertEquals(501, w.nextSeq());
        w.resend(42, 0);
        assertEquals(42, w.nextSeq());
        w.restart(500, 0);
        assertEquals(501, w.nextSeq());
        assertEquals(0, w.inFlight());
    }
}
