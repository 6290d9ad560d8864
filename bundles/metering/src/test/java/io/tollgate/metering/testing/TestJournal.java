package io.tollgate.metering.testing;

import io.tollgate.metering.DeviceIdentity;
import io.tollgate.metering.MeteringException;
import io.tollgate.metering.UsageEvent;
import io.tollgate.metering.UsageJournal;
import io.tollgate.metering.internal.ChronicleUsageJournal;
import io.tollgate.metering.internal.Ed25519DeviceKey;
import io.tollgate.metering.internal.JournalOptions;
import io.tollgate.metering.internal.JournalSync;
import io.tollgate.metering.internal.RecordFormat;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.List;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * A real device for other modules' tests and benchmarks: a real Ed25519 key in {@code DIR/device} and a real
 * Chronicle usage journal in {@code DIR/usage}, laid out as the appliance lays out its data directory. Published in
 * tollgate-metering's test-jar, so that tests elsewhere (tools, sync, serving) and the benchmarks in {@code bench/}
 * never import this bundle's private classes. {@link #open(Path)}: no fsync (fast); seals at open, every
 * {@code sealEveryRecords} records and at close. {@link #production(Path)}: the component's defaults.
 */
public final class TestJournal implements AutoCloseable {
    private final Ed25519DeviceKey key;
    private final ChronicleUsageJournal journal;

    private TestJournal(Ed25519DeviceKey key, JournalOptions options) throws IOException {
        this.key = key;
        this.journal = new ChronicleUsageJournal(key, options);
    }

    /** Seals only at open and close (unless a test appends a million records or runs for an hour). */
    public static TestJournal open(Path dataDir) throws IOException {
        return open(dataDir, 1_000_000, 3_600_000, null);
    }

    /**
     * @param sealEveryRecords a seal after this many records (written shortly after, on the sealer thread)
     * @param sealEveryMs      unsealed records are sealed at the latest after this long
     * @param wallClock        the records' wall time; null for the system clock
     */
    public static TestJournal open(Path dataDir, int sealEveryRecords, long sealEveryMs, Clock wallClock)
            throws IOException {
        return production(dataDir).syncMode("NONE").seals(sealEveryRecords, sealEveryMs).wallClock(wallClock).open();
    }

    /**
     * A journal as the component opens it with no configuration (2 GiB budget, a seal every 256 records or 1 s,
     * sync mode BATCH, hourly files: {@code docs/usage-records.md}), changed only where the returned builder is
     * told to. Benchmarks use it to measure the production journal.
     */
    public static Builder production(Path dataDir) {
        return new Builder(dataDir);
    }

    /** What {@link #production(Path)} changes, in the configuration's terms (PID io.tollgate.metering.journal). */
    public static final class Builder {
        private final Path dataDir;
        private JournalOptions options;
        private byte[] keySeed;
        private String deviceId = "";

        private Builder(Path dataDir) {
            this.dataDir = dataDir;
            this.options = JournalOptions.defaults(dataDir.resolve("usage"));
        }

        /** {@code sync.mode}: NONE, BATCH or EVERY_RECORD. */
        public Builder syncMode(String mode) {
            options = options.withSync(JournalSync.valueOf(mode));
            return this;
        }

        /** {@code seal.every.records} and {@code seal.every.ms}. */
        public Builder seals(int everyRecords, long everyMs) {
            options = options.withSeals(everyRecords, everyMs);
            return this;
        }

        /** {@code disk.budget.bytes}. */
        public Builder diskBudgetBytes(long bytes) {
            options = options.withBudget(bytes);
            return this;
        }

        /** The records' wall time; null for the system clock. */
        public Builder wallClock(Clock clock) {
            if (clock != null) {
                JournalOptions o = options;
                options = new JournalOptions(o.directory(), o.diskBudgetBytes(), o.sealEveryRecords(), o.sealEveryMs(),
                        o.sync(), o.rollCycle(), o.chronicleTime(), clock, o.diskReserveBytes());
            }
            return this;
        }

        /**
         * A key from a 32-byte RFC 8032 seed (nothing written to {@code DIR/device}) and the device id the records
         * carry ("" = derived from the public key). Without it, the key is loaded from or created in
         * {@code DIR/device} with the derived id.
         */
        public Builder key(byte[] seed, String id) {
            this.keySeed = seed.clone();
            this.deviceId = id;
            return this;
        }

        public TestJournal open() throws IOException {
            Ed25519DeviceKey key = keySeed != null ? Ed25519DeviceKey.fromSeed(keySeed, deviceId)
                    : Ed25519DeviceKey.loadOrCreate(dataDir.resolve("device"), deviceId);
            return new TestJournal(key, options);
        }
    }

    public UsageJournal journal() {
        return journal;
    }

    public DeviceIdentity device() {
        return key;
    }

    public String deviceId() {
        return key.deviceId();
    }

    /** Appends one usage record; returns its seq. */
    public long append(UsageEvent e) throws MeteringException {
        return journal.append(e);
    }

    /** A usage event with the given tenant, model, quantity and request id (2 ms compute on cpu, status OK). */
    public static UsageEvent event(String tenant, String model, long quantity, String requestId) {
        return new UsageEvent(tenant, model, "1.0.0", "io.tollgate.plugin." + model, "1.0.0", "", "inference",
                quantity, 2_000_000, "cpu", requestId, "OK");
    }

    /** The usage event inside a usage record's canonical bytes ({@code UsageRecord.canonicalBytes()}). */
    public static UsageEvent usageOf(byte[] canonicalBytes) {
        UsageEvent e = RecordFormat.decode(canonicalBytes).usage();
        if (e == null) {
            throw new IllegalArgumentException("not a usage record");
        }
        return e;
    }

    /**
     * The last seq once the journal is quiet: the sealer writes a seal shortly after every N-th record on its own
     * thread, so the head may move a little after the last append returned.
     */
    public long settledLastSeq() throws InterruptedException {
        long last = journal.status().lastSeq();
        while (true) {
            Thread.sleep(150);
            long now = journal.status().lastSeq();
            if (now == last) {
                return now;
            }
            last = now;
        }
    }

    @Override
    public void close() {
        journal.close();
    }

    /**
     * Replaces the only occurrence of {@code from} in the journal's .cq4 files with {@code to} (same length): what
     * someone with a hex editor would do to a record.
     *
     * @throws AssertionError unless the bytes occur exactly once
     */
    public static void editInPlace(Path journalDir, byte[] from, byte[] to) throws IOException {
        if (from.length != to.length) {
            throw new AssertionError("an edit in place keeps the length: " + from.length + " vs " + to.length);
        }
        int found = 0;
        List<Path> files;
        try (Stream<Path> s = Files.list(journalDir)) {
            files = s.filter(p -> p.toString().endsWith(".cq4")).collect(Collectors.toList());
        }
        for (Path f : files) {
            byte[] content = Files.readAllBytes(f); // sparse files read fine; tests keep them small
            int at = indexOf(content, from, 0);
            if (at < 0) {
                continue;
            }
            if (indexOf(content, from, at + 1) >= 0) {
                throw new AssertionError("the bytes occur more than once in " + f);
            }
            try (RandomAccessFile raf = new RandomAccessFile(f.toFile(), "rw")) {
                raf.seek(at);
                raf.write(to);
            }
            found++;
        }
        if (found != 1) {
            throw new AssertionError("edited " + found + " places, expected exactly one");
        }
    }

    /** The first index of {@code needle} in {@code hay} at or after {@code from}, or -1. */
    public static int indexOf(byte[] hay, byte[] needle, int from) {
        outer:
        for (int i = from; i <= hay.length - needle.length; i++) {
            for (int j = 0; j < needle.length; j++) {
                if (hay[i + j] != needle[j]) {
                    continue outer;
                }
            }
            return i;
        }
        return -1;
    }
}
