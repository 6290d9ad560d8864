package io.tollgate.sync.internal;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertNotNull;
import static org.junit.Assert.assertNull;
import static org.junit.Assert.assertSame;
import static org.junit.Assert.assertTrue;

import io.tollgate.sync.SyncStatus.LinkState;
import io.tollgate.sync.internal.ReconnectStateMachine.BackingOff;
import io.tollgate.sync.internal.ReconnectStateMachine.Connecting;
import io.tollgate.sync.internal.ReconnectStateMachine.Online;
import io.tollgate.sync.internal.ReconnectStateMachine.Stopped;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.LongUnaryOperator;
import org.eclipse.paho.mqttv5.client.MqttAsyncClient;
import org.eclipse.paho.mqttv5.client.MqttClientException;
import org.eclipse.paho.mqttv5.client.persist.MemoryPersistence;
import org.eclipse.paho.mqttv5.common.MqttException;
import org.junit.After;
import org.junit.Test;

/** The link's states and transitions, without a broker: the connector is scripted, the jitter fixed. */
public class ReconnectStateMachineTest {
    private static final String URL = "tcp://127.0.0.1:1";
    private static final long MIN_MS = 1000;
    private static final long MAX_MS = 60_000;

    private final UplinkOptions options = new UplinkOptions(URL, "tollgate-tg-test", "tg-test", 60, 100, 50, 2, 2,
            1000, 30_000, MIN_MS, MAX_MS, 30_000, null, null, Path.of("sync"), "tg-test", null);
    private final SenderStats stats = new SenderStats();
    /** What each attempt does: a connection to return, or an exception to throw. */
    private final ArrayDeque<Object> script = new ArrayDeque<>();
    private final List<BrokerConnection> made = new ArrayList<>();

    @After
    public void closeClients() {
        for (BrokerConnection c : made) {
            c.close(false);
        }
    }

    private ReconnectStateMachine machine(LongUnaryOperator random) {
        return new ReconnectStateMachine(options, () -> {
            Object next = script.removeFirst();
            if (next instanceof MqttException e) {
                throw e;
            }
            if (next instanceof IllegalStateException e) {
                throw e;
            }
            return (BrokerConnection) next;
        }, stats, random);
    }

    private BrokerConnection connection() throws MqttException {
        BrokerConnection c = new BrokerConnection(new MqttAsyncClient(URL, "test-" + made.size(),
                new MemoryPersistence()), new ConcurrentLinkedQueue<>(), "tollgate/v1/tg-test/status");
        made.add(c);
        return c;
    }

    private static long waitMs(ReconnectStateMachine m) {
        BackingOff b = (BackingOff) m.state();
        return TimeUnit.NANOSECONDS.toMillis(b.untilNanos() - System.nanoTime());
    }

    @Test
    public void startsConnectingAndGoesOnlineOnASuccessfulAttempt() throws Exception {
        ReconnectStateMachine m = machine(n -> 0);
        assertEquals(new Connecting(0), m.state());
        assertEquals(LinkState.CONNECTING, m.link());
        BrokerConnection c = connection();
        script.add(c);
        assertSame(c, m.attempt(1));
        assertEquals(new Online(c), m.state());
        assertEquals(LinkState.ONLINE, m.link());
        assertTrue(m.isCurrent(c));
        assertEquals(1, stats.connects());
        assertEquals("", stats.lastError());
    }

    @Test
    public void failedAttemptsBackOffDoublingUpToTheMaximum() throws Exception {
        ReconnectStateMachine m = machine(n -> n - 1);   // jitter at its top: the full delay
        long[] expected = {1000, 2000, 4000, 8000, 16_000, 32_000, 60_000, 60_000};
        for (int i = 0; i < expected.length; i++) {
            script.add(new MqttException(MqttClientException.REASON_CODE_SERVER_CONNECT_ERROR));
            assertNull(m.attempt(1));
            BackingOff b = (BackingOff) m.state();
            assertEquals(i + 1, b.failedAttempts());
            assertEquals(LinkState.CONNECTING, m.link());
            long w = waitMs(m);
            assertTrue("attempt " + (i + 1) + " waits " + w + " ms, expected about " + expected[i],
                    w <= expected[i] && w >= expected[i] - 1000);
            assertTrue(stats.lastError(), stats.lastError().startsWith("connect to " + URL + ": "));
            m.waited();
            assertEquals(new Connecting(i + 1), m.state());
        }
        BrokerConnection c = connection();
        script.add(c);
        assertSame(c, m.attempt(1));
        assertEquals("a connect clears the last error", "", stats.lastError());
    }

