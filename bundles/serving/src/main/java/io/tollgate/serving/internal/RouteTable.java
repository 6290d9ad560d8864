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
 * thread. A changed route replaces the old one whole (a new client and a closed circuit breaker).
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
        RemoteRoute route = new RemoteRoute(config, model, executor);
        routes.put(model, route);
        LOG.info("model '{}': {} in force", DescriptorReader.printable(model), config);
        route.refreshMetadata();
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
