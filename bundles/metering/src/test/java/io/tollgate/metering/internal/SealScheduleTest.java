package io.tollgate.metering.internal;

import static org.junit.Assert.assertArrayEquals;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertNull;
import static org.junit.Assert.assertTrue;

import io.tollgate.metering.internal.RecordFormat.SealReason;
import org.junit.Test;

/** When seals are due; times are made-up nanoTime readings, so nothing here waits. */
public class SealScheduleTest {
    private static final long MS = 1_000_000;
    private static final long INTERVAL = 1000 * MS;

    private static byte[] hash(long seq) {
        byte[] h = new byte[RecordFormat.HASH_BYTES];
        h[0] = (byte) seq;
        h[31] = (byte) (seq >>> 8);
        return h;
    }

    @Test
    public void theNthRecordIsRequestedAndSealedExactly() {
        SealSchedule s = new SealSchedule(3, INTERVAL, 0, 0);
        assertFalse(s.recordWritten(1, hash(1)));
        assertFalse(s.recordWritten(2, hash(2)));
        assertTrue("the 3rd record asks for a seal", s.recordWritten(3, hash(3)));
        assertFalse(s.recordWritten(4, hash(4)));
        SealSchedule.Target t = s.due(1 * MS, 4, hash(4));
        assertEquals(3, t.seq());
        assertArrayEquals(hash(3), t.hash());
        assertEquals(SealReason.RECORD_COUNT, t.reason());
        s.sealed(3, 2 * MS);
        assertNull("nothing more until the interval", s.due(3 * MS, 5, hash(5)));
        assertEquals(3, s.lastSealedSeq());
    }

    @Test
    public void requestsCoalesceToTheNewestAndNeverQueueUp() {
        SealSchedule s = new SealSchedule(2, INTERVAL, 0, 0);
        for (long seq = 1; seq <= 10; seq++) {
            s.recordWritten(seq, hash(seq));
        }
        SealSchedule.Target t = s.due(1 * MS, 10, hash(10));
        assertEquals("the sealer fell behind: it seals the newest request only", 10, t.seq());
        s.sealed(10, 1 * MS);
        assertNull(s.due(2 * MS, 10, hash(10)));
    }

    @Test
    public void afterTheIntervalTheHeadIsSealedButOnlyWhenRecordsWait() {
        SealSchedule s = new SealSchedule(1000, INTERVAL, 0, 0);
        assertNull("nothing to seal in a new journal", s.due(2 * INTERVAL, 0, hash(0)));
        s.recordWritten(1, hash(1));
        assertNull("interval not yet over", s.due(INTERVAL - 1, 1, hash(1)));
        assertEquals(1, s.nanosUntilInterval(INTERVAL - 1));
        SealSchedule.Target t = s.due(INTERVAL, 1, hash(1));
        assertEquals(1, t.seq());
        assertEquals(SealReason.INTERVAL, t.reason());
        s.sealed(1, INTERVAL);
        assertNull("only the seal itself was written since", s.due(3 * INTERVAL, 2, hash(2)));
        assertEquals(INTERVAL, s.nanosUntilInterval(INTERVAL));
    }

    @Test
    public void aSealAlreadyCoveredByALaterOneIsSkipped() {
        SealSchedule s = new SealSchedule(1, INTERVAL, 0, 0);
        s.recordWritten(1, hash(1));
        SealSchedule.Target countSeal = s.due(0, 1, hash(1));
        SealSchedule.Target shutdown = s.now(1, hash(1), SealReason.SHUTDOWN);
        s.sealed(shutdown.seq(), 1);
        assertTrue(s.alreadySealed(countSeal.seq()));
        assertFalse(s.alreadySealed(2));
    }

    @Test
    public void aSealNowRestartsTheCount() {
        SealSchedule s = new SealSchedule(3, INTERVAL, 0, 0);
        s.recordWritten(1, hash(1));
        s.recordWritten(2, hash(2));
        SealSchedule.Target start = s.now(2, hash(2), SealReason.START);
        assertEquals(SealReason.START, start.reason());
        s.sealed(2, 1);
        assertFalse(s.recordWritten(3, hash(3)));
        assertFalse(s.recordWritten(4, hash(4)));
        assertTrue("three records after the seal", s.recordWritten(5, hash(5)));
    }

    @Test
    public void aRecoveredHeadIsUnsealedUntilTheFirstSeal() {
        SealSchedule s = new SealSchedule(1000, INTERVAL, 41, 0);
        assertEquals(41, s.due(INTERVAL, 41, hash(41)).seq());
    }

    @Test
    public void theTargetHashIsACopy() {
        SealSchedule s = new SealSchedule(1, INTERVAL, 0, 0);
        byte[] h = hash(1);
        s.recordWritten(1, h);
        h[0] = 99;
        assertArrayEquals(hash(1), s.due(0, 1, h).hash());
    }
}
