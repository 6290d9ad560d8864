package io.tollgate.cloud.mqtt;

import io.tollgate.cloud.ledger.BatchIngest;
import io.tollgate.cloud.ledger.IngestFailures;
import io.tollgate.cloud.ledger.IngestResult;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.eclipse.paho.mqttv5.common.MqttException;
import org.eclipse.paho.mqttv5.common.MqttMessage;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Stores each delivered batch, then PUBACKs it: verifies and commits it ({@link BatchIngest}), retrying with
 * back-off (200 ms … 30 s) while the database is down, and only then PUBACKs it (manual acks) on the connection it
 * came in on, so a batch the broker considers delivered is in the ledger. A batch from a connection that died
 * before its commit cannot be PUBACKed any more; the broker re-delivers it on the next connection and it is absorbed
 * as a duplicate. After the commit it asks for the device's ack and, when the batch left a gap, a resend request.
 *
 * <p>Threads: {@link #run()} is the {@code tollgate-billing-ingest} thread, the only one that stores batches.
 * Paho's callback thread only queues them ({@link #accept}); the queue is bounded by the receive maximum (16) per
 * connection.
 */
final class BatchWorker implements Runnable {
    private static final Logger LOG = LoggerFactory.getLogger(BatchWorker.class);

    private final BlockingQueue<Delivery> deliveries = new LinkedBlockingQueue<>();
    private final BatchIngest ingest;
    private final StopSignal stop;
    private final UsageConsumer.Stats stats;
    private final AckPublisher acks;
    private final ResendRequester resends;

    BatchWorker(BatchIngest ingest, StopSignal stop, UsageConsumer.Stats stats, AckPublisher acks,
                ResendRequester resends) {
        this.ingest = ingest;
        this.stop = stop;
        this.stats = stats;
        this.acks = acks;
        this.resends = resends;
    }

    /** Queues a batch Paho delivered. */
    void accept(Delivery d) {
        deliveries.add(d);
    }

    @Override
    public void run() {
        try {
            while (!stop.stopped()) {
                Delivery d = deliveries.poll(500, TimeUnit.MILLISECONDS);
                if (d != null) {
                    handle(d);
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (RuntimeException e) {
            LOG.error("The billing ingest thread failed; batches are no longer stored — restart the endpoint", e);
        }
    }

    private void handle(Delivery d) throws InterruptedException {
        String device = UsageTopics.deviceOf(d.topic());
        if (device == null) {
            LOG.warn("Ignoring a message on unexpected topic {}", d.topic());
            complete(d);
            return;
        }
        IngestResult result = store(device, d.message().getPayload());
        if (result == null) {
            return; // closing: not PUBACKed, the broker re-delivers it to this group
        }
        complete(d);
        stats.batches.incrementAndGet();
        stats.stored.addAndGet(result.stored());
        stats.duplicates.addAndGet(result.duplicates());
        stats.quarantined.addAndGet(result.quarantined());
        if (result.quarantined() > 0) {
            LOG.warn("Batch from {}: {} record(s) quarantined, never billed (GET /v1/quarantine?device={})", device,
                    result.quarantined(), device);
        }
        LOG.debug("Batch from {}: {}", device, result);
        if (result.knownDevice() && result.ackedSeq() > 0) {
            acks.acked(device, result.ackedSeq());
        }
        if (result.hasGap()) {
            resends.gapLeft(device, result.gapReason());
        }
    }

    /**
     * Ingests until it is stored; null when the consumer stops first. A deterministic failure ({@link IngestFailures})
     * is not retried — on this one thread that stopped billing for every device (issue 8): the batch is ingested
     * again salvaging what the database refuses ({@link BatchIngest#ingestSalvaging}), and when even that fails it is
     * quarantined whole ({@link BatchIngest#quarantineBatch}). Transient failures (the database down) are retried with
     * back-off, at every step.
     */
    private IngestResult store(String device, byte[] payload) throws InterruptedException {
        long backoff = 200;
        int step = 0; // 0: plain ingest, 1: salvaging, 2: quarantine the batch
        String firstFailure = null;
        while (!stop.stopped()) {
            try {
                return switch (step) {
                    case 0 -> ingest.ingest(device, payload);
                    case 1 -> salvaged(device, ingest.ingestSalvaging(device, payload), firstFailure);
                    default -> poisoned(device, payload, firstFailure);
                };
            } catch (Exception e) {
                if (IngestFailures.deterministic(e) && step < 2) {
                    String why = IngestFailures.describe(e);
                    if (step == 0) {
                        firstFailure = why;
                        LOG.warn("A batch of {} fails deterministically ({}); storing it again record by record, "
                                + "quarantining what the ledger refuses", device, why);
                    } else {
                        firstFailure = firstFailure + "; record by record: " + why;
                    }
                    step++;
                    continue;
                }
                stats.dbRetries.incrementAndGet();
                LOG.error("Cannot store a batch of {} ({}); retrying in {} ms. The batch is not acknowledged until "
                        + "it is stored.", device, e.getMessage(), backoff);
                stop.pause(backoff);
                backoff = Math.min(backoff * 2, 30_000);
            }
        }
        return null;
    }

    private IngestResult salvaged(String device, IngestResult r, String why) {
        stats.salvaged.incrementAndGet();
        LOG.warn("Batch of {} stored record by record after: {}; {} record(s) quarantined (GET /v1/quarantine?device="
                + "{}), the chain goes on at seq {}", device, why, r.quarantined(), device, r.ackedSeq());
        return r;
    }

    private IngestResult poisoned(String device, byte[] payload, String why) throws java.sql.SQLException {
        IngestResult r = ingest.quarantineBatch(device, payload, "ingest failed deterministically: " + why);
        stats.poisonBatches.incrementAndGet();
        LOG.warn("Batch of {} ({} bytes) quarantined whole, never billed: {}; going on with the next batch "
                + "(GET /v1/quarantine?device={})", device, payload.length, why, device);
        return r;
    }

    /** PUBACKs the batch on the connection it came in on; after that connection died the broker re-delivers it. */
    private static void complete(Delivery d) {
        MqttMessage message = d.message();
        if (message.getQos() == 0) {
            return;
        }
        BrokerLink link = d.link();
        if (!link.up()) {
            LOG.debug("Batch {} came on connection {} which is gone; the broker re-delivers it", message.getId(),
                    link.generation());
            return;
        }
        try {
            link.client().messageArrivedComplete(message.getId(), message.getQos());
        } catch (MqttException | RuntimeException e) {
            LOG.debug("PUBACK of batch {} failed ({}); the broker re-delivers it", message.getId(), e.getMessage());
        }
    }
}
