package io.tollgate.cloud.mqtt;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * The consumer's "stop now", shared by its threads: loops test {@link #stopped()}, back-off pauses end early.
 *
 * <p>Threads: any; {@link UsageConsumer#close()} raises it once.
 */
final class StopSignal {
    private final CountDownLatch latch = new CountDownLatch(1);

    void stop() {
        latch.countDown();
    }

    boolean stopped() {
        return latch.getCount() == 0;
    }

    /** Sleeps {@code ms}, or less once stopped. */
    void pause(long ms) throws InterruptedException {
        latch.await(ms, TimeUnit.MILLISECONDS);
    }
}
