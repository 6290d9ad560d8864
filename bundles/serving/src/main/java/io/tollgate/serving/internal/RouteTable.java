package io.tollgate.serving.internal;

import io.tollgate.serving.RouteStatus;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The remote routes in force, by model name (hybrid overflow): set and removed by {@link ModelConfigWatch} on the
 * serving lifecycle thread as {@code conf/models/{m}.json} files change, read by {@link ServingService#infer} on any
 * thread. A changed route replaces the old one whole (a new client and its counters).
 *
 * <p>A route's name is one remote server: every model routed to the same {@code name} shares one
 * {@link CircuitBreaker} (when the remote is down, it is down for all of them), so their files must agree on the
 * route's {@code url} and {@code circuit_breaker}; a file that disagrees with a route in force is refused, naming the
 * field and the model whose route it contradicts (decision 2026-12-01 "Hybrid overflow defects"). The breaker lives as
 * long as some model uses the name with the same url and settings; a change of either starts a new, closed one.
 */
final class RouteTable {
    private static final Logger LOG = LoggerFactory.getLogger(RouteTable.class);
    private final Map<String, RemoteRoute> routes = new ConcurrentHashMap<>();
    private final Executor executor;

    /** @param executor where the routes' HTTP clients complete their calls ({@code tollgate-remote-N}) */
    RouteTable(Executor executor) {
        this.executor = executor;
    }

    /** The route of {@code model}, or null when it is served only here. */
    RemoteRoute of(String model) {
        return routes.get(model);
    }

    /**
     * Puts {@code config} in force for {@code model} (null: no route); an unchanged configuration keeps its route,
     * counters and breaker.
     *
     * @throws ModelConfigs.Fault when the route's TLS settings cannot be used
     */
    void set(String model, RouteConfig config) throws ModelConfigs.Fault {
        if (config == null) {
            remove(model);
            return;
        }
        RemoteRoute old = routes.get(model);
        if (old != null && old.config().equals(config)) {
            return;
        }
        CircuitBreaker breaker = null;
        for (RemoteRoute other : new java.util.TreeMap<>(routes).values()) {   // by model name: stable messages
            if (other.model().equals(model) || !other.config().name().equals(config.name())) {
                continue;
            }
            RouteConfig them = other.config();
            String rule = "; one route name is one remote server whose circuit breaker its models share: give this"
                    + " route another name, or the same settings";
            if (!them.url().equals(config.url())) {
                throw new ModelConfigs.Fault("route.url", "field 'route.url' is " + config.url() + " but route '"
                        + config.name() + "' of model '" + DescriptorReader.printable(other.model()) + "' goes to "
                        + them.url() + rule);
            }
            if (them.failureThreshold() != config.failureThreshold() || them.openMs() != config.openMs()) {
                throw new ModelConfigs.Fault("route.circuit_breaker", "field 'route.circuit_breaker' is"
                        + " {failure_threshold " + config.failureThreshold() + ", open_ms " + config.openMs()
                        + "} but route '" + config.name() + "' of model '" + DescriptorReader.printable(other.model())
                        + "' has {failure_threshold " + them.failureThreshold() + ", open_ms " + them.openMs() + "}"
                        + rule);
            }
            breaker = other.breaker();
        }
        if (breaker == null && old != null && sameRemote(old.config(), config)) {
            breaker = old.breaker();   // e.g. only the timeout changed: the remote's state is what it was
        }
        if (breaker == null) {
            breaker = new CircuitBreaker(config.name(), config.failureThreshold(), config.openMs(), System::nanoTime);
        }
        RemoteRoute route = new RemoteRoute(config, model, executor, breaker);
        routes.put(model, route);
        LOG.info("model '{}': {} in force", DescriptorReader.printable(model), config);
        route.refreshMetadata();
    }

    private static boolean sameRemote(RouteConfig a, RouteConfig b) {
        return a.name().equals(b.name()) && a.url().equals(b.url()) && a.failureThreshold() == b.failureThreshold()
                && a.openMs() == b.openMs();
    }

    void remove(String model) {
        RemoteRoute old = routes.remove(model);
        if (old != null) {
            LOG.info("model '{}': {} removed; the model is served here only", DescriptorReader.printable(model),
                    old.config());
        }
    }

    List<RouteStatus> statuses() {
        List<RouteStatus> out = new ArrayList<>();
        for (RemoteRoute r : routes.values()) {
            out.add(r.status());
        }
        out.sort(Comparator.comparing(RouteStatus::model));
        return out;
    }

    Map<String, RemoteRoute> all() {
        return Map.copyOf(routes);
    }
}
