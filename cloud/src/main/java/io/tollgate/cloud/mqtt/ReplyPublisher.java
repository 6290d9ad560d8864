package io.tollgate.cloud.mqtt;

import java.nio.charset.StandardCharsets;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.eclipse.paho.mqttv5.client.IMqttToken;
import org.eclipse.paho.mqttv5.common.MqttException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Publishes the replies to devices (acks, resend requests), one at a time, QoS 1, on the current connection, and
 * waits for each PUBACK: Paho 1.2.5 throws "Too many publishes in progress" with several in flight, so it retries
 * that error after a short pause (docs/RECIPES: "two Paho v5 traps").
 *
 * <p>Threads: owns the {@code tollgate-billing-publisher} thread; every publish runs on it. {@link #execute} and
 * {@link #schedule} may be called from any thread.
 */
final class ReplyPublisher implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(ReplyPublisher.class);
    /** Paho's "Too many publishes in progress" (MqttClientException.REASON_CODE_MAX_INFLIGHT). */
    private static final int TOO_MANY_PUBLISHES = 32202;

    private final ScheduledExecutorService thread = publisherThread();

    /**
     * One daemon thread; on {@link #close} the scheduled tasks not due yet are dropped, not waited for (the license
     * poll and resend requests are scheduled seconds ahead and would hold the close up).
     */
    private static ScheduledExecutorService publisherThread() {
        java.util.concurrent.ScheduledThreadPoolExecutor e = new java.util.concurrent.ScheduledThreadPoolExecutor(1,
                r -> {
                    Thread t = new Thread(r, "tollgate-billing-publisher");
                    t.setDaemon(true);
                    return t;
                });
        e.setExecuteExistingDelayedTasksAfterShutdownPolicy(false);
        e.setRemoveOnCancelPolicy(true);
        return e;
    }
    private final Supplier<BrokerLink> link;
    private final StopSignal stop;

    /** @param link the connection in use, or null between connections */
    ReplyPublisher(Supplier<BrokerLink> link, StopSignal stop) {
        this.link = link;
        this.stop = stop;
    }

    /** Runs {@code task} on the publisher thread; dropped when stopping (the device gets its ack with its next batch). */
    void execute(Runnable task) {
        try {
            thread.execute(task);
        } catch (RejectedExecutionException closing) {
            // stopping; the device gets its ack with its next batch after a restart
        }
    }

    /** Runs {@code task} on the publisher thread after {@code delayMs}; false when stopping. */
    boolean schedule(Runnable task, long delayMs) {
        try {
            thread.schedule(task, delayMs, TimeUnit.MILLISECONDS);
            return true;
        } catch (RejectedExecutionException closing) {
            return false;
        }
    }

    /**
     * Publishes QoS 1 on the current connection and waits for the PUBACK; retries Paho's in-flight limit. False
     * when there is no connection or it gave up. On the publisher thread.
     */
    boolean publish(String topic, String json) {
        byte[] payload = json.getBytes(StandardCharsets.UTF_8);
        for (int attempt = 0; attempt < 50 && !stop.stopped(); attempt++) {
            BrokerLink l = link.get();
            if (l == null || !l.up()) {
                LOG.debug("Not connected: {} waits for the next connection", topic);
                return false;
            }
            try {
                IMqttToken token = l.client().publish(topic, payload, 1, false);
                token.waitForCompletion(10_000);
                int[] codes = token.getReasonCodes();
                if (codes != null && codes.length > 0 && codes[0] >= 0x80) {
                    LOG.warn("The broker refused the publish to {} (reason code 0x{}); check its ACLs", topic,
                            Integer.toHexString(codes[0]));
                    return false;
                }
                return true;
            } catch (MqttException e) {
                if (e.getReasonCode() != TOO_MANY_PUBLISHES && !l.up()) {
                    LOG.info("Cannot publish to {} while disconnected ({}); trying again on the next connection",
                            topic, e.getMessage());
                    return false;
                }
                try {
                    Thread.sleep(e.getReasonCode() == TOO_MANY_PUBLISHES ? 20 : 200);
                } catch (InterruptedException ie) {
                    Thread.currentThread().interrupt();
                    return false;
                }
            }
        }
        if (!stop.stopped()) {
            LOG.warn("Gave up publishing to {}", topic);
        }
        return false;
    }

    /** Lets the reply being published finish (up to 5 s); drops the queued ones. */
    @Override
    public void close() {
        thread.shutdown();
        try {
            thread.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
