package io.tollgate.sync.internal;

/**
 * What Paho's threads hand to the sender thread ({@link UsageSender}): they only put these on its queue, the sender
 * thread alone acts on them. Events that name a {@link BrokerConnection} are stale once that connection is no
 * longer the current one.
 */
sealed interface SenderEvent {
    /** A message arrived on a subscribed topic (ack or resend). */
    record Arrived(String topic, byte[] payload) implements SenderEvent {
    }

    /** Paho reported that {@code connection} is gone. */
    record LinkLost(BrokerConnection connection, String why) implements SenderEvent {
    }

    /** The broker acknowledged a batch (PUBACK; {@code error} null) or did not ({@code error} says why). */
    record Published(BrokerConnection connection, long firstSeq, int records, int bytes, String error)
            implements SenderEvent {
    }

    /** Wakes the sender thread so that it sees it is stopping. */
    record Stop() implements SenderEvent {
    }
}
