package io.tollgate.runtime;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertSame;
import static org.junit.Assert.assertTrue;

import io.tollgate.runtime.ComponentStates.Configuration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.Test;

/** The start's verdict from SCR's component states; the real SCR answers are exercised by StartupFailureIT. */
public class RequiredComponentsTest {
    /** What SCR 2.2.18 put in {@code failure} for the journal with roll.cycle=NOPE (trimmed). */
    private static final String JOURNAL_FAILURE = "java.lang.reflect.InvocationTargetException\n"
            + "\tat java.base/jdk.internal.reflect.NativeConstructorAccessorImpl.newInstance0(Native Method)\n"
            + "\tat org.apache.felix.scr.impl.inject.internal.ComponentConstructorImpl.newInstance(ComponentConstructorImpl.java:325)\n"
            + "Caused by: java.lang.IllegalArgumentException: roll.cycle 'NOPE' is not a Chronicle RollCycles name "
            + "(e.g. FAST_HOURLY, FAST_DAILY, HALF_HOURLY)\n"
            + "\tat io.tollgate.metering.internal.JournalOptions.from(JournalOptions.java:40)\n"
            + "\t... 91 more\n";

    private static Configuration active() {
        return new Configuration(ComponentStates.ACTIVE, "", List.of());
    }

    private static Map<String, List<Configuration>> allActive() {
        Map<String, List<Configuration>> m = new HashMap<>();
        for (RequiredComponents.Part p : RequiredComponents.required(true)) {
            m.put(p.component(), List.of(active()));
        }
        return m;
    }

    @Test
    public void startedOnlyWhenEveryRequiredComponentIsActive() {
        Map<String, List<Configuration>> states = allActive();
        assertSame(RequiredComponents.Verdict.STARTED,
                RequiredComponents.verdict(states, RequiredComponents.required(false), false, 1000));
        states.put(RequiredComponents.ENDPOINT.component(), List.of(new Configuration(ComponentStates.SATISFIED, "",
                List.of())));
        assertSame(RequiredComponents.Verdict.WAIT,
                RequiredComponents.verdict(states, RequiredComponents.required(false), false, 1000));
    }

    @Test
    public void aFailedActivationIsReportedForTheFirstPartInDependencyOrderWithTheComponentsOwnMessage() {
        Map<String, List<Configuration>> states = allActive();
        states.put(RequiredComponents.JOURNAL.component(), List.of(new Configuration(ComponentStates.FAILED_ACTIVATION,
                JOURNAL_FAILURE, List.of())));
        states.put(RequiredComponents.ENDPOINT.component(), List.of(new Configuration(ComponentStates.FAILED_ACTIVATION,
                "org.osgi.service.component.ComponentException: Unable to get service for reference inference", List.of())));
        RequiredComponents.Verdict v = RequiredComponents.verdict(states, RequiredComponents.required(false), false, 1000);
        assertTrue(v.done());
        assertEquals(StartFailure.COMPONENT_FAILED, v.failure().exitCode());
        assertEquals("the usage journal did not start: roll.cycle 'NOPE' is not a Chronicle RollCycles name (e.g. "
                + "FAST_HOURLY, FAST_DAILY, HALF_HOURLY). Tollgate is not running; fix the cause and start it again",
                v.failure().getMessage());
    }

    @Test
    public void theUplinkIsRequiredOnlyWhenAskedFor() {
        Map<String, List<Configuration>> states = allActive();
        states.put(RequiredComponents.UPLINK.component(), List.of(new Configuration(ComponentStates.FAILED_ACTIVATION,
                "java.lang.IllegalArgumentException: tls.* files are set but broker.url 'tcp://127.0.0.1:1883' is "
                        + "plain tcp://; use ssl://", List.of())));
        assertSame(RequiredComponents.Verdict.STARTED,
                RequiredComponents.verdict(states, RequiredComponents.required(false), false, 1000));
        RequiredComponents.Verdict v = RequiredComponents.verdict(states, RequiredComponents.required(true), false, 1000);
        assertEquals(StartFailure.COMPONENT_FAILED, v.failure().exitCode());
        assertTrue(v.failure().getMessage(), v.failure().getMessage().startsWith("the usage uplink (sync) did not start: "
                + "tls.* files are set but broker.url 'tcp://127.0.0.1:1883' is plain tcp://; use ssl://."));
        Optional<String> reason = RequiredComponents.notReadyReason(states, RequiredComponents.UPLINK);
        assertTrue(reason.orElse("ready").startsWith("the usage uplink (sync) did not start: tls.* files are set"));
        assertFalse(RequiredComponents.notReadyReason(allActive(), RequiredComponents.UPLINK).isPresent());
    }

    @Test
    public void theTimeoutSaysWhatEachPartWaitsFor() {
        Map<String, List<Configuration>> states = allActive();
        states.remove(RequiredComponents.SERVING.component());
        states.put(RequiredComponents.ENDPOINT.component(), List.of(new Configuration(
                ComponentStates.UNSATISFIED_REFERENCE, "", List.of("inference", "registry"))));
        assertSame(RequiredComponents.Verdict.WAIT,
                RequiredComponents.verdict(states, RequiredComponents.required(false), false, 1000));
        RequiredComponents.Verdict v = RequiredComponents.verdict(states, RequiredComponents.required(false), true, 1000);
        assertEquals(StartFailure.START_TIMEOUT, v.failure().exitCode());
        assertEquals("not started within 1000 ms (--start-timeout): serving: not registered (its bundle did not start, "
                + "or the component is disabled); HTTP endpoint: waiting for a service [inference, registry]. Tollgate "
                + "is not running; see the log above for why", v.failure().getMessage());
    }

    @Test
    public void reasonIsTheDeepestCauseWithoutItsExceptionClass() {
        assertEquals("", ComponentStates.reason(null));
        assertEquals("plain message", ComponentStates.reason("plain message\n\tat x.y(Z.java:1)"));
        assertEquals("cannot listen on 0.0.0.0:8000 (Address already in use)", ComponentStates.reason(
                "java.lang.IllegalStateException: cannot listen on 0.0.0.0:8000 (Address already in use)\n\tat a.b"));
    }
}