    @Test
    public void jitterWaitsHalfToAllOfTheDelay() {
        ReconnectStateMachine low = machine(n -> 0);
        script.add(new IllegalStateException("the broker refused the subscription"));
        low.attempt(1);
        long w = waitMs(low);
        assertTrue("half of reconnect.min.ms: " + w, w <= MIN_MS / 2 && w >= MIN_MS / 2 - 100);
        assertEquals("connect to " + URL + ": the broker refused the subscription", stats.lastError());
        assertEquals(1000, low.backOffMillis(1));
        assertEquals(MAX_MS, low.backOffMillis(1000));
    }

    @Test
    public void aLostLinkReconnectsAtOnceAndAFailedStepBacksOffFirst() throws Exception {
        ReconnectStateMachine m = machine(n -> 0);
        BrokerConnection first = connection();
        script.add(first);
        m.attempt(1);

        m.lost("disconnected: broker went away");
        assertEquals("reconnect at once, counted as one failure", new Connecting(1), m.state());
        assertFalse("events of the old connection are stale", m.isCurrent(first));
        assertEquals("disconnected: broker went away", stats.lastError());

        BrokerConnection second = connection();
        script.add(second);
        m.attempt(1);
        m.failed("the connection was lost");
        assertTrue(m.state() instanceof BackingOff);
        assertEquals(1, ((BackingOff) m.state()).failedAttempts());
        assertFalse(m.isCurrent(second));
    }

    @Test
    public void aFailureWhileNotOnlineKeepsCountingAttempts() {
        ReconnectStateMachine m = machine(n -> 0);
        for (int i = 0; i < 3; i++) {
            script.add(new MqttException(MqttClientException.REASON_CODE_SERVER_CONNECT_ERROR));
            m.attempt(1);
            m.waited();
        }
        m.failed("java.lang.RuntimeException: boom");
        assertEquals(3, ((BackingOff) m.state()).failedAttempts());
    }

    @Test
    public void stopIsFinal() throws Exception {
        ReconnectStateMachine m = machine(n -> 0);
        BrokerConnection c = connection();
        script.add(c);
        m.attempt(1);
        m.stop(42);
        assertEquals(new Stopped(), m.state());
        assertEquals(LinkState.STOPPED, m.link());
        m.lost("late event");
        m.waited();
        assertEquals(new Stopped(), m.state());
        assertNotNull(stats.lastError());
    }

    /**
     * Issue 8: a broker that drops the connection at every publish (over its packet limit, an ACL) made the device
     * reconnect at once and resend the same batch ~3 times a second forever. Losses after a publish with nothing
     * delivered back off exponentially; one delivered batch resets the count.
     */
    @Test
    public void linksDroppedAfterAPublishWithNothingDeliveredBackOffLongerEachTime() throws Exception {
        ReconnectStateMachine m = machine(n -> n - 1);   // jitter at its top: the full delay
        long[] expected = {1000, 2000, 4000, 8000};
        for (int i = 0; i < expected.length; i++) {
            script.add(connection());
            m.attempt(1);
            m.published();
            m.lost("disconnected: MqttDisconnectResponse [reasonCode=149]");
            BackingOff b = (BackingOff) m.state();
            assertEquals(i + 1, b.failedAttempts());
            long w = waitMs(m);
            assertTrue("refusal " + (i + 1) + " waits " + w + " ms, expected about " + expected[i],
                    w <= expected[i] && w >= expected[i] - 1000);
            assertEquals(i + 1, m.refusedInARow());
            assertEquals(i + 1, stats.disconnectsAfterPublish());
            m.waited();
        }
        // the sender noticing the dead client itself counts the same
        script.add(connection());
        m.attempt(1);
        m.published();
        m.failed("the connection was lost");
        assertEquals(5, m.refusedInARow());
        m.waited();
        // a connection that delivered a batch was useful: its loss reconnects at once and resets the count
        script.add(connection());
        m.attempt(1);
        m.published();
        m.delivered();
        assertEquals(0, m.refusedInARow());
        m.lost("disconnected: broker went away");
        assertTrue(m.state() instanceof Connecting);
        // and a loss without any publish on the link is not the broker refusing what we send
        script.add(connection());
        m.attempt(1);
        m.lost("disconnected: broker went away");
        assertTrue(m.state() instanceof Connecting);
        assertEquals(5, stats.disconnectsAfterPublish());
    }
}
