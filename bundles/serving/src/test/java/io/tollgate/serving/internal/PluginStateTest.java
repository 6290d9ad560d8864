package io.tollgate.serving.internal;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertSame;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

import io.tollgate.serving.ModelState;
import io.tollgate.serving.PluginStatus;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import org.junit.Test;

/**
 * The plugin state machine as a table: every state × every transition is either legal with exactly
 * the next state written here, or refused. A transition someone makes legal (or illegal) without
 * changing this table fails {@link #everyTransitionIsLegalExactlyWhereTheTableSaysAndLandsWhereItSays}.
 */
public class PluginStateTest {
    private static final FakePluginSource REVISION_1 = FakePluginSource.plugin(1, "fm", "1.0.0", FakeEngine.model(1));
    private static final FakePluginSource REVISION_2 = FakePluginSource.plugin(1, "fm", "1.1.0", FakeEngine.model(2));

    private final LoadAttempt current = new LoadAttempt(REVISION_1, null);
    private final LoadAttempt next = new LoadAttempt(REVISION_2, null);
    private final String r1 = REVISION_1.revisionKey();

    private final PluginState inactive = PluginState.INACTIVE;
    private final PluginState unresolvable = new PluginState.Unresolvable("plugin io.acme.fm 1.0.0 cannot be resolved");
    private final PluginState retiringFailed = new PluginState.RetiringFailed("engine fake went away");
    private final PluginState loading = new PluginState.Loading(current);
    private final PluginState ready = new PluginState.Ready(r1);
    private final PluginState failed = new PluginState.Failed(r1, "corrupt model", "fake");

    /** The transitions, each with the arguments this test applies. */
    enum Transition {
        LOAD, STOP, RESUME, LOADED, LOAD_FAILED, ENGINE_LOST, UNRESOLVABLE, RESOLVED
    }

    private PluginState apply(PluginState from, Transition t) {
        switch (t) {
            case LOAD:
                return from.load(next);
            case STOP:
                return from.stop();
            case RESUME:
                return from.resume(r1);
            case LOADED:
                return from.loaded(current);
            case LOAD_FAILED:
                return from.loadFailed(current, "refused", "onnx");
            case ENGINE_LOST:
                return from.engineLost("engine gone", "fake");
            case UNRESOLVABLE:
                return from.unresolvable("cannot be resolved");
            case RESOLVED:
                return from.resolved();
            default:
                throw new AssertionError(t);
        }
    }

    /** Legal transitions from each state and where they land; a transition not listed is illegal. */
    private Map<PluginState, Map<Transition, PluginState>> table() {
        Map<PluginState, Map<Transition, PluginState>> table = new LinkedHashMap<>();
        Function<PluginState, Map<Transition, PluginState>> everywhere = s -> {
            Map<Transition, PluginState> m = new EnumMap<>(Transition.class);
            m.put(Transition.LOAD, new PluginState.Loading(next));
            m.put(Transition.STOP, PluginState.INACTIVE);
            m.put(Transition.RESOLVED, s);
            return m;
        };
        Map<Transition, PluginState> m = everywhere.apply(inactive);
        m.put(Transition.RESUME, new PluginState.Ready(r1));
        m.put(Transition.ENGINE_LOST, new PluginState.RetiringFailed("engine gone"));
        m.put(Transition.UNRESOLVABLE, new PluginState.Unresolvable("cannot be resolved"));
        table.put(inactive, m);

        m = everywhere.apply(unresolvable);
        m.put(Transition.UNRESOLVABLE, new PluginState.Unresolvable("cannot be resolved"));
        m.put(Transition.RESOLVED, PluginState.INACTIVE);
        table.put(unresolvable, m);

        m = everywhere.apply(retiringFailed);
        m.put(Transition.UNRESOLVABLE, new PluginState.Unresolvable("cannot be resolved"));
        table.put(retiringFailed, m);

        m = everywhere.apply(loading);
        m.put(Transition.LOADED, new PluginState.Ready(r1));
        m.put(Transition.LOAD_FAILED, new PluginState.Failed(r1, "refused", "onnx"));
        table.put(loading, m);

        m = everywhere.apply(ready);
        m.put(Transition.ENGINE_LOST, new PluginState.Failed(r1, "engine gone", "fake"));
        table.put(ready, m);

        table.put(failed, everywhere.apply(failed));
        return table;
    }

    @Test
    public void everyTransitionIsLegalExactlyWhereTheTableSaysAndLandsWhereItSays() {
        int legal = 0;
        int illegal = 0;
        for (Map.Entry<PluginState, Map<Transition, PluginState>> row : table().entrySet()) {
            PluginState from = row.getKey();
            for (Transition t : Transition.values()) {
                PluginState expected = row.getValue().get(t);
                if (expected != null) {
                    PluginState to = apply(from, t);
                    assertEquals(from.name() + " --" + t + "-->", expected, to);
                    legal++;
                } else {
                    try {
                        PluginState to = apply(from, t);
                        fail(from.name() + " --" + t + "--> " + to + " should be refused");
                    } catch (IllegalStateException e) {
                        assertTrue(e.getMessage(), e.getMessage().startsWith("illegal plugin state transition"));
                        illegal++;
                    }
                }
            }
        }
        assertEquals("states × transitions", 6 * Transition.values().length, legal + illegal);
        assertEquals(26, legal);
    }

