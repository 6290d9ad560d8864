package io.tollgate.sync.internal;

import io.tollgate.sync.SyncStatus.LinkState;
import java.util.Queue;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.function.LongUnaryOperator;
import org.eclipse.paho.mqttv5.common.MqttException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The uplink's connection policy as an explicit state machine (the habit of Kura's {@code AutoConnectStrategy}):
 * the states are types, the sender thread is the one executor, and every transition is made and logged in
 * {@link #moveTo}.
 *
 * <pre>
 *   Connecting(f) --attempt ok--------> Online(connection)
 *   Connecting(f) --attempt failed----> BackingOff(f + 1)
 *   Online --lost (Paho said so, or a publish failed)--> Connecting(1)       reconnect at once
 *   Online --lost after a publish, nothing delivered---> BackingOff(r)       r such losses in a row (issue 8)
 *   Online --failed (the sender noticed or erred)------> BackingOff(1)       wait first
 *   BackingOff(f) --waited------------> Connecting(f)
 *   any --stop------------------------> Stopped
 * </pre>
 * A back-off waits {@code reconnect.min.ms × 2^(f − 1)}, at most {@code reconnect.max.ms}, jittered to 50–100 %.
 * A connection the broker drops after a publish without having taken a single batch on it (a broker that refuses
 * what we send, e.g. over its maximum packet size or an ACL that disconnects) counts as a failed attempt: such
 * losses in a row back off exponentially instead of reconnecting and re-sending the same batch at once forever; one
 * delivered batch resets the count.
 * Leaving {@code Online} closes its connection. Nothing is lost meanwhile: the journal is the store, and every
 * connect starts again from the persisted ack + 1.
 *
 * <p>Threads: transitions happen on the sender thread only; the state is volatile so that status calls on other
 * threads read the current {@link LinkState}.
 */
final class ReconnectStateMachine {
    private static final Logger LOG = LoggerFactory.getLogger(ReconnectStateMachine.class);

    /** A state of the link. */
    sealed interface State permits Connecting, Online, BackingOff, Stopped {
        /** What {@code SyncStatus} reports for it. */
        LinkState link();
    }

    /** The next turn makes a connection attempt; {@code failedAttempts} in a row failed before it. */
    record Connecting(int failedAttempts) implements State {
        @Override
        public LinkState link() {
            return LinkState.CONNECTING;
        }
    }

    /** Connected and subscribed; batches go out on {@code connection}. */
    record Online(BrokerConnection connection) implements State {
        @Override
        public LinkState link() {
            return LinkState.ONLINE;
        }
    }

    /** Waiting until {@code untilNanos} ({@link System#nanoTime()}) before the next attempt. */
    record BackingOff(int failedAttempts, long untilNanos) implements State {
        @Override
        public LinkState link() {
            return LinkState.CONNECTING;
        }
    }

    /** The uplink has stopped; no further transition. */
    record Stopped() implements State {
        @Override
        public LinkState link() {
            return LinkState.STOPPED;
        }
    }

    /** Opens a connection (production: {@link BrokerConnection#open}); tests replace it. */
    @FunctionalInterface
    interface Connector {
        BrokerConnection open() throws MqttException;
    }

    private final UplinkOptions o;
    private final Connector connector;
    private final SenderStats stats;
    /** Given n > 0, a random number in [0, n); tests fix it. */
    private final LongUnaryOperator random;
    private volatile State state = new Connecting(0);
    /** The current connection published a batch / had one taken by the broker (PUBACK). */
    private boolean publishedOnLink;
    private boolean deliveredOnLink;
    /** Connections in a row the broker dropped after a publish without taking any batch. */
    private int refusedInARow;

    ReconnectStateMachine(UplinkOptions o, Queue<SenderEvent> events, SenderStats stats) {
        this(o, () -> BrokerConnection.open(o, events), stats, n -> ThreadLocalRandom.current().nextLong(n));
    }

    ReconnectStateMachine(UplinkOptions o, Connector connector, SenderStats stats, LongUnaryOperator random) {
        this.o = o;
        this.connector = connector;
        this.stats = stats;
        this.random = random;
    }

    State state() {
        return state;
    }

    LinkState link() {
        return state.link();
    }

    /** True when {@code c} is the connection of the current Online state (events of any other are stale). */
    boolean isCurrent(BrokerConnection c) {
        return state instanceof Online on && on.connection() == c;
    }

    /**
     * Connecting: one attempt. Returns the connection when it is Online, null when it is BackingOff.
     *
     * @param fromSeq the seq sending starts from once connected (for the log)
     */
    BrokerConnection attempt(long fromSeq) {
        int failed = state instanceof Connecting c ? c.failedAttempts() : 0;
        BrokerConnection conn;
        try {
            conn = connector.open();
        } catch (MqttException | IllegalStateException e) {
            String why = e instanceof MqttException me ? BrokerConnection.describe(me) : e.getMessage();
            stats.error("connect to " + o.brokerUrl() + ": " + why);
            moveTo(backingOff(failed + 1), Trigger.ATTEMPT_FAILED, why, fromSeq);
            return null;
        }
        stats.connected();
        publishedOnLink = false;
        deliveredOnLink = false;
        moveTo(new Online(conn), Trigger.CONNECTED, "", fromSeq);
        return conn;
    }

    /** A batch went out on the current connection. */
    void published() {
        publishedOnLink = true;
    }

    /** The broker took a batch on the current connection (PUBACK): it accepts what we send. */
    void delivered() {
        deliveredOnLink = true;
        refusedInARow = 0;
    }

    /** Connections in a row the broker dropped after a publish before taking any batch (0 after a delivery). */
    int refusedInARow() {
        return refusedInARow;
    }

    /**
     * Paho reported the loss of the current connection, or a publish failed: reconnect at once, unless the broker
     * dropped it after a publish without taking anything on it — then back off, longer each time in a row.
     */
    void lost(String why) {
        stats.error(why);
        if (!refused(why)) {
            moveTo(new Connecting(Math.max(failedAttempts(), 1)), Trigger.LOST, why, 0);
        }
    }

    /** When the Online link was dropped after a publish with nothing taken, backs off and returns true. */
    private boolean refused(String why) {
        if (!(state instanceof Online) || !publishedOnLink || deliveredOnLink) {
            return false;
        }
        refusedInARow++;
        stats.disconnectedAfterPublish();
        moveTo(backingOff(refusedInARow), Trigger.REFUSED, why, refusedInARow);
        return true;
    }

    /** The sender's own turn failed or found the client disconnected: drop the link and back off first. */
    void failed(String why) {
        stats.error(why);
        if (refused(why)) {
            return;
        }
        moveTo(backingOff(Math.max(failedAttempts(), 1)), Trigger.FAILED, why, 0);
    }

    /** BackingOff: the wait is over. */
    void waited() {
        if (state instanceof BackingOff b) {
            moveTo(new Connecting(b.failedAttempts()), Trigger.WAITED, "", 0);
        }
    }

    /** Stops for good; an Online link publishes the retained "offline" status and disconnects cleanly first. */
    void stop(long ackedSeq) {
        moveTo(new Stopped(), Trigger.STOPPED, "", ackedSeq);
    }

    /** The back-off before attempt {@code failedAttempts + 1}, before jitter. */
    long backOffMillis(int failedAttempts) {
        long delay = o.reconnectMinMs();
        for (int i = 1; i < failedAttempts && delay < o.reconnectMaxMs(); i++) {
            delay *= 2;
        }
        return Math.min(delay, o.reconnectMaxMs());
    }

    private BackingOff backingOff(int failedAttempts) {
        long delay = backOffMillis(failedAttempts);
        long jittered = delay / 2 + random.applyAsLong(delay / 2 + 1);
        return new BackingOff(failedAttempts, System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(jittered));
    }

    private int failedAttempts() {
        State s = state;
        if (s instanceof Connecting c) {
            return c.failedAttempts();
        }
        return s instanceof BackingOff b ? b.failedAttempts() : 0;
    }

    /** Why a transition happens. */
    private enum Trigger { CONNECTED, ATTEMPT_FAILED, LOST, REFUSED, FAILED, WAITED, STOPPED }

    /** Every transition: leaving Online closes its connection (its later events are stale); one log line each. */
    private void moveTo(State next, Trigger trigger, String why, long seq) {
        State previous = state;
        if (previous instanceof Stopped) {
            return;
        }
        if (previous instanceof Online on && !(next instanceof Online)) {
            if (trigger == Trigger.REFUSED) {
                long ms = TimeUnit.NANOSECONDS.toMillis(((BackingOff) next).untilNanos() - System.nanoTime());
                LOG.warn("The broker {} dropped the connection after a publish without taking any batch ({} time(s) "
                        + "in a row): {}; reconnecting in {} ms (records stay in the journal; see `sync status`)",
                        o.brokerUrl(), seq, why, Math.max(0, ms));
            } else if (trigger != Trigger.STOPPED) {
                LOG.warn("Lost the connection to {}: {}; reconnecting with back-off (records stay in the journal)",
                        o.brokerUrl(), why);
            }
            on.connection().close(trigger == Trigger.STOPPED);
        }
        state = next;
        switch (trigger) {
            case CONNECTED -> LOG.info("Connected to {} as {}; sending usage records from seq {}", o.brokerUrl(),
                    o.clientId(), seq);
            case ATTEMPT_FAILED -> {
                int attempt = ((BackingOff) next).failedAttempts();
                if (attempt == 1 || attempt % 10 == 0) {
                    LOG.warn("Cannot connect to {} (attempt {}): {}; records stay in the journal, retrying with "
                            + "back-off", o.brokerUrl(), attempt, why);
                } else {
                    LOG.debug("Cannot connect to {} (attempt {}): {}", o.brokerUrl(), attempt, why);
                }
            }
            case STOPPED -> LOG.info("Usage uplink stopped at acked seq {}", seq);
            default -> LOG.debug("Usage uplink link {} -> {} ({})", previous, next, trigger);
        }
    }
}
