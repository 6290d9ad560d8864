package io.tollgate.it;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Client threads that keep calling one infer path while a test upgrades the model under them:
 * counts answers by the model version that served them and keeps every failure.
 */
final class VersionedLoad implements AutoCloseable {
    /** One call; returns the response. */
    interface Call {
        Http.Response send() throws Exception;
    }

    private final AtomicBoolean running = new AtomicBoolean(true);
    private final Map<String, AtomicInteger> byVersion = new ConcurrentHashMap<>();
    private final List<String> failures = Collections.synchronizedList(new ArrayList<>());
    private final List<Thread> clients = new ArrayList<>();

    VersionedLoad(int threads, Call call) {
        for (int t = 0; t < threads; t++) {
            Thread c = new Thread(() -> {
                while (running.get()) {
                    try {
                        Http.Response r = call.send();
                        if (r.status() == 200) {
                            byVersion.computeIfAbsent(r.json().get("model_version").asText(), k -> new AtomicInteger())
                                    .incrementAndGet();
                        } else {
                            failures.add(r.status() + " " + r.body());
                        }
                    } catch (Exception e) {
                        failures.add(e.toString());
                    }
                }
            }, "it-client-" + t);
            c.start();
            clients.add(c);
        }
    }

    /** Waits until {@code version} has served a request, then lets the load run {@code afterMs} more. */
    void awaitVersion(String version, long timeoutMs, long afterMs) throws InterruptedException {
        long deadline = System.currentTimeMillis() + timeoutMs;
        while (!byVersion.containsKey(version) && System.currentTimeMillis() < deadline) {
            Thread.sleep(50);
        }
        Thread.sleep(afterMs);
    }

    Map<String, AtomicInteger> byVersion() {
        return byVersion;
    }

    List<String> failures() {
        return failures;
    }

    int ok() {
        return byVersion.values().stream().mapToInt(AtomicInteger::get).sum();
    }

    @Override
    public void close() throws InterruptedException {
        running.set(false);
        for (Thread c : clients) {
            c.join(30_000);
        }
    }
}
