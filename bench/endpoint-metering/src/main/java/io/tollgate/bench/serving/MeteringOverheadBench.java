package io.tollgate.bench.serving;

import io.tollgate.engine.onnx.testing.TestOnnxEngine;
import io.tollgate.metering.JournalStatus;
import io.tollgate.metering.UsageEvent;
import io.tollgate.metering.UsageJournal;
import io.tollgate.metering.UsageRecord;
import io.tollgate.metering.testing.TestJournal;
import io.tollgate.model.Tensor;
import io.tollgate.serving.InferenceRequest;
import io.tollgate.serving.InferenceService;
import io.tollgate.serving.testing.TestServing;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;

/**
 * Serving throughput with metering on (the real Chronicle usage journal, production defaults: BATCH
 * sync, a seal every 256 records or 1 s) versus off (a journal whose append does nothing), on the same
 * model (the distribution's fashion-mnist plugin on the ONNX engine), batch 1, the same number of client
 * threads as serving workers, in process (no HTTP: the endpoint's cost is the same either way and would
 * only dilute the difference).
 *
 * <p>The real components come from the modules' test-jars, assembled as Declarative Services assembles them
 * ({@link TestServing}: the serving component with a plugin jar; {@link TestOnnxEngine}; {@link TestJournal}), so
 * this benchmark imports no module's private package.
 *
 * <p>{@code compare} runs each configuration in its own JVM ("fork"), alternating the two so that drift in
 * the machine's load hits both alike, and reports the median throughput of each and their ratio.
 */
public final class MeteringOverheadBench {
    private static final List<String> JVM_FLAGS = List.of(
            "--add-opens=java.base/java.lang.reflect=ALL-UNNAMED", "--add-exports=java.base/sun.nio.ch=ALL-UNNAMED",
            "--add-exports=java.base/jdk.internal.ref=ALL-UNNAMED", "-Dchronicle.analytics.disable=true",
            "-Dchronicle.announcer.disable=true", "-Dorg.slf4j.simpleLogger.defaultLogLevel=warn", "-Xmx512m");

    private MeteringOverheadBench() {
    }

