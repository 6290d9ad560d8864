package io.tollgate.metering.internal;

import io.tollgate.metering.UsageEvent;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** Shared test data: events, a fixed device key, and reading a journal directory back. */
final class Fixtures {
    /** A fixed key so tests can check seals; the test vector's key is kept for the vector alone. */
    static final Ed25519DeviceKey KEY = Ed25519DeviceKey.fromSeed(RecordFormat.unhex(
            "4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb"), "");

    private Fixtures() {
    }

    static UsageEvent event(String tenant, int i) {
        return new UsageEvent(tenant, "fashion-mnist", "1.0.0", "io.tollgate.plugin.fashion-mnist", "1.0.0", "",
                "inference", 1 + i % 8, 1000L + i, "cpu", "req-" + tenant + "-" + i, "OK");
    }

    /** Options for tests: no fsync (fast), seals only when a test asks for them. */
    static JournalOptions options(Path dir) {
        return JournalOptions.defaults(dir).withSync(JournalSync.NONE).withSeals(1_000_000, 3_600_000);
    }

    static List<RecordFormat.Decoded> readAll(Path dir) throws IOException {
        List<RecordFormat.Decoded> out = new ArrayList<>();
        JournalReader.forEach(dir, b -> out.add(RecordFormat.decode(b)));
        return out;
    }

    static List<byte[]> readAllBytes(Path dir) throws IOException {
        List<byte[]> out = new ArrayList<>();
        JournalReader.forEach(dir, out::add);
        return out;
    }
}