    @Test
    public void stopAlwaysLandsOnTheOneInactiveValueAndResolvedLeavesOtherStatesAsTheyAre() {
        for (PluginState s : List.of(inactive, unresolvable, retiringFailed, loading, ready, failed)) {
            assertSame(s.name(), PluginState.INACTIVE, s.stop());
            if (s != unresolvable) {
                assertSame(s.name(), s, s.resolved());
            }
        }
    }

    @Test
    public void eachStateReportsWhatAdminPluginsShows() {
        assertReports(inactive, ModelState.UNLOADED, "", false);
        assertReports(unresolvable, ModelState.FAILED, "plugin io.acme.fm 1.0.0 cannot be resolved", false);
        assertReports(retiringFailed, ModelState.FAILED, "engine fake went away", false);
        assertReports(loading, ModelState.LOADING, "", true);
        assertReports(ready, ModelState.READY, "", true);
        assertReports(failed, ModelState.FAILED, "corrupt model", true);
        assertEquals(r1, loading.revisionKey());
        assertEquals(r1, ready.revisionKey());
        assertEquals(r1, failed.revisionKey());
        assertEquals("fake", ((PluginState.Failed) failed).awaitingEngine());
    }

    private static void assertReports(PluginState s, ModelState reported, String error, boolean started) {
        assertEquals(s.name(), reported, s.reported());
        assertEquals(s.name(), error, s.error());
        assertEquals(s.name(), started, s.started());
        if (!started) {
            try {
                s.revisionKey();
                fail(s.name() + " has no revision of its own");
            } catch (IllegalStateException expected) {
                // a plugin that is not started has no loading, ready or failed revision
            }
        }
    }

    // ---- regressions the explicit states guard against ----------------------------------------

    @Test
    public void aLoadThatEndsAfterItsPluginStoppedCannotMakeItReadyOrFailed() {
        PluginState stopped = loading.stop();
        assertRefused(() -> stopped.loaded(current));
        assertRefused(() -> stopped.loadFailed(current, "late", null));
    }

    @Test
    public void onlyTheCurrentAttemptEndsALoad() {
        PluginState newer = loading.load(next);
        assertRefused(() -> newer.loaded(current));
        assertRefused(() -> newer.loadFailed(current, "late", null));
        assertEquals(new PluginState.Ready(REVISION_2.revisionKey()), newer.loaded(next));
    }

    @Test
    public void aResolveDiagnosisCannotOverrideAStartedPlugin() {
        assertRefused(() -> loading.unresolvable("late diagnosis"));
        assertRefused(() -> ready.unresolvable("late diagnosis"));
        assertRefused(() -> failed.unresolvable("late diagnosis"));
    }

    @Test
    public void onlyAStoppedPluginResumesAndOnlyAServingOneLosesItsEngine() {
        assertRefused(() -> loading.resume(r1));
        assertRefused(() -> failed.resume(r1));
        assertRefused(() -> loading.engineLost("gone", "fake"));
        assertRefused(() -> failed.engineLost("gone", "fake"));
        assertRefused(() -> unresolvable.engineLost("gone", "fake"));
    }

    private static void assertRefused(Runnable transition) {
        try {
            transition.run();
            fail("the transition should be refused");
        } catch (IllegalStateException expected) {
            assertTrue(expected.getMessage(), expected.getMessage().startsWith("illegal plugin state transition"));
        }
    }

    // ---- PluginRecord: the one place a transition takes effect ----------------------------------

    @Test
    public void leavingLoadingCancelsTheAttemptUnlessTheAttemptEndedIt() {
        PluginRecord r = new PluginRecord(REVISION_1);
        r.moveTo(r.state().load(current), "test");
        r.moveTo(r.state().stop(), "test");
        assertTrue("stopping cancels the load", current.isCancelled());

        LoadAttempt replaced = new LoadAttempt(REVISION_1, null);
        r.moveTo(r.state().load(replaced), "test");
        r.moveTo(r.state().load(next), "test");
        assertTrue("a new attempt cancels the one it replaces", replaced.isCancelled());
        assertFalse(next.isCancelled());
    }

    @Test
    public void anIllegalTransitionLeavesTheRecordAsItWas() {
        PluginRecord r = new PluginRecord(REVISION_1);
        r.moveTo(r.state().load(current), "test");
        PluginState before = r.state();
        try {
            r.moveTo(r.state().engineLost("gone", "fake"), "test");
            fail("Loading cannot lose an engine");
        } catch (IllegalStateException expected) {
            assertSame(before, r.state());
            assertFalse(current.isCancelled());
        }
    }

    @Test
    public void aStoppedPluginWhoseOldRevisionStillServesShowsReady() {
        PluginRecord r = new PluginRecord(REVISION_1);
        PluginStatus idle = r.status(false);
        assertEquals(ModelState.UNLOADED, idle.state());
        assertEquals("fm", idle.model());
        assertEquals("1.0.0", idle.modelVersion());
        assertEquals(ModelState.READY, r.status(true).state());
        r.moveTo(r.state().unresolvable("plugin io.acme.fm 1.0.0 cannot be resolved: x"), "test");
        PluginStatus refused = r.status(true);
        assertEquals(ModelState.FAILED, refused.state());
        assertEquals("plugin io.acme.fm 1.0.0 cannot be resolved: x", refused.error());
    }
}
