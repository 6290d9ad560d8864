package io.tollgate.sync.internal;

import io.tollgate.metering.MeteringException;
import io.tollgate.metering.UsageEvent;
import io.tollgate.metering.UsageJournal;
import io.tollgate.metering.testing.TestJournal;
import io.tollgate.sync.testing.TestUplink;
import java.io.IOException;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.Random;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.bouncycastle.crypto.params.Ed25519PrivateKeyParameters;

/**
 * A real device for tests: a real Ed25519 device key and a real Chronicle usage journal in a temporary folder
 * (metering's test-jar {@link TestJournal}: this module never imports metering's private classes).
 */
final class TestDevice implements AutoCloseable {
    final Path data;
    final UsageJournal journal;
    /** The cloud's ack key in these tests, and its public PEM, which {@link #uplink} configures by default. */
    final Ed25519PrivateKeyParameters cloudKey = CloudKeys.generate();
    final Path cloudPublicKeyFile;
    private final TestJournal device;
    private final Random random = new Random(42);

    TestDevice(Path data) throws IOException {
        this.data = data;
        this.device = TestJournal.open(data, 256, 3_600_000, null);
        this.journal = device.journal();
        this.cloudPublicKeyFile = CloudKeys.writePublicPem(cloudKey, data.resolve("cloud.pub.pem"));
    }

    String id() {
        return device.deviceId();
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

    /** The last seq once the sealer (a seal shortly after every 256th record, on its own thread) is quiet. */
    long settledLastSeq() throws InterruptedException {
        return device.settledLastSeq();
    }

    MqttUsageUplink uplink(Map<String, Object> config) throws IOException {
        Map<String, Object> c = new HashMap<>(config);
        c.putIfAbsent("directory", data.resolve("sync").toString());
        c.putIfAbsent("cloud.public.key.file", cloudPublicKeyFile.toString());
        return new MqttUsageUplink(journal, device.device(), config(c), null);
    }

    /** As {@link #uplink(Map)}, with the appliance's licenses folder ({@code tollgate.licenses}; null = unset). */
    MqttUsageUplink uplink(Map<String, Object> config, Path licensesDir) throws IOException {
        Map<String, Object> c = new HashMap<>(config);
        c.putIfAbsent("directory", data.resolve("sync").toString());
        c.putIfAbsent("cloud.public.key.file", cloudPublicKeyFile.toString());
        return new MqttUsageUplink(journal, device.device(), config(c), null, licensesDir);
    }

    /** As Declarative Services activates it: the component properties are checked too. */
    MqttUsageUplink activatedUplink(Map<String, Object> properties) throws IOException {
        return new MqttUsageUplink(journal, device.device(), config(properties), null, properties);
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
        device.close();
    }

    /** A SyncConfig as DS would make it (see {@link TestUplink#config}). */
    static SyncConfig config(Map<String, Object> props) {
        return TestUplink.config(props);
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
