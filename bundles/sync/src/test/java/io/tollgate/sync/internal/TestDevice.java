package io.tollgate.sync.internal;

import io.tollgate.metering.MeteringException;
import io.tollgate.metering.UsageEvent;
import io.tollgate.metering.internal.ChronicleUsageJournal;
import io.tollgate.metering.internal.Ed25519DeviceKey;
import io.tollgate.metering.internal.JournalOptions;
import io.tollgate.metering.internal.JournalSync;
import java.io.IOException;
import java.lang.reflect.Proxy;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.Random;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

/** A real device for tests: a real Ed25519 device key and a real Chronicle usage journal in a temporary folder. */
final class TestDevice implements AutoCloseable {
    final Path data;
    final Ed25519DeviceKey key;
    final ChronicleUsageJournal journal;
    private final Random random = new Random(42);

    TestDevice(Path data) throws IOException {
        this.data = data;
        this.key = Ed25519DeviceKey.loadOrCreate(data.resolve("device"), "");
        this.journal = new ChronicleUsageJournal(key, JournalOptions.defaults(data.resolve("usage"))
                .withSync(JournalSync.NONE).withSeals(256, 3_600_000));
    }

    String id() {
        return key.deviceId();
    }

    /** A realistic usage event: a few tenants and models, unique request ids, varying quantity and compute time. */
    UsageEvent event(int i) {
        String[] tenants = {"acme", "müller-gmbh", "northwind", "globex-industrial"};
        String[] models = {"fashion-mnist", "ppocr-det", "minilm-l6"};
        String model = models[i % 7 == 0 ? 1 : i % 11 == 0 ? 2 : 0];
        return new UsageEvent(tenants[random.nextInt(10) < 7 ? 0 : 1 + random.nextInt(3)], model, "1.0.0",
                "io.tollgate.plugin." + model, "1.0.0", "", "inference", 1 + random.nextInt(8),
                200_000L + random.nextInt(3_000_000), "cpu", UUID.randomUUID().toString(), "OK");
    }

    long append(int n) throws MeteringException {
        long last = 0;
        for (int i = 0; i < n; i++) {
            last = journal.append(event(i));
        }
        return last;
    }

    long lastSeq() {
        return journal.status().lastSeq();
    }

    /**
     * The last seq once the journal is quiet: its sealer writes a seal shortly after every 256th record, on its own
     * thread, so the head may move a little after the last append returned.
     */
    long settledLastSeq() throws InterruptedException {
        long last = lastSeq();
        while (true) {
            Thread.sleep(150);
            long now = lastSeq();
            if (now == last) {
                return now;
            }
            last = now;
        }
    }

    MqttUsageUplink uplink(Map<String, Object> config) throws IOException {
        Map<String, Object> c = new HashMap<>(config);
        c.putIfAbsent("directory", data.resolve("sync").toString());
        return new MqttUsageUplink(journal, key, config(c), null);
    }

    /** The persisted ack cursor. */
    long cursor() {
        try {
            return new AckedSeqFile(data.resolve("sync")).read();
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    @Override
    public void close() {
        journal.close();
    }

    /** A SyncConfig as DS would make it: keys with "." for "_", the annotation's defaults for the rest. */
    static SyncConfig config(Map<String, Object> props) {
        return (SyncConfig) Proxy.newProxyInstance(SyncConfig.class.getClassLoader(), new Class<?>[] {SyncConfig.class},
                (proxy, m, args) -> {
                    if (m.getName().equals("annotationType")) {
                        return SyncConfig.class;
                    }
                    if (m.getDeclaringClass() == Object.class) {
                        return m.getName().equals("toString") ? "SyncConfig" + props
                                : m.getName().equals("hashCode") ? props.hashCode() : proxy == args[0];
                    }
                    Object v = props.get(m.getName().replace('_', '.'));
                    return v != null ? v : m.getDefaultValue();
                });
    }

    static void await(String what, long timeoutMs, BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMs);
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out after " + timeoutMs + " ms waiting for: " + what);
            }
            Thread.sleep(20);
        }
    }
}
