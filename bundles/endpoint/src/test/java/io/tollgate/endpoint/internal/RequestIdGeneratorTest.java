package io.tollgate.endpoint.internal;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertNotEquals;
import static org.junit.Assert.assertTrue;

import io.tollgate.serving.InferenceRequest;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.Test;

/** The ids the endpoint makes for requests that came without one: UUID version 7, unique, in order. */
public class RequestIdGeneratorTest {
    @Test
    public void makesUuidVersion7CarryingTheTimeInMilliseconds() {
        long before = System.currentTimeMillis();
        String id = new RequestIdGenerator().next();
        long after = System.currentTimeMillis();
        assertTrue(id, RequestIdTest.GENERATED.matcher(id).matches());
        UUID u = UUID.fromString(id);
        assertEquals(7, u.version());
        assertEquals(2, u.variant());
        long millis = u.getMostSignificantBits() >>> 16;
        assertTrue(before + " <= " + millis + " <= " + after, before <= millis && millis <= after);
        assertEquals("a valid request id", id, new InferenceRequest("m", null, id, List.of(), List.of(), null, null).id());
    }

    @Test
    public void idsAreUniqueAndInOrderAcrossThreads() throws Exception {
        RequestIdGenerator ids = new RequestIdGenerator();
        Set<String> all = ConcurrentHashMap.newKeySet();
        List<Thread> threads = new ArrayList<>();
        List<AssertionError> errors = new ArrayList<>();
        for (int t = 0; t < 4; t++) {
            Thread thread = new Thread(() -> {
                String previous = "";
                for (int i = 0; i < 50_000; i++) {
                    String id = ids.next();
                    if (id.compareTo(previous) <= 0 || !all.add(id)) {
                        synchronized (errors) {
                            errors.add(new AssertionError(id + " after " + previous));
                        }
                        return;
                    }
                    previous = id;
                }
            });
            threads.add(thread);
            thread.start();
        }
        for (Thread t : threads) {
            t.join();
        }
        assertTrue(errors.toString(), errors.isEmpty());
        assertEquals(200_000, all.size());
    }

    @Test
    public void staysUniqueAndInOrderWhenTheClockStandsStillOrGoesBack() {
        AtomicLong clock = new AtomicLong(1_764_500_000_000L);
        RequestIdGenerator ids = new RequestIdGenerator(clock::get);
        String previous = "";
        for (int i = 0; i < 10_000; i++) {   // more than the 4096 ids a millisecond holds
            String id = ids.next();
            assertTrue(id + " after " + previous, id.compareTo(previous) > 0);
            previous = id;
        }
        clock.addAndGet(-60_000);            // NTP steps the clock back a minute
        String afterStep = ids.next();
        assertTrue(afterStep + " after " + previous, afterStep.compareTo(previous) > 0);
    }

    @Test
    public void aRestartAtTheSameMillisecondMakesOtherIds() {
        // a new process (a restart, or another box) starts over with its own random bits: no counter from 1
        Set<String> first = ConcurrentHashMap.newKeySet();
        RequestIdGenerator before = new RequestIdGenerator(() -> 1_764_500_000_000L);
        RequestIdGenerator after = new RequestIdGenerator(() -> 1_764_500_000_000L);
        for (int i = 0; i < 1000; i++) {
            first.add(before.next());
        }
        for (int i = 0; i < 1000; i++) {
            String id = after.next();
            assertTrue("the restarted generator repeated " + id, !first.contains(id));
        }
        assertNotEquals(new RequestIdGenerator(() -> 0L).next(), new RequestIdGenerator(() -> 0L).next());
    }
}
