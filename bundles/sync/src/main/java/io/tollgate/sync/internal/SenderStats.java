package io.tollgate.sync.internal;

import java.util.concurrent.atomic.AtomicLong;

/**
 * What the sender did this run, for {@code SyncStatus}: bytes, records and batches the broker acknowledged, the
 * successful connects, and the last connection or publish error.
 *
 * <p>Threads: written by the sender thread only; read by status callers on any thread.
 */
final class SenderStats {
    private final AtomicLong bytesSent = new AtomicLong();
    private final AtomicLong recordsSent = new AtomicLong();
    private final AtomicLong batchesSent = new AtomicLong();
    private volatile long connects;
    private volatile String lastError = "";
    private volatile long maxPacketBytes;
    private volatile String sizeLimit = "";
    private final AtomicLong disconnectsAfterPublish = new AtomicLong();

    /** The broker acknowledged a batch (PUBACK). */
    void batchDelivered(int bytes, int records) {
        bytesSent.addAndGet(bytes);
        recordsSent.addAndGet(records);
        batchesSent.incrementAndGet();
    }

    /** A connection was made: errors before it are history. */
    void connected() {
        connects++;
        lastError = "";
    }

    void error(String why) {
        lastError = why;
    }

    /** The current connection's broker maximum packet size (0: none stated, or not connected yet). */
    void maxPacketBytes(long bytes) {
        maxPacketBytes = bytes;
    }

    long maxPacketBytes() {
        return maxPacketBytes;
    }

    /** What the broker's packet limit does to sending ("" when nothing); returns true when it changed. */
    boolean sizeLimit(String note) {
        boolean changed = !note.equals(sizeLimit);
        sizeLimit = note;
        return changed;
    }

    String sizeLimit() {
        return sizeLimit;
    }

    /** The broker dropped a connection after a publish, before taking any batch on it. */
    void disconnectedAfterPublish() {
        disconnectsAfterPublish.incrementAndGet();
    }

    long disconnectsAfterPublish() {
        return disconnectsAfterPublish.get();
    }

    long bytesSent() {
        return bytesSent.get();
    }

    long recordsSent() {
        return recordsSent.get();
    }

    long batchesSent() {
        return batchesSent.get();
    }

    long connects() {
        return connects;
    }

    String lastError() {
        return lastError;
    }
}
