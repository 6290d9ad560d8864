package io.tollgate.endpoint.internal;

import io.tollgate.health.ReadinessCheck;
import io.tollgate.serving.ModelRegistry;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The {@link ReadinessCheck} services of the appliance's parts, plus, when the model registry does not register its
 * own check, the registry's readiness as check {@code plugins} (the plugins present at start have settled), evaluated
 * together for {@code /v2/health/ready} and
 * {@code /metrics}. The appliance is ready when every <em>required</em> check is; optional checks (e.g. the usage
 * uplink) are reported but do not make it unready.
 *
 * <p>Threads: checks are bound and unbound on the SCR thread and evaluated on the event loops; a check that throws is
 * reported as not ready with the exception, never as ready.
 */
final class ReadinessChecks {
    private static final Logger LOG = LoggerFactory.getLogger(ReadinessChecks.class);

    /** One check's state at one moment. {@code reason} is empty when ready. */
    record State(String name, boolean required, boolean ready, String reason) {
    }

    private final List<ReadinessCheck> checks = new CopyOnWriteArrayList<>();
    private volatile ModelRegistry registry;
    /** While the endpoint's warm-up runs, why it is not ready yet; null otherwise ({@link #warming}). */
    private volatile String warming;
    /** The last state logged per check name, so that each change is logged once (not each probe). */
    private final java.util.Map<String, String> logged = new java.util.concurrent.ConcurrentHashMap<>();

    void registry(ModelRegistry value) {
        this.registry = value;
    }

    /**
     * Holds readiness while the endpoint's warm-up runs ({@code reason}), or releases it ({@code null}). Shown as check
     * {@code endpoint} only while held: it lasts a fraction of a second at activation and is never logged.
     */
    void warming(String reason) {
        this.warming = reason;
    }

    void add(ReadinessCheck check) {
        checks.add(check);
    }

    void remove(ReadinessCheck check) {
        checks.remove(check);
    }

    /** Every check now, by name (the registry's own, when it has none, first). */
    List<State> states() {
        List<State> out = new ArrayList<>();
        ModelRegistry r = registry;
        if (r != null && !checks.contains(r)) {
            boolean ready = r.ready();
            out.add(new State("plugins", true, ready, ready ? ""
                    : "plugins present at start are still loading, or the appliance is shutting down (see /admin/plugins)"));
        }
        List<State> parts = new ArrayList<>();
        for (ReadinessCheck c : checks) {
            parts.add(evaluate(c));
        }
        parts.sort(Comparator.comparing(State::name));
        out.addAll(parts);
        String warm = warming;
        for (State s : out) {
            String now = s.ready() ? "" : s.reason();
            String before = logged.put(s.name(), now);
            if (before == null ? !s.ready() : !before.equals(now)) {
                if (s.ready()) {
                    LOG.info("readiness: {} is ready again", s.name());
                } else {
                    LOG.warn("readiness: {} ({}) is not ready: {}", s.name(), s.required() ? "required" : "optional",
                            s.reason());
                }
            }
        }
        if (warm != null) {
            out.add(new State("endpoint", true, false, warm));   // last: the checks of the parts keep their places
        }
        return out;
    }

    /** True when every required check is ready. */
    static boolean ready(List<State> states) {
        return states.stream().allMatch(s -> s.ready() || !s.required());
    }

    private static State evaluate(ReadinessCheck c) {
        String name;
        boolean required;
        try {
            name = c.name();
            required = c.required();
        } catch (RuntimeException e) {
            return new State(c.getClass().getName(), true, false, "the readiness check failed: " + e);
        }
        try {
            Optional<String> reason = c.notReadyReason();
            if (reason == null || reason.isEmpty()) {
                return new State(name, required, true, "");
            }
            return new State(name, required, false, reason.get());
        } catch (RuntimeException e) {
            return new State(name, required, false, "the readiness check failed: " + e);
        }
    }
}
