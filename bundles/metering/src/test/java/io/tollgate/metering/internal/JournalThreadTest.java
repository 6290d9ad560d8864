package io.tollgate.metering.internal;

import static org.junit.Assert.assertTrue;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import org.junit.Test;

/** The sealer's and pretoucher's thread: a wake-up is never lost, whatever else the loop parks on. */
public class JournalThreadTest {
    @Test
    public void aWakeUpIsKeptWhenTheLoopConsumesTheUnparkPermitElsewhere() throws Exception {
        CountDownLatch woken = new CountDownLatch(1);
        CountDownLatch done = new CountDownLatch(1);
        AtomicLong parkedNanos = new AtomicLong(-1);
        JournalThread[] self = new JournalThread[1];
        self[0] = new JournalThread("test-journal-thread", () -> {
            if (done.getCount() == 0) {
                // JournalThread runs the loop again until stopped; a second turn would park again, up to 20 s, after
                // stop()'s unpark was taken by the first park below: nothing left to test, so wait for the stop.
                LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(10));
                return;
            }
            try {
                woken.await();
            } catch (InterruptedException e) {
                return;
            }
            // What waiting for a contended lock does: a park that takes the permit wake() left behind.
            LockSupport.parkNanos(TimeUnit.SECONDS.toNanos(5));
            long start = System.nanoTime();
            self[0].park(TimeUnit.SECONDS.toNanos(20));
            parkedNanos.set(System.nanoTime() - start);
            done.countDown();
        });
        self[0].start();
        self[0].wake();
        woken.countDown();
        assertTrue("the loop finished", done.await(30, TimeUnit.SECONDS));
        assertTrue("park returned at once after a wake, not after the timeout: " + parkedNanos.get() + " ns",
                parkedNanos.get() < TimeUnit.SECONDS.toNanos(2));
        self[0].stop();
    }
}