    public static void main(String[] args) throws Exception {
        if (args.length > 0 && args[0].equals("fork")) {
            fork(args[1], Integer.parseInt(args[2]), Integer.parseInt(args[3]), Integer.parseInt(args[4]),
                    Paths.get(args[5]), Integer.parseInt(args[6]));
            System.exit(0);
        }
        int forks = 5;
        int threads = 2;
        int warmup = 5;
        int measure = 10;
        String plugin = "runtime/target/tollgate/plugins/fashion-mnist-1.0.0.jar";
        String mode = "ab";
        int windowMs = 500;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--mode": mode = args[++i]; break;
                case "--window-ms": windowMs = Integer.parseInt(args[++i]); break;
                case "--forks": forks = Integer.parseInt(args[++i]); break;
                case "--threads": threads = Integer.parseInt(args[++i]); break;
                case "--warmup": warmup = Integer.parseInt(args[++i]); break;
                case "--measure": measure = Integer.parseInt(args[++i]); break;
                case "--plugin": plugin = args[++i]; break;
                default:
                    System.err.println("usage: java -jar endpoint-metering-bench.jar [--mode ab|forks] [--forks 5]"
                            + " [--threads 2] [--warmup 5] [--measure 10] [--window-ms 500]"
                            + " [--plugin runtime/target/tollgate/plugins/fashion-mnist-1.0.0.jar]");
                    System.exit(2);
            }
        }
        Path pluginJar = Paths.get(plugin).toAbsolutePath();
        if (mode.equals("ab")) {
            compareInterleaved(forks, threads, warmup, measure, windowMs, pluginJar);
        } else {
            compare(forks, threads, warmup, measure, pluginJar);
        }
    }

    /**
     * Both journals in each JVM: one service, one model, the same threads; a switch flips between the no-op and
     * the Chronicle journal every window (order randomised per pair), so machine noise hits both alike.
     */
    private static void compareInterleaved(int forks, int threads, int warmup, int measure, int windowMs, Path plugin)
            throws Exception {
        System.out.printf("A/B in one JVM: fashion-mnist batch 1, %d client threads = %d serving workers, ONNX intra/inter"
                + " op threads 1, %d s warm-up, %d s measured per fork in %d ms windows alternating no-op / Chronicle"
                + " journal, %d forks%n", threads, threads, warmup, measure, windowMs, forks);
        List<Double> off = new ArrayList<>();
        List<Double> on = new ArrayList<>();
        List<Double> ratios = new ArrayList<>();
        for (int f = 0; f < forks; f++) {
            String[] r = runForkLine("ab", threads, warmup, measure, plugin, Integer.toString(windowMs)).split(" ");
            double noop = Double.parseDouble(r[2]);
            double chronicle = Double.parseDouble(r[3]);
            off.add(noop);
            on.add(chronicle);
            ratios.add(chronicle / noop);
            System.out.printf("fork %d: no-op %.1f/s, chronicle %.1f/s (median per window), ratio %.4f; %s%n", f + 1,
                    noop, chronicle, chronicle / noop, String.join(" ", Arrays.copyOfRange(r, 4, r.length)));
        }
        System.out.printf("median no-op journal:      %.1f inferences/s  %s%n", median(off), off);
        System.out.printf("median Chronicle journal:  %.1f inferences/s  %s%n", median(on), on);
        System.out.printf("ratio (on/off): median of fork ratios %.4f, ratio of medians %.4f; fork ratios %s%n",
                median(ratios), median(on) / median(off), ratios);
    }

    private static void compare(int forks, int threads, int warmup, int measure, Path plugin) throws Exception {
        System.out.printf("fashion-mnist batch 1, %d client threads = %d serving workers, ONNX intra/inter op threads 1,"
                + " %d s warm-up + %d s measured per fork, %d forks per configuration, alternating%n",
                threads, threads, warmup, measure, forks);
        List<Double> off = new ArrayList<>();
        List<Double> on = new ArrayList<>();
        List<Double> pairRatios = new ArrayList<>();
        for (int f = 0; f < forks; f++) {
            String first = f % 2 == 0 ? "noop" : "chronicle";
            String second = f % 2 == 0 ? "chronicle" : "noop";
            double a = runFork(first, threads, warmup, measure, plugin);
            double b = runFork(second, threads, warmup, measure, plugin);
            double noop = first.equals("noop") ? a : b;
            double chronicle = first.equals("noop") ? b : a;
            off.add(noop);
            on.add(chronicle);
            pairRatios.add(chronicle / noop);
            System.out.printf("pair %d: no-op %.1f/s, chronicle %.1f/s, ratio %.4f%n", f + 1, noop, chronicle,
                    chronicle / noop);
        }
        double mOff = median(off);
        double mOn = median(on);
        System.out.printf("median no-op journal:      %.1f inferences/s  %s%n", mOff, off);
        System.out.printf("median Chronicle journal:  %.1f inferences/s  %s%n", mOn, on);
        System.out.printf("ratio of medians (on/off): %.4f; median of pair ratios: %.4f; pair ratios %s%n",
                mOn / mOff, median(pairRatios), pairRatios);
    }

    private static double median(List<Double> values) {
        double[] v = values.stream().mapToDouble(Double::doubleValue).sorted().toArray();
        return v.length % 2 == 1 ? v[v.length / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
    }

    private static double runFork(String journal, int threads, int warmup, int measure, Path plugin) throws Exception {
        return Double.parseDouble(runForkLine(journal, threads, warmup, measure, plugin, "0").split(" ")[2]);
    }

    /** Runs one fork and returns its RESULT line. */
    private static String runForkLine(String journal, int threads, int warmup, int measure, Path plugin,
                                      String windowMs) throws Exception {
        List<String> cmd = new ArrayList<>();
        cmd.add(Paths.get(System.getProperty("java.home"), "bin", "java").toString());
        cmd.addAll(JVM_FLAGS);
        cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), MeteringOverheadBench.class.getName(), "fork",
                journal, Integer.toString(threads), Integer.toString(warmup), Integer.toString(measure),
                plugin.toString(), windowMs));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String result = null;
        StringBuilder all = new StringBuilder();
        try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
            String line;
            while ((line = r.readLine()) != null) {
                all.append(line).append('\n');
                if (line.startsWith("RESULT ")) {
                    result = line;
                }
            }
        }
        if (p.waitFor() != 0 || result == null) {
            throw new IllegalStateException("fork " + journal + " failed (exit " + p.exitValue() + "):\n" + all);
        }
        return result;
    }

    // ---- one fork ------------------------------------------------------------------------------

    private static void fork(String journalKind, int threads, int warmupS, int measureS, Path pluginJar, int windowMs)
            throws Exception {
        Path dir = Files.createTempDirectory("tollgate-bench-journal");
        UsageJournal journal;
        TestJournal chronicle = null;
        if (journalKind.startsWith("chronicle")) {
            TestJournal.Builder options = TestJournal.production(dir);   // a fresh key in dir/device
            if (journalKind.equals("chronicle-sync-none")) {       // diagnosis: no fsync after seals
                options.syncMode("NONE");
            }
            chronicle = options.open();
            journal = chronicle.journal();
        } else if (journalKind.equals("noop")) {
            journal = new NoopJournal();
        } else if (journalKind.equals("ab")) {
            // production defaults unless the environment asks otherwise (to find where the cost is)
            TestJournal.Builder options = TestJournal.production(dir);
            String sync = System.getenv("BENCH_SYNC");
            if (sync != null) {
                options.syncMode(sync);
            }
            String sealEvery = System.getenv("BENCH_SEAL_EVERY_RECORDS");
            if (sealEvery != null) {
                options.seals(Integer.parseInt(sealEvery), 1000);    // seal.every.ms stays at its default
            }
            chronicle = options.open();
            journal = new SwitchingJournal(new NoopJournal(), chronicle.journal());
        } else {
            throw new IllegalArgumentException("journal must be noop or chronicle, not " + journalKind);
        }
        TestServing serving = TestServing.start(journal, TestOnnxEngine.create(Map.of("intra.op.threads", "1",
                "inter.op.threads", "1")), threads, 1024, 5_000);
        try {
            String model = serving.startPlugin(pluginJar, TimeUnit.SECONDS.toMillis(60));
            InferenceService service = serving.inference();
            AtomicLong counted = new AtomicLong();
            PHASE.set(0);
            List<Thread> clients = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                int thread = t;
                Thread c = new Thread(() -> client(service, model, thread, counted), "bench-client-" + t);
                clients.add(c);
                c.start();
            }
            if (journal instanceof SwitchingJournal ab) {
                // warm both paths up, then alternate windows: no-op/Chronicle or Chronicle/no-op per pair at random
                long warmEnd = System.nanoTime() + TimeUnit.SECONDS.toNanos(warmupS);
                while (System.nanoTime() < warmEnd) {
                    ab.useSecond(!ab.usingSecond());
                    Thread.sleep(windowMs);
                }
                PHASE.set(1);
                Random order = new Random();
                List<Double> off = new ArrayList<>();
                List<Double> on = new ArrayList<>();
                int pairs = Math.max(1, measureS * 1000 / (2 * windowMs));
                for (int i = 0; i < pairs; i++) {
                    boolean chronicleFirst = order.nextBoolean();
                    for (int k = 0; k < 2; k++) {
                        boolean useChronicle = (k == 0) == chronicleFirst;
                        ab.useSecond(useChronicle);
                        Thread.sleep(20);                   // let requests of the previous window finish
                        long c0 = counted.get();
                        long t0 = System.nanoTime();
                        Thread.sleep(windowMs);
                        double rate = (counted.get() - c0) / ((System.nanoTime() - t0) / 1e9);
                        (useChronicle ? on : off).add(rate);
                    }
                }
                PHASE.set(2);
                for (Thread c : clients) {
                    c.join(30_000);
                }
                System.out.printf("RESULT ab %.1f %.1f windows=%d mean-off=%.1f mean-on=%.1f %s %s%n", median(off),
                        median(on), pairs, off.stream().mapToDouble(Double::doubleValue).average().orElse(0),
                        on.stream().mapToDouble(Double::doubleValue).average().orElse(0), ab.appendCost(),
                        describe(chronicle.journal().status()));
                return;
            }
            Thread.sleep(TimeUnit.SECONDS.toMillis(warmupS));
            long start = System.nanoTime();
            PHASE.set(1);                    // measuring
            Thread.sleep(TimeUnit.SECONDS.toMillis(measureS));
            PHASE.set(2);                    // stop
            long measuredNanos = System.nanoTime() - start;
            for (Thread c : clients) {
                c.join(30_000);
            }
            double perSecond = counted.get() / (measuredNanos / 1e9);
            String journalState = chronicle == null ? "no-op" : describe(chronicle.journal().status());
            System.out.printf("RESULT %s %.1f %d %s%n", journalKind, perSecond, counted.get(), journalState);
        } finally {
            serving.close();
            if (chronicle != null) {
                chronicle.close();
            }
            try (Stream<Path> s = Files.walk(dir)) {
                s.sorted(Comparator.reverseOrder()).forEach(x -> x.toFile().delete());
            }
        }
    }

    /** 0 warming up, 1 measuring, 2 stop. */
    private static final AtomicLong PHASE = new AtomicLong();

    private static void client(InferenceService service, String model, int thread, AtomicLong counted) {
        Random r = new Random(thread);
        float[] image = new float[784];
        for (int i = 0; i < image.length; i++) {
            image[i] = r.nextFloat();
        }
        List<Tensor> inputs = List.of(Tensor.ofFloats("image", new long[] {1, 1, 28, 28}, image));
        long n = 0;
        long phase;
        while ((phase = PHASE.get()) < 2) {
            InferenceRequest request = new InferenceRequest(model, null, "bench-" + thread + "-" + n++, inputs, List.of(),
                    "bench", null);
            try {
                service.infer(request).toCompletableFuture().get(30, TimeUnit.SECONDS);
            } catch (Exception e) {
                throw new IllegalStateException("request failed", e);
            }
            if (phase == 1 && PHASE.get() == 1) {
                counted.incrementAndGet();
            }
        }
    }

    private static String describe(JournalStatus s) {
        return "journal(lastSeq=" + s.lastSeq() + ",sealed=" + s.lastSealedSeq() + ",bytes=" + s.diskUsedBytes() + ")";
    }

    /** Delegates to one of two journals; flipped between measurement windows. */
    static final class SwitchingJournal implements UsageJournal {
        private final UsageJournal first;
        private final UsageJournal second;
        private volatile boolean useSecond;

        SwitchingJournal(UsageJournal first, UsageJournal second) {
            this.first = first;
            this.second = second;
        }

        void useSecond(boolean value) {
            useSecond = value;
        }

        boolean usingSecond() {
            return useSecond;
        }

        /** Time spent in append, per journal: [0] first, [1] second (for the report: where the difference goes). */
        final java.util.concurrent.atomic.LongAdder[] nanos = {new java.util.concurrent.atomic.LongAdder(),
                new java.util.concurrent.atomic.LongAdder()};
        final java.util.concurrent.atomic.LongAdder[] calls = {new java.util.concurrent.atomic.LongAdder(),
                new java.util.concurrent.atomic.LongAdder()};
        /** Appends that took more than 50 us, and their time. */
        final java.util.concurrent.atomic.LongAdder[] slow = {new java.util.concurrent.atomic.LongAdder(),
                new java.util.concurrent.atomic.LongAdder()};
        final java.util.concurrent.atomic.LongAdder[] slowNanos = {new java.util.concurrent.atomic.LongAdder(),
                new java.util.concurrent.atomic.LongAdder()};

        @Override
        public long append(UsageEvent event) throws io.tollgate.metering.MeteringException {
            int i = useSecond ? 1 : 0;
            long t0 = System.nanoTime();
            try {
                return (i == 1 ? second : first).append(event);
            } finally {
                long d = System.nanoTime() - t0;
                nanos[i].add(d);
                calls[i].increment();
                if (d > 50_000) {
                    slow[i].increment();
                    slowNanos[i].add(d);
                }
            }
        }

        String appendCost() {
            return String.format("append-mean-ns-off=%.0f append-mean-ns-on=%.0f on-appends-over-50us=%.2f%%"
                            + " (mean %.0f us, %.0f%% of the time in append)",
                    nanos[0].sum() / (double) Math.max(1, calls[0].sum()), nanos[1].sum() / (double) Math.max(1, calls[1].sum()),
                    100.0 * slow[1].sum() / Math.max(1, calls[1].sum()),
                    slowNanos[1].sum() / 1000.0 / Math.max(1, slow[1].sum()),
                    100.0 * slowNanos[1].sum() / Math.max(1, nanos[1].sum()));
        }

        @Override
        public JournalStatus status() {
            return second.status();
        }

        @Override
        public void releaseUpTo(long s) {
        }

        @Override
        public List<UsageRecord> readFrom(long fromSeq, int max) {
            return List.of();
        }
    }

    /** Metering off: the append does nothing but hand out a number. */
    static final class NoopJournal implements UsageJournal {
        private final AtomicLong seq = new AtomicLong();

        @Override
        public long append(UsageEvent event) {
            return seq.incrementAndGet();
        }

        @Override
        public JournalStatus status() {
            return new JournalStatus("noop", 0, seq.get(), 0, 0, 0, Long.MAX_VALUE, false, false, false);
        }

        @Override
        public void releaseUpTo(long s) {
        }

        @Override
        public List<UsageRecord> readFrom(long fromSeq, int max) {
            return List.of();
        }
    }
}
