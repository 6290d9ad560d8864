package io.tollgate.runtime;

import io.tollgate.runtime.ComponentStates.Configuration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The components without which the appliance cannot do its job, and the verdict on a start: the launcher logs
 * "Tollgate ... started" only once each of them is active (the endpoint active means its port is bound: it binds in
 * its constructor). Required: the device key, the usage journal, serving and the endpoint (an appliance that cannot
 * meter must not serve; one without its port serves nobody). The uplink (sync) is optional — usage waits in the
 * journal — except when the operator asked for it on this run's command line ({@code --mqtt}); docs/decisions.md,
 * 2026-11-30 "Start-up: required components".
 */
final class RequiredComponents {
    /** A component by its DS name (the implementation class) and what an operator calls it. */
    record Part(String component, String label) {
    }

    static final Part DEVICE_KEY = new Part("io.tollgate.metering.internal.FileDeviceIdentity", "device key");
    static final Part JOURNAL = new Part("io.tollgate.metering.internal.ChronicleUsageJournal", "usage journal");
    /** Placement and memory budgets (issue 12): serving needs it, so a bad io.tollgate.accelerators.cfg is named first. */
    static final Part ACCELERATORS = new Part("io.tollgate.accelerators.internal.AcceleratorService", "accelerators");
    static final Part SERVING = new Part("io.tollgate.serving.internal.ServingService", "serving");
    static final Part ENDPOINT = new Part("io.tollgate.endpoint.internal.HttpEndpoint", "HTTP endpoint");
    static final Part UPLINK = new Part("io.tollgate.sync.internal.MqttUsageUplink", "usage uplink (sync)");

    /** The outcome so far: {@code done} with {@code failure} null = started; not done = keep waiting. */
    record Verdict(boolean done, StartFailure failure) {
        static final Verdict STARTED = new Verdict(true, null);
        static final Verdict WAIT = new Verdict(false, null);
    }

    private RequiredComponents() {
    }

    /** The required parts, in dependency order (a failure is reported for the first, its root cause). */
    static List<Part> required(boolean uplinkRequired) {
        List<Part> parts = new ArrayList<>(List.of(DEVICE_KEY, JOURNAL, ACCELERATORS, SERVING, ENDPOINT));
        if (uplinkRequired) {
            parts.add(UPLINK);
        }
        return parts;
    }

    /**
     * The verdict on {@code states} (from {@link ComponentStates#read}): failed as soon as one required part failed
     * to activate; started when every one is active; otherwise wait, or, when {@code timedOut}, failed with what each
     * part that is not active waits for.
     */
    static Verdict verdict(Map<String, List<Configuration>> states, List<Part> parts, boolean timedOut,
                           long timeoutMs) {
        for (Part p : parts) {
            for (Configuration c : states.getOrDefault(p.component(), List.of())) {
                if (c.state() == ComponentStates.FAILED_ACTIVATION) {
                    String reason = ComponentStates.reason(c.failure());
                    return new Verdict(true, new StartFailure(StartFailure.COMPONENT_FAILED, "the " + p.label()
                            + " did not start: " + (reason.isEmpty() ? "(no reason given; see the log above)" : reason)
                            + ". Tollgate is not running; fix the cause and start it again"));
                }
            }
        }
        List<String> waiting = new ArrayList<>();
        for (Part p : parts) {
            List<Configuration> cs = states.getOrDefault(p.component(), List.of());
            if (cs.isEmpty()) {
                waiting.add(p.label() + ": not registered (its bundle did not start, or the component is disabled)");
                continue;
            }
            for (Configuration c : cs) {
                if (c.state() != ComponentStates.ACTIVE) {
                    waiting.add(p.label() + ": " + ComponentStates.stateName(c.state())
                            + (c.unsatisfiedReferences().isEmpty() ? "" : " " + c.unsatisfiedReferences()));
                }
            }
        }
        if (waiting.isEmpty()) {
            return Verdict.STARTED;
        }
        if (!timedOut) {
            return Verdict.WAIT;
        }
        return new Verdict(true, new StartFailure(StartFailure.START_TIMEOUT, "not started within " + timeoutMs
                + " ms (--start-timeout): " + String.join("; ", waiting) + ". Tollgate is not running; see the log "
                + "above for why"));
    }

    /**
     * Why an optional part is not doing its job, for its readiness check: empty when it is active (or when SCR does
     * not know it, e.g. during a stop).
     */
    static java.util.Optional<String> notReadyReason(Map<String, List<Configuration>> states, Part part) {
        for (Configuration c : states.getOrDefault(part.component(), List.of())) {
            if (c.state() == ComponentStates.FAILED_ACTIVATION) {
                String reason = ComponentStates.reason(c.failure());
                return java.util.Optional.of("the " + part.label() + " did not start: "
                        + (reason.isEmpty() ? "see the log" : reason) + "; usage records stay in the journal until it "
                        + "is fixed (conf/io.tollgate.sync.cfg) and Tollgate restarted");
            }
            if (c.state() != ComponentStates.ACTIVE && c.state() != ComponentStates.SATISFIED) {
                return java.util.Optional.of("the " + part.label() + " is not running: "
                        + ComponentStates.stateName(c.state()) + (c.unsatisfiedReferences().isEmpty() ? ""
                        : " " + c.unsatisfiedReferences()));
            }
        }
        return java.util.Optional.empty();
    }
}
