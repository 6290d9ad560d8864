package io.tollgate.cloud.mqtt;

import io.tollgate.cloud.ledger.LedgerException;
import io.tollgate.cloud.ledger.Licenses;
import java.util.Base64;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Delivers the files queued in the ledger ({@link Licenses#pending}: licenses bound to a device on import, those
 * named with {@code license push}, revocation lists) to {@code tollgate/v1/{device}/cmd} as
 * {@code {"command":"license"|"revocations","file":"<base64>"}} (docs/sync-protocol.md, "Commands"), QoS 1, one at a
 * time through the {@link ReplyPublisher}, and marks each pushed when the broker acknowledged it (PUBACK). Polls the
 * ledger every {@code intervalMs} and after every (re)connect, so that commands from the command line (another
 * process) are picked up. A file the broker did not take stays queued: without a connection for the next one; when
 * the broker refused it on a live connection (its ACLs), it is tried again after 30 s, doubling up to 10 min, while
 * the other deliveries go on.
 *
 * <p>The PUBACK says the broker has the message: a device with a persistent session (the appliance's: clean start
 * off, 7 days) gets it when it next connects; one that never subscribed does not (queue it again with
 * {@code license push}).
 *
 * <p>Threads: every push runs on the publisher thread ({@code tollgate-billing-publisher}).
 */
final class LicensePusher {
    private static final Logger LOG = LoggerFactory.getLogger(LicensePusher.class);
    private static final int BATCH = 100;
    private static final long ERROR_LOG_INTERVAL_NANOS = 60_000_000_000L;

    private final ReplyPublisher publisher;
    private final Licenses licenses;
    private final long intervalMs;
    private final UsageConsumer.Stats stats;
    private final java.util.function.BooleanSupplier connected;
    /** Deliveries the broker refused on a live connection: when to try each again (ns), and the current delay. */
    private final java.util.Map<Long, long[]> refused = new java.util.HashMap<>();
    private long nextErrorLog = System.nanoTime();
    static final long REFUSED_RETRY_MIN_MS = 30_000;
    static final long REFUSED_RETRY_MAX_MS = 600_000;

    /** @param connected whether the consumer's connection is up (a failed publish on a live one was refused) */
    LicensePusher(ReplyPublisher publisher, Licenses licenses, long intervalMs, UsageConsumer.Stats stats,
                  java.util.function.BooleanSupplier connected) {
        this.publisher = publisher;
        this.licenses = licenses;
        this.intervalMs = intervalMs;
        this.stats = stats;
        this.connected = connected;
    }

    /** Starts polling. */
    void start() {
        publisher.schedule(this::tick, intervalMs);
    }

    /** After a (re)connect: push what waits at once. Does not block. */
    void connected() {
        publisher.execute(this::pushPending);
    }

    private void tick() {
        try {
            pushPending();
        } finally {
            publisher.schedule(this::tick, intervalMs);
        }
    }

    /** The message of one delivery (docs/sync-protocol.md, "Commands"). */
    static String message(String command, byte[] file) {
        return "{\"command\":\"" + command + "\",\"file\":\"" + Base64.getEncoder().encodeToString(file) + "\"}";
    }

    private void pushPending() {
        List<Licenses.PendingPush> due;
        try {
            due = licenses.pending(BATCH);
        } catch (LedgerException | RuntimeException e) {
            long now = System.nanoTime();
            if (now - nextErrorLog >= 0) {
                nextErrorLog = now + ERROR_LOG_INTERVAL_NANOS;
                LOG.warn("Cannot read the license deliveries from the ledger: {}; trying again every {} ms",
                        e.getMessage(), intervalMs);
            }
            return;
        }
        long now = System.nanoTime();
        for (Licenses.PendingPush p : due) {
            long[] retry = refused.get(p.id());
            if (retry != null && now - retry[0] < 0) {
                continue; // refused before: waits out its back-off, the others go on
            }
            String topic = UsageTopics.cmd(p.deviceId());
            boolean acked = publisher.publish(topic, message(p.command(), p.file()));
            try {
                licenses.attempted(p.id(), acked);
            } catch (LedgerException e) {
                LOG.warn("Pushed {} to {} but could not mark it pushed: {}; it is sent again (the device keeps one "
                        + "copy: files are named from their content)", p.command(), p.deviceId(), e.getMessage());
            }
            if (!acked) {
                if (!connected.getAsBoolean()) {
                    return; // not connected: the next connection tries again, from this one
                }
                // refused on a live connection (e.g. the broker's ACLs): back off this one, go on with the others
                long delay = retry == null ? REFUSED_RETRY_MIN_MS : Math.min(REFUSED_RETRY_MAX_MS, retry[1] * 2);
                refused.put(p.id(), new long[] {System.nanoTime() + delay * 1_000_000L, delay});
                LOG.warn("The broker did not take {} {} for device {} on {}; trying it again in {} s", p.command(),
                        p.licenseId() == null ? "list" : p.licenseId(), p.deviceId(), topic, delay / 1000);
                continue;
            }
            refused.remove(p.id());
            stats.licensePushes.incrementAndGet();
            LOG.info("Pushed {} {} to device {} on {}", p.command(), p.licenseId() == null ? "list" : p.licenseId(),
                    p.deviceId(), topic);
        }
    }
}
