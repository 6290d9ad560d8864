package io.tollgate.runtime;

import java.lang.reflect.Proxy;
import java.util.Hashtable;
import java.util.Optional;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;
import org.osgi.framework.Constants;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The readiness check ({@code io.tollgate.health.ReadinessCheck}, required=false) of an optional component that the
 * launcher watches (the uplink): not ready, with SCR's reason, while the component failed to activate. So an optional
 * part that could not start shows in {@code /v2/health/ready} and {@code /metrics} instead of only in the log.
 *
 * <p>The interface is the api bundle's ({@code system/}), not on the launcher's class path: the check is a
 * {@link Proxy} made in that bundle's class loader and registered with that bundle's context, so that every consumer
 * wired to the api bundle sees it. Threads: a daemon thread reads SCR's state every second; {@code notReadyReason()}
 * returns the last reading and never blocks (called on network threads).
 */
final class OptionalReadiness {
    private static final Logger LOG = LoggerFactory.getLogger(OptionalReadiness.class);
    static final String INTERFACE = "io.tollgate.health.ReadinessCheck";
    static final long REFRESH_MS = 1000;

    private OptionalReadiness() {
    }

    /**
     * Registers the check {@code name} for {@code part}; returns false (with a WARN) when no installed bundle exports
     * the interface.
     */
    static boolean register(BundleContext system, String name, RequiredComponents.Part part) {
        Bundle api = exporter(system);
        if (api == null || api.getBundleContext() == null) {
            LOG.warn("no active bundle exports {}: the {} is not reported in readiness", INTERFACE, part.label());
            return false;
        }
        Class<?> type;
        try {
            type = api.loadClass(INTERFACE);
        } catch (ClassNotFoundException e) {
            LOG.warn("{} does not load from {}: the {} is not reported in readiness", INTERFACE, api, part.label());
            return false;
        }
        AtomicReference<Optional<String>> reason = new AtomicReference<>(Optional.empty());
        Runnable refresh = () -> {
            try {
                reason.set(RequiredComponents.notReadyReason(ComponentStates.read(system), part));
            } catch (RuntimeException e) {
                // the framework is stopping: keep the last reading
            }
        };
        refresh.run();
        Object check = Proxy.newProxyInstance(type.getClassLoader(), new Class<?>[] {type}, (proxy, m, args) ->
                switch (m.getName()) {
                    case "name" -> name;
                    case "required" -> Boolean.FALSE;
                    case "notReadyReason" -> reason.get();
                    case "hashCode" -> System.identityHashCode(proxy);
                    case "equals" -> proxy == args[0];
                    case "toString" -> "ReadinessCheck[" + name + ", optional, " + part.component() + "]";
                    default -> throw new UnsupportedOperationException(m.getName());
                });
        Hashtable<String, Object> props = new Hashtable<>();
        props.put("readiness.check", name);
        props.put(Constants.SERVICE_DESCRIPTION, "Tollgate launcher: " + part.label() + " started");
        api.getBundleContext().registerService(INTERFACE, check, props);
        ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "tollgate-readiness-" + name);
            t.setDaemon(true);
            return t;
        });
        timer.scheduleWithFixedDelay(refresh, REFRESH_MS, REFRESH_MS, TimeUnit.MILLISECONDS);
        reason.get().ifPresent(r -> LOG.warn("optional part not ready ({}): {}", name, r));
        return true;
    }

    private static Bundle exporter(BundleContext system) {
        for (Bundle b : system.getBundles()) {
            Object exports = b.getHeaders("").get(Constants.EXPORT_PACKAGE);
            if (exports != null && exports.toString().contains("io.tollgate.health") && b.getState() == Bundle.ACTIVE) {
                return b;
            }
        }
        return null;
    }
}
