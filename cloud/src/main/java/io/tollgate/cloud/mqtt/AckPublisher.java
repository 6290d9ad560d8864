package io.tollgate.cloud.mqtt;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.tollgate.cloud.CloudKey;
import io.tollgate.cloud.billing.Period;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Acks what the ledger stored: a signed {@code {"device", "acked_seq", "cloud_time_nanos", "signature"}} on
 * {@code tollgate/v1/{device}/ack} (docs/billing.md, "Acks and resend requests"). Acks of one device are coalesced
 * to the newest; an ack that could not be published stays pending and is published again on the next connection
 * (acks are idempotent).
 *
 * <p>Threads: {@link #acked} from the ingest thread; publishing on the {@link ReplyPublisher}'s thread.
 */
final class AckPublisher {
    private static final Logger LOG = LoggerFactory.getLogger(AckPublisher.class);
    private static final ObjectMapper JSON = new ObjectMapper();

    private final Map<String, Long> pending = new ConcurrentHashMap<>();
    private final ReplyPublisher publisher;
    private final CloudKey key;
    private final UsageConsumer.Stats stats;

    AckPublisher(ReplyPublisher publisher, CloudKey key, UsageConsumer.Stats stats) {
        this.publisher = publisher;
        this.key = key;
        this.stats = stats;
    }

    /** The device's contiguous stored prefix is now {@code ackedSeq}: ack it. */
    void acked(String device, long ackedSeq) {
        pending.merge(device, ackedSeq, Math::max);
        publisher.execute(() -> publish(device));
    }

    /** A new connection is up: publishes the acks left pending (queued on the publisher thread). */
    void connected() {
        publisher.execute(this::publishPending);
    }

    private void publishPending() {
        List<String> devices = List.copyOf(pending.keySet());
        if (!devices.isEmpty()) {
            LOG.info("Publishing {} pending ack(s) on the new connection", devices.size());
        }
        devices.forEach(this::publish);
    }

    private void publish(String device) {
        Long acked = pending.remove(device);
        if (acked == null) {
            return;
        }
        long cloudTime = Period.nanos(Instant.now());
        ObjectNode ack = JSON.createObjectNode();
        ack.put("device", device);
        ack.put("acked_seq", acked);
        ack.put("cloud_time_nanos", cloudTime);
        ack.put("signature", key.signAck(device, acked, cloudTime));
        if (publisher.publish(UsageTopics.ack(device), ack.toString())) {
            stats.acks.incrementAndGet();
        } else {
            pending.merge(device, acked, Math::max); // published on the next connection
        }
    }
}
