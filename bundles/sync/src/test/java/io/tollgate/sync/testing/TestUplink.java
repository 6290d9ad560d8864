package io.tollgate.sync.testing;

import io.tollgate.metering.DeviceIdentity;
import io.tollgate.metering.UsageJournal;
import io.tollgate.metering.UsageRecord;
import io.tollgate.sync.SyncStatus;
import io.tollgate.sync.SyncStatusProvider;
import io.tollgate.sync.internal.BatchEncoder;
import io.tollgate.sync.internal.MqttUsageUplink;
import io.tollgate.sync.internal.SyncConfig;
import java.io.IOException;
import java.lang.reflect.Proxy;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * The real MQTT uplink outside a framework, for the benchmarks in {@code bench/} and tests: {@code MqttUsageUplink}
 * wired as Declarative Services wires it (a usage journal, a device identity, its configuration). Published in
 * tollgate-sync's test-jar, so that nobody else imports this bundle's private classes.
 */
public final class TestUplink implements SyncStatusProvider, AutoCloseable {
    private final MqttUsageUplink uplink;

    private TestUplink(MqttUsageUplink uplink) {
        this.uplink = uplink;
    }

    /**
     * Starts the uplink with {@code configuration} (PID io.tollgate.sync, e.g. {@code broker.url}, {@code directory},
     * {@code max.records}; the defaults for the rest): its sender thread connects and ships the journal at once.
     */
    public static TestUplink start(UsageJournal journal, DeviceIdentity device, Map<String, ?> configuration)
            throws IOException {
        return new TestUplink(new MqttUsageUplink(journal, device, config(configuration), null));
    }

    @Override
    public SyncStatus syncStatus() {
        return uplink.syncStatus();
    }

    /** Stops the sender thread, as deactivation does. */
    @Override
    public void close() {
        uplink.deactivate();
    }

    /**
     * The sender's batch encoder for {@code encoding} (the configuration key: 0 raw, 1 deflate, 2 deflate with hash
     * elision): consecutive records in, the batch payload out (null when its body would exceed the protocol's limit).
     * Not thread-safe, like the sender's own.
     */
    public static Function<List<UsageRecord>, byte[]> batchEncoder(int encoding) {
        return new BatchEncoder(encoding)::encode;
    }

    /**
     * A {@code SyncConfig} as DS makes it from configuration properties: keys with "." for "_", numbers converted to
     * the attribute's type, the annotation's defaults for the rest.
     */
    public static SyncConfig config(Map<String, ?> properties) {
        return (SyncConfig) Proxy.newProxyInstance(SyncConfig.class.getClassLoader(), new Class<?>[] {SyncConfig.class},
                (proxy, m, args) -> {
                    if (m.getName().equals("annotationType")) {
                        return SyncConfig.class;
                    }
                    if (m.getDeclaringClass() == Object.class) {
                        return m.getName().equals("toString") ? "SyncConfig" + properties
                                : m.getName().equals("hashCode") ? properties.hashCode() : proxy == args[0];
                    }
                    Object v = properties.get(m.getName().replace('_', '.'));
                    if (v instanceof Number n && m.getReturnType() == int.class) {
                        return n.intValue();
                    }
                    if (v instanceof Number n && m.getReturnType() == long.class) {
                        return n.longValue();
                    }
                    return v != null ? v : m.getDefaultValue();
                });
    }
}
