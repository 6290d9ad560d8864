package io.tollgate.bench.sync;

import io.tollgate.cloud.BillingOptions;
import io.tollgate.cloud.BillingService;
import io.tollgate.cloud.CloudKey;
import io.tollgate.cloud.ledger.DeviceInfo;
import io.tollgate.cloud.mqtt.UsageConsumer;
import io.tollgate.metering.DeviceIdentity;
import io.tollgate.metering.UsageEvent;
import io.tollgate.metering.UsageJournal;
import io.tollgate.metering.testing.TestJournal;
import io.tollgate.sync.SyncStatus;
import io.tollgate.sync.testing.TestUplink;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadInfo;
import java.lang.management.ThreadMXBean;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.UUID;
import java.util.stream.Stream;

/**
 * A usage backlog drained from the device's journal to the cloud ledger over a real mosquitto on loopback.
 *
 * <p>Per run: (1) a fresh Chronicle usage journal (sync NONE, production seal cadence: every 256 records / 1 s)
 * is filled with N realistic usage records while sync is off; (2) mosquitto on a free loopback port and the billing
 * endpoint in process ({@link BillingService}: H2 file ledger by default, or a fresh PostgreSQL database) start and
 * the device is registered; (3) the MQTT uplink (plain Java, the given options on top of the
 * production defaults) starts and the clock runs until the ledger's verified head for the device reaches the
 * journal's last seq ("stored") and until the device has persisted the cloud's ack of it ("acked"). Per-thread CPU
 * time of this JVM and mosquitto's CPU time over the drain say where the time goes.
 *
 * <p>The device's parts are the real ones, assembled by the fixtures metering and sync publish in their test-jars
 * ({@link TestJournal#production}, {@link TestUplink}), so this benchmark imports no module's private package.
 *
 * <pre>java ${chronicle.opens} -cp 'target/classes:target/lib/*' io.tollgate.bench.sync.SyncDrainBench
 *     [--records 1000000] [--runs 3] [--db h2|postgres] [--pg-params k=v&k=v] [--set key=value ...]</pre>
 * {@code --set} passes sync configuration keys (PID io.tollgate.sync), e.g. {@code --set max.records=5000}.
 */
public final class SyncDrainBench {
    private static final String PG_ADMIN = "jdbc:postgresql://127.0.0.1:5432/postgres?user=postgres";

    private long records = 1_000_000;
    private int runs = 3;
    private String db = "h2";
    private String pgParams = "";
    private final Map<String, Object> sync = new LinkedHashMap<>();

