package io.tollgate.bench.metering;

import io.tollgate.metering.MeteringException;
import io.tollgate.metering.UsageEvent;
import io.tollgate.metering.UsageJournal;
import io.tollgate.metering.testing.TestJournal;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The usage journal's append, on the real Chronicle journal with each sync mode, opened through metering's test-jar
 * fixture ({@link TestJournal#production}: the component's defaults, the sync mode and budget changed), so that this
 * benchmark imports nothing private of the metering bundle.
 *
 * <p>One {@code UsageJournal.append}: encode, SHA-256, Chronicle write (and, per sync mode, nothing, a
 * background fsync per seal, or an msync per record). Run with
 * {@code java -jar target/metering-benchmarks.jar -t 1} (or {@code -t 4} for contention), and
 * {@code -bm sample} for percentiles. Targets: &gt;= 500k appends/s on one thread, p99 &lt;= 5 us.
 */
@State(Scope.Benchmark)
@BenchmarkMode({Mode.Throughput})
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = {"--add-opens=java.base/java.lang.reflect=ALL-UNNAMED",
        "--add-exports=java.base/sun.nio.ch=ALL-UNNAMED", "--add-exports=java.base/jdk.internal.ref=ALL-UNNAMED",
        "-Dchronicle.analytics.disable=true", "-Dchronicle.announcer.disable=true"})
public class AppendBenchmark {
    @Param({"NONE", "BATCH"})
    public String sync;

    private Path dir;
    private TestJournal device;
    private UsageJournal journal;
    private final UsageEvent event = new UsageEvent("acme", "fashion-mnist", "1.0.0",
            "io.tollgate.plugin.fashion-mnist", "1.0.0", "", "inference", 4, 1_250_000, "cpu", "req-000000000001", "OK");

    @Setup(Level.Trial)
    public void open() throws IOException {
        dir = Files.createTempDirectory("metering-jmh");
        // a budget large enough for a long run: ~210 bytes per record
        device = TestJournal.production(dir).key(new byte[32], "bench").syncMode(sync).diskBudgetBytes(64L << 30)
                .open();
        journal = device.journal();
    }

    @TearDown(Level.Trial)
    public void close() throws IOException {
        device.close();
        try (Stream<Path> files = Files.walk(dir)) {
            files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
    }

    @Benchmark
    public long append() throws MeteringException {
        return journal.append(event);
    }
}
