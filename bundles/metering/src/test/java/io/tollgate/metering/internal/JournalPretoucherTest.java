package io.tollgate.metering.internal;

import static org.junit.Assert.assertEquals;

import net.openhft.chronicle.bytes.BytesStore;
import org.junit.Test;

/** The page touching itself, on a plain native store: it counts pages and changes no byte. */
public class JournalPretoucherTest {
    private static final int PAGE = 4096;

    @Test
    public void touchesTheTailPageAndTheNextMebibyteWithoutChangingAByte() {
        BytesStore<?, ?> store = BytesStore.nativeStoreWithFixedCapacity(4L << 20);
        try {
            store.writeLong(2 * PAGE, 0x1122334455667788L);     // "a record" at the start of a page being touched
            store.writeLong(3 * PAGE + 8, -1L);
            int touched = JournalPretoucher.touchAhead(store, 2 * PAGE + 100, Long.MAX_VALUE);
            assertEquals(JournalPretoucher.AHEAD_BYTES / PAGE + 1, touched);
            assertEquals(0x1122334455667788L, store.readLong(2 * PAGE));
            assertEquals(-1L, store.readLong(3 * PAGE + 8));
        } finally {
            store.releaseLast();
        }
    }

    @Test
    public void neverTouchesPastTheEndOfTheChunk() {
        BytesStore<?, ?> store = BytesStore.nativeStoreWithFixedCapacity(16 * PAGE);
        try {
            assertEquals("pages 10..15", 6, JournalPretoucher.touchAhead(store, 10 * PAGE + 1, Long.MAX_VALUE));
            assertEquals(0, JournalPretoucher.touchAhead(store, 16 * PAGE, Long.MAX_VALUE));
        } finally {
            store.releaseLast();
        }
    }

    @Test
    public void neverTouchesAPageTheFileSystemDoesNotBack() {
        BytesStore<?, ?> store = BytesStore.nativeStoreWithFixedCapacity(16 * PAGE);
        try {
            assertEquals("pages 2..4: page 5 on is not backed", 3,
                    JournalPretoucher.touchAhead(store, 2 * PAGE + 100, 5 * PAGE));
            assertEquals(0, JournalPretoucher.touchAhead(store, 2 * PAGE + 100, 0));
        } finally {
            store.releaseLast();
        }
    }
}