    public static void main(String[] args) throws Exception {
        SyncDrainBench bench = new SyncDrainBench();
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--records" -> bench.records = Long.parseLong(args[++i]);
                case "--runs" -> bench.runs = Integer.parseInt(args[++i]);
                case "--db" -> bench.db = args[++i];
                case "--pg-params" -> bench.pgParams = "&" + args[++i];
                case "--set" -> {
                    String[] kv = args[++i].split("=", 2);
                    bench.sync.put(kv[0], parse(kv[1]));
                }
                default -> {
                    System.err.println("unknown argument " + args[i]
                            + "; usage: [--records N] [--runs N] [--db h2|postgres] [--pg-params k=v&k=v] [--set sync.key=value ...]");
                    System.exit(2);
                }
            }
        }
        if (!bench.db.equals("h2") && !bench.db.equals("postgres")) {
            System.err.println("--db must be h2 or postgres, not " + bench.db);
            System.exit(2);
        }
        bench.run();
    }

    private static Object parse(String v) {
        try {
            return Long.parseLong(v);
        } catch (NumberFormatException e) {
            return v;
        }
    }

    private void run() throws Exception {
        System.out.printf(Locale.ROOT, "sync drain: %,d records, %d runs, ledger %s%s, sync options %s, %d CPUs, "
                        + "load average %.2f, JDK %s%n", records, runs, db, pgParams, sync,
                Runtime.getRuntime().availableProcessors(),
                ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage(), System.getProperty("java.version"));
        List<Result> results = new ArrayList<>();
        for (int r = 1; r <= runs; r++) {
            Result res = once(r);
            results.add(res);
            System.out.println(res.line(r));
        }
        System.out.println();
        System.out.println("| run | records (incl. seals) | fill rec/s | drain to stored, s | records/s stored | "
                + "to acked, s | records/s acked | bytes/record | batches | records/batch | dup | load avg |");
        System.out.println("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
        for (int i = 0; i < results.size(); i++) {
            System.out.println(results.get(i).row(String.valueOf(i + 1)));
        }
        System.out.println(median(results).row("**median**"));
    }

    private Result once(int runNo) throws Exception {
        Path dir = Files.createTempDirectory("sync-drain");
        String pgDb = null;
        try {
            Result res = new Result();
            try (TestJournal device = TestJournal.production(dir).syncMode("NONE").diskBudgetBytes(8L << 30).open()) {
                DeviceIdentity key = device.device();
                UsageJournal journal = device.journal();
                // (1) the backlog, written while sync is off
                Random random = new Random(runNo);
                long t0 = System.nanoTime();
                for (long i = 0; i < records; i++) {
                    journal.append(event(random, i));
                }
                res.fillPerSec = records / ((System.nanoTime() - t0) / 1e9);
                long last = settledLastSeq(journal);
                res.records = last;
                // the journal ends with a seal of the record before it; the cloud bills and acks only sealed records,
                // and that last seal waits for a later one (docs/billing.md)
                long sealed = last - 1;

                // (2) broker and billing endpoint
                try (Mosquitto broker = new Mosquitto(dir.resolve("broker"))) {
                    BillingOptions opts = BillingOptions.defaults(dir.resolve("cloud")).withMqtt(broker.url())
                            .withHttp("127.0.0.1", -1);
                    if (db.equals("postgres")) {
                        pgDb = "tollgate_bench_" + UUID.randomUUID().toString().replace("-", "").substring(0, 12);
                        admin("CREATE DATABASE " + pgDb);
                        opts = opts.withJdbcUrl("jdbc:postgresql://127.0.0.1:5432/" + pgDb + "?user=postgres" + pgParams);
                    }
                    try (BillingService billing = BillingService.start(opts)) {
                        billing.ledger().registerDevice(key.deviceId(), key.publicKeyPem(), java.util.Set.of(TENANTS));

                        // (3) the drain
                        Map<String, Object> cfg = new HashMap<>(sync);
                        cfg.put("broker.url", broker.url());
                        cfg.put("directory", dir.resolve("sync").toString());
                        // acks are always verified: the key the billing service made in its data folder
                        cfg.put("cloud.public.key.file", CloudKey.folder(dir.resolve("cloud")).resolve(CloudKey.PUB_FILE)
                                .toString());
                        ThreadMXBean threads = ManagementFactory.getThreadMXBean();
                        Map<String, Long> cpuBefore = threadCpu(threads);
                        long brokerCpuBefore = broker.cpuMillis();
                        long start = System.nanoTime();
                        try (TestUplink uplink = TestUplink.start(journal, key, cfg)) {
                            long storedAt = 0;
                            long ackedAt = 0;
                            long nextReport = start + 5_000_000_000L;
                            long deadline = start + 1_800_000_000_000L;
                            while (storedAt == 0 || ackedAt == 0) {
                                Thread.sleep(25);
                                long now = System.nanoTime();
                                if (storedAt == 0 && head(billing, key.deviceId()) >= sealed) {
                                    storedAt = now;
                                }
                                if (ackedAt == 0 && uplink.syncStatus().ackedSeq() >= sealed) {
                                    ackedAt = now;
                                }
                                if (now > nextReport) {
                                    SyncStatus s = uplink.syncStatus();
                                    System.out.printf(Locale.ROOT, "  %5.1f s: sent %,d records in %,d batches, "
                                                    + "ledger head %,d, acked %,d%n", (now - start) / 1e9,
                                            s.recordsSent(), s.batchesSent(), head(billing, key.deviceId()),
                                            s.ackedSeq());
                                    nextReport += 5_000_000_000L;
                                }
                                if (now > deadline) {
                                    throw new IllegalStateException("no full drain within 30 minutes: "
                                            + uplink.syncStatus());
                                }
                            }
                            res.storedS = (storedAt - start) / 1e9;
                            res.ackedS = (ackedAt - start) / 1e9;
                            SyncStatus s = uplink.syncStatus();
                            res.bytesSent = s.bytesSent();
                            res.recordsSent = s.recordsSent();
                            res.batches = s.batchesSent();
                            UsageConsumer.Stats cs = billing.consumer().stats();
                            res.duplicates = cs.duplicates.get();
                            res.cloudBatches = cs.batches.get();
                            res.brokerCpuS = (broker.cpuMillis() - brokerCpuBefore) / 1000.0;
                            res.cpu = cpuDelta(cpuBefore, threadCpu(threads));
                            res.load = ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage();
                            DeviceInfo d = billing.ledger().device(key.deviceId()).orElseThrow();
                            if (d.brokenAtSeq() != 0 || billing.ledger().quarantineCount(key.deviceId()) != 0) {
                                throw new IllegalStateException("the ledger quarantined records: " + d);
                            }
                        }
                    }
                }
            }
            return res;
        } finally {
            if (pgDb != null) {
                admin("DROP DATABASE IF EXISTS " + pgDb + " WITH (FORCE)");
            }
            try (Stream<Path> files = Files.walk(dir)) {
                files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
    }

    private static long head(BillingService billing, String device) throws Exception {
        return billing.ledger().device(device).map(DeviceInfo::headSeq).orElse(0L);
    }

    private static void admin(String sql) throws SQLException {
        try (Connection c = DriverManager.getConnection(PG_ADMIN); Statement s = c.createStatement()) {
            s.execute(sql);
        }
    }

    private static final String[] TENANTS = {"acme", "mueller-gmbh", "northwind", "globex-industrial"};
    private static final String[] MODELS = {"fashion-mnist", "ppocr-det", "minilm-l6"};

    /** As in the sync tests: a few tenants and models, random request ids, varying quantity and compute time. */
    private static UsageEvent event(Random random, long i) {
        String model = MODELS[i % 7 == 0 ? 1 : i % 11 == 0 ? 2 : 0];
        return new UsageEvent(TENANTS[random.nextInt(10) < 7 ? 0 : 1 + random.nextInt(3)], model, "1.0.0",
                "io.tollgate.plugin." + model, "1.0.0", "", "inference", 1 + random.nextInt(8),
                200_000L + random.nextInt(3_000_000), "cpu", new UUID(random.nextLong(), random.nextLong()).toString(),
                "OK");
    }

    /** The sealer writes a seal shortly after the last append, on its own thread: wait for a quiet head. */
    private static long settledLastSeq(UsageJournal journal) throws InterruptedException {
        long last = journal.status().lastSeq();
        while (true) {
            Thread.sleep(1500);
            long now = journal.status().lastSeq();
            if (now == last) {
                return now;
            }
            last = now;
        }
    }

    /** CPU time per thread group (thread name with digits and client ids folded), in ns. */
    private static Map<String, Long> threadCpu(ThreadMXBean threads) {
        Map<String, Long> out = new HashMap<>();
        for (long id : threads.getAllThreadIds()) {
            ThreadInfo info = threads.getThreadInfo(id);
            long cpu = threads.getThreadCpuTime(id);
            if (info != null && cpu > 0) {
                out.merge(id + "\t" + group(info.getThreadName()), cpu, Long::sum);
            }
        }
        return out;
    }

    private static String group(String name) {
        if (name.startsWith("MQTT Call: tollgate-billing")) {
            return "billing: Paho callback (decode, verify, ledger insert)";
        }
        if (name.startsWith("MQTT") && name.contains("tollgate-billing")) {
            return "billing: Paho I/O";
        }
        if (name.startsWith("MQTT")) {
            return "device: Paho I/O";
        }
        if (name.startsWith("tollgate-sync")) {
            return "device: sync sender (read, encode, deflate)";
        }
        if (name.startsWith("tollgate-billing")) {
            return "billing: ack publisher";
        }
        if (name.startsWith("H2") || name.startsWith("MVStore") || name.contains("h2")) {
            return "ledger: H2 background";
        }
        if (name.startsWith("tollgate-usage")) {
            return "device: journal sealer/pretoucher";
        }
        if (name.startsWith("GC") || name.startsWith("G1") || name.contains("Compiler")) {
            return "JVM: GC + JIT";
        }
        if (name.equals("main")) {
            return "bench: main (polling)";
        }
        return "other: " + name.replaceAll("[0-9]+", "N");
    }

    private static Map<String, Double> cpuDelta(Map<String, Long> before, Map<String, Long> after) {
        Map<String, Double> out = new HashMap<>();
        after.forEach((k, v) -> {
            long d = v - before.getOrDefault(k, 0L);
            if (d > 0) {
                out.merge(k.substring(k.indexOf('\t') + 1), d / 1e9, Double::sum);
            }
        });
        return out;
    }

    private static Result median(List<Result> rs) {
        Result m = new Result();
        m.records = medL(rs, r -> r.records);
        m.fillPerSec = med(rs, r -> r.fillPerSec);
        m.storedS = med(rs, r -> r.storedS);
        m.ackedS = med(rs, r -> r.ackedS);
        m.bytesSent = medL(rs, r -> r.bytesSent);
        m.recordsSent = medL(rs, r -> r.recordsSent);
        m.batches = medL(rs, r -> r.batches);
        m.duplicates = medL(rs, r -> r.duplicates);
        m.load = med(rs, r -> r.load);
        m.rateStored = med(rs, Result::storedRate);
        m.rateAcked = med(rs, Result::ackedRate);
        m.bpr = med(rs, Result::bytesPerRecord);
        m.rpb = med(rs, Result::recordsPerBatch);
        return m;
    }

    private static long medL(List<Result> rs, java.util.function.ToLongFunction<Result> f) {
        long[] v = rs.stream().mapToLong(f).sorted().toArray();
        return v[v.length / 2];
    }

    private static double med(List<Result> rs, java.util.function.ToDoubleFunction<Result> f) {
        double[] v = rs.stream().mapToDouble(f).sorted().toArray();
        return v[v.length / 2];
    }

    private static final class Result {
        long records;
        double fillPerSec;
        double storedS;
        double ackedS;
        long bytesSent;
        long recordsSent;
        long batches;
        long cloudBatches;
        long duplicates;
        double brokerCpuS;
        double load;
        Map<String, Double> cpu = Map.of();
        // set only on the median row
        double rateStored = Double.NaN;
        double rateAcked = Double.NaN;
        double bpr = Double.NaN;
        double rpb = Double.NaN;

        double storedRate() {
            return Double.isNaN(rateStored) ? records / storedS : rateStored;
        }

        double ackedRate() {
            return Double.isNaN(rateAcked) ? records / ackedS : rateAcked;
        }

        double bytesPerRecord() {
            return Double.isNaN(bpr) ? (double) bytesSent / recordsSent : bpr;
        }

        double recordsPerBatch() {
            return Double.isNaN(rpb) ? (double) recordsSent / batches : rpb;
        }

        String row(String label) {
            return String.format(Locale.ROOT, "| %s | %,d | %,.0f | %.2f | %,.0f | %.2f | %,.0f | %.1f | %,d | %.0f | %,d "
                            + "| %.2f |", label, records, fillPerSec, storedS, storedRate(), ackedS, ackedRate(),
                    bytesPerRecord(), batches, recordsPerBatch(), duplicates, load);
        }

        String line(int run) {
            StringBuilder b = new StringBuilder(String.format(Locale.ROOT,
                    "run %d: %,d records (fill %,.0f/s); stored in %.2f s = %,.0f records/s; acked in %.2f s = %,.0f "
                            + "records/s; %,d bytes / %,d records sent = %.1f bytes/record; %,d batches "
                            + "(cloud saw %,d), %,d duplicates; load average %.2f%n  CPU during the drain "
                            + "(s of %.2f s wall, 2 cores = %.2f core-s): mosquitto %.2f",
                    run, records, fillPerSec, storedS, storedRate(), ackedS, ackedRate(), bytesSent, recordsSent,
                    bytesPerRecord(), batches, cloudBatches, duplicates, load, ackedS,
                    2 * ackedS, brokerCpuS));
            cpu.entrySet().stream().sorted(Map.Entry.<String, Double>comparingByValue().reversed())
                    .filter(e -> e.getValue() >= 0.05)
                    .forEach(e -> b.append(String.format(Locale.ROOT, "; %s %.2f", e.getKey(), e.getValue())));
            return b.toString();
        }
    }
}
