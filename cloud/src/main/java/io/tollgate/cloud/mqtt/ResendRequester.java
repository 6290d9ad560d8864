package io.tollgate.cloud.mqtt;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.tollgate.cloud.ledger.Ledger;
import io.tollgate.cloud.ledger.LedgerException;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Asks a device to resend what is missing when a batch left a gap — a seal that verified with the device key vouches
 * for records beyond the ledger's sealed head that the ledger does not have ({@link Ledger#gap}): waits
 * {@code resendDelayMs} and, if the gap is still open then, publishes
 * {@code {"from_seq": head + 1, "reason": "gap: have up to H, the device sealed up to S"}} on
 * {@code tollgate/v1/{device}/resend}. The wait matters with several instances: a batch often overtakes its
 * predecessor that another instance is committing. One request per device is scheduled at a time.
 *
 * <p>Threads: {@link #gapLeft} from the ingest thread; the check and the publish on the {@link ReplyPublisher}'s
 * thread.
 */
final class ResendRequester {
    private static final Logger LOG = LoggerFactory.getLogger(ResendRequester.class);
    private static final ObjectMapper JSON = new ObjectMapper();

    private final Set<String> scheduled = ConcurrentHashMap.newKeySet();
    private final ReplyPublisher publisher;
    private final Ledger ledger;
    private final long delayMs;
    private final UsageConsumer.Stats stats;

    ResendRequester(ReplyPublisher publisher, Ledger ledger, long delayMs, UsageConsumer.Stats stats) {
        this.publisher = publisher;
        this.ledger = ledger;
        this.delayMs = delayMs;
        this.stats = stats;
    }

    /** A batch of {@code device} left a gap ({@code reason}): check again after the delay. */
    void gapLeft(String device, String reason) {
        if (scheduled.add(device) && !publisher.schedule(() -> resendIfStillMissing(device, reason), delayMs)) {
            scheduled.remove(device);
        }
    }

    private void resendIfStillMissing(String device, String reason) {
        scheduled.remove(device);
        try {
            Optional<Ledger.Gap> gap = ledger.gap(device);
            if (gap.isEmpty()) {
                return; // the gap closed meanwhile (or the chain is broken: resending would not help)
            }
            ObjectNode resend = JSON.createObjectNode();
            resend.put("from_seq", gap.get().fromSeq());
            resend.put("reason", gap.get().reason());
            if (publisher.publish(UsageTopics.resend(device), resend.toString())) {
                stats.resends.incrementAndGet();
                LOG.info("Asked {} to resend from seq {} ({})", device, gap.get().fromSeq(), gap.get().reason());
            }
        } catch (LedgerException e) {
            LOG.warn("Cannot check the gap of {}: {}", device, e.getMessage());
        }
    }
}
