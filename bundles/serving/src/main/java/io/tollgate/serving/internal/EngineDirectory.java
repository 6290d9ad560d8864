package io.tollgate.serving.internal;

import io.tollgate.engine.spi.InferenceEngine;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * The inference engines present right now, by name, and the plugins waiting for one. Engines are
 * OSGi services that come and go; a plugin asking for an engine that is not (yet) there waits for it
 * a bounded time instead of failing at once, because engine and plugin bundles start in any order.
 */
final class EngineDirectory {
    private final Map<String, List<InferenceEngine>> engines = new LinkedHashMap<>();
    private final Map<String, List<CompletableFuture<InferenceEngine>>> waiting = new LinkedHashMap<>();

    /** Adds an engine and hands it to the plugins waiting for its name. */
    void add(InferenceEngine engine) {
        String name = engine.name();
        List<CompletableFuture<InferenceEngine>> waiters;
        synchronized (this) {
            engines.computeIfAbsent(name, n -> new ArrayList<>()).add(engine);
            waiters = waiting.remove(name);
        }
        if (waiters != null) {
            waiters.forEach(w -> w.complete(engine));
        }
    }

    /** Removes an engine; its name when it was present. */
    synchronized Optional<String> remove(InferenceEngine engine) {
        for (var it = engines.entrySet().iterator(); it.hasNext(); ) {
            var e = it.next();
            if (e.getValue().removeIf(x -> x == engine)) {
                if (e.getValue().isEmpty()) {
                    it.remove();
                }
                return Optional.of(e.getKey());
            }
        }
        return Optional.empty();
    }

    synchronized Optional<InferenceEngine> find(String name) {
        List<InferenceEngine> list = engines.get(name);
        return list == null || list.isEmpty() ? Optional.empty() : Optional.of(list.get(0));
    }

    synchronized boolean contains(InferenceEngine engine) {
        return engines.values().stream().anyMatch(l -> l.stream().anyMatch(x -> x == engine));
    }

    synchronized Set<String> names() {
        return new TreeSet<>(engines.keySet());
    }

    /**
     * The engine named {@code name}: at once when present, else when it is added; completes
     * exceptionally with a {@link TimeoutException} after {@code timeoutMs}.
     */
    CompletableFuture<InferenceEngine> await(String name, long timeoutMs, ScheduledExecutorService scheduler) {
        CompletableFuture<InferenceEngine> result = new CompletableFuture<>();
        synchronized (this) {
            Optional<InferenceEngine> present = find(name);
            if (present.isPresent()) {
                result.complete(present.get());
                return result;
            }
            waiting.computeIfAbsent(name, n -> new ArrayList<>()).add(result);
        }
        try {
            scheduler.schedule(() -> result.completeExceptionally(new TimeoutException(
                    "no engine named '" + name + "' appeared within " + timeoutMs + " ms")), timeoutMs, TimeUnit.MILLISECONDS);
        } catch (RejectedExecutionException e) {
            result.completeExceptionally(e);
        }
        result.whenComplete((e, err) -> forget(name, result));
        return result;
    }

    private synchronized void forget(String name, CompletableFuture<InferenceEngine> waiter) {
        List<CompletableFuture<InferenceEngine>> list = waiting.get(name);
        if (list != null) {
            list.remove(waiter);
            if (list.isEmpty()) {
                waiting.remove(name);
            }
        }
    }
}
