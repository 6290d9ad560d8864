package io.tollgate.it;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.File;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * The built distribution ({@code runtime/target/tollgate}) driven the way an operator drives it:
 * {@code bin/tollgate run ...} as a child process, {@code bin/tollgate usage ...} for the journal.
 * Every process it starts is tracked so a test's {@code @After} can kill whatever is left.
 */
final class ApplianceProcess {
    private final Path dist = TollgateExam.dist();
    /**
     * {@code TOLLGATE_JAVA_OPTS} of every process this class starts: a 512 MB heap, and the client compiler only
     * ({@code -XX:TieredStopAtLevel=1}): a test's appliance lives seconds, and C2's compilations of the start path cost
     * more CPU than they win back (start to ready measured 2026-12-01 on a fresh data folder: 10.5 s of CPU with C2,
     * 4.8 s without; ready in 20-24 s vs 6-8 s at machine load ~11). A test that sets its own options starts from these.
     */
    static final String JAVA_OPTS = "-Xmx512m -XX:TieredStopAtLevel=1";
    /** Every appliance ({@code run}) any instance started in this JVM: {@link #anyApplianceAlive()}. */
    private static final List<Process> APPLIANCES = new java.util.concurrent.CopyOnWriteArrayList<>();
    private final List<Process> started = new ArrayList<>();
    private final Path log;
    private Path workingDirectory;
    private boolean classDataSharing;

    /** @param log file that collects the output of every process started (appended) */
    ApplianceProcess(Path log) {
        this.log = log;
        if (!Files.isExecutable(dist.resolve("bin/tollgate"))) {
            throw new IllegalStateException("no distribution at " + dist + "; run 'mvn -q -B install -DskipTests' first");
        }
    }

    Path dist() {
        return dist;
    }

    /**
     * Runs the appliances this object starts from now on in {@code dir} (default: the test's own working directory),
     * e.g. the folder that holds their data folder, as an operator who starts {@code bin/tollgate} from its home.
     */
    ApplianceProcess workingDirectory(Path dir) {
        this.workingDirectory = dir;
        return this;
    }

    /**
     * Lets the appliances this object starts from now on write and map bin/tollgate's class data sharing archive
     * ({@code DATA/cds}, the product default). Off otherwise ({@code TOLLGATE_CDS=off}): each test starts on a fresh
     * data folder, where the archive is never mapped but only made, and making it cost every start ~3-6 s of CPU
     * (slower start under {@code -XX:ArchiveClassesAtExit}, and the dump at exit; measured 2026-12-01, decision
     * "ITs run without class data sharing"). A test of the operator's own flow turns it on.
     */
    ApplianceProcess classDataSharing(boolean on) {
        this.classDataSharing = on;
        return this;
    }

    /**
     * True while an appliance started by any {@code ApplianceProcess} of this JVM is alive: only a running appliance
     * reads a new license late ({@link TestVendor#awaitLicensesRead()}); one that starts reads the folder at once.
     */
    static boolean anyApplianceAlive() {
        return APPLIANCES.stream().anyMatch(Process::isAlive);
    }

    /** Copies the distribution's example plugin into {@code pluginsDir}. */
    void copyExamplePlugin(Path pluginsDir) throws IOException {
        Files.createDirectories(pluginsDir);
        Files.copy(dist.resolve("plugins/fashion-mnist-1.0.0.jar"), pluginsDir.resolve("fashion-mnist-1.0.0.jar"));
    }

    /** Copies the distribution's {@code conf/} into {@code to} (created), for a test to edit; returns {@code to}. */
    Path copyConf(Path to) throws IOException {
        Files.createDirectories(to);
        try (Stream<Path> files = Files.list(dist.resolve("conf"))) {
            for (Path f : files.toList()) {
                Files.copy(f, to.resolve(f.getFileName()));
            }
        }
        return to;
    }

    /** {@code bin/tollgate run --port P --data D --plugins PL [--conf C]}. */
    Process run(int port, Path data, Path plugins, Path conf) throws IOException {
        return run(port, data, plugins, conf, java.util.Map.of());
    }

    /**
     * {@code bin/tollgate run --port P --data D --plugins PL [--conf C] EXTRA...} (e.g. {@code --mqtt URL},
     * {@code --demo}) with {@code env} added to the environment.
     */
    Process run(int port, Path data, Path plugins, Path conf, java.util.Map<String, String> env, String... extra)
            throws IOException {
        List<String> cmd = new ArrayList<>(List.of(dist.resolve("bin/tollgate").toString(), "run",
                "--port", Integer.toString(port), "--data", data.toString(), "--plugins", plugins.toString()));
        List<String> more = Arrays.asList(extra);
        // Issue 10: plugins install only when signed by a trusted vendor and licensed. The conf trusts the test
        // vendor and the distribution's examples key; the licenses folder holds the example's shipped license and
        // one per plugin the tests signed (TestVendor).
        if (!more.contains("--conf")) {
            // the distribution's own conf/ is never written to: a test that passes it runs on a copy
            boolean distConf = conf != null && conf.toAbsolutePath().normalize()
                    .equals(dist.resolve("conf").toAbsolutePath().normalize());
            Path c = conf != null && !distConf ? conf : copyConf(Files.createTempDirectory("tollgate-it-conf"));
            TestVendor.get().trustIn(c);
            cmd.add("--conf");
            cmd.add(c.toString());
        }
        if (!more.contains("--licenses")) {
            cmd.add("--licenses");
            cmd.add(TestVendor.get().licenses().toString());
        }
        cmd.addAll(more);
        Files.writeString(log, "\n==== " + String.join(" ", cmd) + "\n", StandardCharsets.UTF_8,
                java.nio.file.StandardOpenOption.CREATE, java.nio.file.StandardOpenOption.APPEND);
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
        pb.environment().put("TOLLGATE_JAVA_OPTS", JAVA_OPTS);
        if (!classDataSharing) {
            pb.environment().put("TOLLGATE_CDS", "off");
        }
        pb.environment().putAll(env);
        if (workingDirectory != null) {
            pb.directory(workingDirectory.toFile());
        }
        Process p = pb.start();
        started.add(p);
        APPLIANCES.add(p);
        APPLIANCES.removeIf(a -> !a.isAlive());
        return p;
    }

    /** libfaketime's multi-threaded library (Debian package {@code faketime}): what {@link #fakedClock} preloads. */
    static final Path FAKETIME_LIBRARY = Path.of("/usr/lib/x86_64-linux-gnu/faketime/libfaketimeMT.so.1");

    /**
     * The environment that starts an appliance with its wall clock moved by {@code offset} (libfaketime's syntax:
     * {@code "-1d"}, {@code "+2d"}, {@code "-3h"}), for {@link #run(int, Path, Path, Path, java.util.Map, String...)}.
     * Only the wall clock moves: the monotonic clock (timeouts, Netty, the JVM's scheduling) stays real. The appliance
     * code has no test hook for time: this is the operator's clock being wrong. Skips the calling test (with the
     * reason) when the library is not installed; {@code .ci/run} installs it, so CI never skips.
     *
     * <p>{@code FAKETIME_FORCE_MONOTONIC_FIX=0}: on glibc libfaketime 0.9.10 turns its "monotonic fix" on by itself,
     * and then every timed wait of the JVM ({@code Object.wait(ms)}, {@code LockSupport.parkNanos}: condition
     * variables on the monotonic clock) returns at once: threads spin, a start takes minutes instead of seconds, and
     * Paho's MQTT connect "times out" before it has begun (measured: 20 waits of 50 ms took 0 ms with the fix, 1.1 s
     * without).
     */
    static java.util.Map<String, String> fakedClock(String offset) {
        assumeFaketime();
        return java.util.Map.of("LD_PRELOAD", FAKETIME_LIBRARY.toString(), "FAKETIME", offset,
                "FAKETIME_DONT_FAKE_MONOTONIC", "1", "FAKETIME_FORCE_MONOTONIC_FIX", "0");
    }

    /** Skips the calling test, saying why, when libfaketime is not installed. */
    static void assumeFaketime() {
        org.junit.Assume.assumeTrue("libfaketime is not installed at " + FAKETIME_LIBRARY + " (apt-get install "
                + "faketime; .ci/run installs it): this test moves the appliance's wall clock with it",
                Files.isReadable(FAKETIME_LIBRARY));
    }

    /** Polls /v2/health/ready until 200; fails early (with the log's tail) when the process exits. */
    void awaitReady(Process p, int port, long timeoutMs) throws Exception {
        awaitReady(p, HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build(),
                "http://127.0.0.1:" + port + "/v2/health/ready", timeoutMs);
    }

    /** Polls {@code url} with {@code client} (e.g. one speaking TLS) until 200; fails early when the process exits. */
    void awaitReady(Process p, HttpClient client, String url, long timeoutMs) throws Exception {
        long end = System.currentTimeMillis() + timeoutMs;
        String last = "no answer";
        while (System.currentTimeMillis() < end) {
            if (!p.isAlive()) {
                throw new AssertionError("the appliance exited with " + p.exitValue() + " before it was ready; log:\n"
                        + tail(60));
            }
            try {
                HttpResponse<String> r = client.send(HttpRequest.newBuilder(URI.create(url))
                        .timeout(Duration.ofSeconds(2)).GET().build(), HttpResponse.BodyHandlers.ofString());
                if (r.statusCode() == 200) {
                    return;
                }
                last = r.statusCode() + " " + r.body();
            } catch (IOException e) {
                last = e.toString();
            }
            Thread.sleep(50);
        }
        throw new AssertionError("not ready within " + timeoutMs + " ms (last: " + last + "); log:\n" + tail(60));
    }

    /** SIGTERM (the shutdown hook drains and seals the journal); returns the exit code. */
    int stop(Process p, long timeoutSeconds) throws InterruptedException {
        p.destroy();
        if (!p.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
            // a thread dump (SIGQUIT: the JVM prints it to its stdout, the log) says where the stop hangs
            for (ProcessHandle h : java.util.stream.Stream.concat(java.util.stream.Stream.of(p.toHandle()),
                    p.descendants()).toList()) {
                try {
                    new ProcessBuilder("kill", "-QUIT", Long.toString(h.pid())).start().waitFor(5, TimeUnit.SECONDS);
                } catch (IOException e) {
                    // no kill(1): no dump, the log still says the rest
                }
            }
            Thread.sleep(2_000);
            p.descendants().forEach(ProcessHandle::destroyForcibly);
            p.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            throw new AssertionError("the appliance did not exit within " + timeoutSeconds + " s of SIGTERM (thread "
                    + "dump in " + log + "); log:\n" + tail(60));
        }
        return p.exitValue();
    }

    /** SIGKILL, as kill -9 would: no shutdown hook, no shutdown seal. */
    void kill(Process p) throws InterruptedException {
        p.toHandle().destroyForcibly();
        if (!p.waitFor(30, TimeUnit.SECONDS)) {
            throw new AssertionError("the appliance survived SIGKILL for 30 s");
        }
    }

    /** Kills every process this object started that is still alive, and their children ({@code --demo}). */
    void killAll() {
        for (Process p : started) {
            p.descendants().toList().forEach(ProcessHandle::destroyForcibly);
            if (p.isAlive()) {
                p.toHandle().destroyForcibly();
                try {
                    p.waitFor(10, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
        }
    }

    /** A finished offline command: its exit code and output. */
    record Result(int exit, String out, String err) {
    }

    /** {@code bin/tollgate ARGS} (an offline tool), waiting up to 60 s. */
    Result tool(String... args) throws Exception {
        List<String> cmd = new ArrayList<>();
        cmd.add(dist.resolve("bin/tollgate").toString());
        cmd.addAll(Arrays.asList(args));
        File out = Files.createTempFile("tollgate-tool", ".out").toFile();
        File err = Files.createTempFile("tollgate-tool", ".err").toFile();
        try {
            ProcessBuilder pb = new ProcessBuilder(cmd).redirectOutput(out).redirectError(err);
            pb.environment().put("TOLLGATE_JAVA_OPTS", JAVA_OPTS);
            if (!classDataSharing) {
                pb.environment().put("TOLLGATE_CDS", "off");    // a "run" that exits at once would still dump one
            }
            Process p = pb.start();
            started.add(p);
            if (!p.waitFor(60, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new AssertionError(String.join(" ", cmd) + " did not finish within 60 s");
            }
            return new Result(p.exitValue(), Files.readString(out.toPath()), Files.readString(err.toPath()));
        } finally {
            out.delete();
            err.delete();
        }
    }

    /** {@code bin/tollgate device init}: the device key before the first start; returns the device id. */
    String initDevice(Path data) throws Exception {
        Result r = tool("device", "init", "--data", data.toString());
        if (r.exit() != 0) {
            throw new AssertionError("device init exited " + r.exit() + ": " + r.err());
        }
        String[] lines = r.out().trim().split("\n");
        String id = lines[lines.length - 1].trim();
        if (!id.startsWith("tg-")) {
            throw new AssertionError("device init printed no device id: " + r.out());
        }
        return id;
    }

    /** The usage records of request {@code requestId} in the journal in {@code data} (none for an unbilled one). */
    List<JsonNode> usageOf(Path data, String requestId) throws Exception {
        List<JsonNode> out = new ArrayList<>();
        for (JsonNode r : exportAll(data)) {
            if ("usage".equals(r.path("kind").asText()) && requestId.equals(r.path("request_id").asText())) {
                out.add(r);
            }
        }
        return out;
    }

    /** Every record of the journal in {@code data}, from {@code usage export --format jsonl --all}. */
    List<JsonNode> exportAll(Path data) throws Exception {
        Result r = tool("usage", "export", "--data", data.toString(), "--format", "jsonl", "--all");
        if (r.exit() != 0) {
            throw new AssertionError("usage export exited " + r.exit() + ": " + r.err());
        }
        List<JsonNode> records = new ArrayList<>();
        for (String line : r.out().split("\n")) {
            if (!line.isBlank()) {
                records.add(Http.JSON.readTree(line));
            }
        }
        return records;
    }

    /**
     * What a device's journal still holds: the usage records' hashes by seq, and the first seq on disk. Journal
     * retention deletes whole files once the cloud acknowledged all their records (docs/operations.md, "Journal
     * disk budget"), so after a file boundary (an hourly roll, by default) the journal starts above seq 1 and the
     * ledger holds more than the journal: those records were acknowledged, hence billed, before they were deleted.
     *
     * @param firstSeq   the lowest seq of any record still in the journal (1 while nothing was deleted)
     * @param usage      seq to hash (hex) of every USAGE record still in the journal
     */
    record JournalView(long firstSeq, java.util.Map<Long, String> usage) {
        /** True when a ledger record of {@code seq} is accounted for: in the journal, or deleted after its ack. */
        boolean deletedAfterAck(long seq) {
            return seq < firstSeq;
        }
    }

    /** The journal in {@code data} as {@link JournalView}, from {@link #exportAll}. */
    JournalView journal(Path data) throws Exception {
        java.util.Map<Long, String> usage = new java.util.TreeMap<>();
        long first = Long.MAX_VALUE;
        for (JsonNode r : exportAll(data)) {
            long seq = r.path("seq").asLong();
            first = Math.min(first, seq);
            if ("usage".equals(r.path("kind").asText())) {
                usage.put(seq, r.path("hash").asText());
            }
        }
        return new JournalView(first == Long.MAX_VALUE ? 1 : first, usage);
    }

    /**
     * Waits for the first log line that holds both {@code level} (e.g. {@code " WARN "}, or "") and {@code text};
     * fails after {@code timeoutMs} with the log's tail.
     */
    String awaitLogLine(String level, String text, long timeoutMs) throws Exception {
        long deadline = System.currentTimeMillis() + timeoutMs;
        while (System.currentTimeMillis() < deadline) {
            List<String> lines = Files.readString(log).lines().filter(l -> l.contains(level) && l.contains(text))
                    .collect(java.util.stream.Collectors.toList());
            if (!lines.isEmpty()) {
                return lines.get(0);
            }
            Thread.sleep(200);
        }
        throw new AssertionError("no line with '" + level.trim() + "' names " + text + " within " + timeoutMs
                + " ms; log:\n" + tail(60));
    }

    /** Puts {@code jar} into {@code plugins} at once (a copy beside it, then an atomic move), as an operator should. */
    static void drop(Path jar, Path plugins) throws IOException {
        if (!signed(jar)) {
            TestVendor.get().sign(jar);     // an operator's plugins come signed by their vendor, with a license
        }
        TestVendor.get().awaitLicensesRead();   // the license first, as an operator installs it
        dropAsIs(jar, plugins);
    }

    /** {@link #drop} without signing: the jar goes in as it is (unsigned, tampered...). */
    static void dropAsIs(Path jar, Path plugins) throws IOException {
        Path part = plugins.resolve("." + jar.getFileName() + ".part");
        Files.copy(jar, part, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        Files.move(part, plugins.resolve(jar.getFileName()), java.nio.file.StandardCopyOption.ATOMIC_MOVE);
    }

    /** True when {@code jar} carries a signature file ({@code META-INF/*.SF}); false for a file that is no jar. */
    static boolean signed(Path jar) {
        try (java.util.jar.JarFile f = new java.util.jar.JarFile(jar.toFile(), false)) {
            return f.stream().anyMatch(e -> e.getName().toUpperCase(java.util.Locale.ROOT).startsWith("META-INF/")
                    && e.getName().toUpperCase(java.util.Locale.ROOT).endsWith(".SF"));
        } catch (IOException e) {
            return true;        // not a jar: nothing to sign
        }
    }

    /** The last {@code lines} lines of the process log. */
    String tail(int lines) {
        try {
            List<String> all = Files.readAllLines(log, StandardCharsets.UTF_8);
            return String.join("\n", all.subList(Math.max(0, all.size() - lines), all.size()));
        } catch (IOException e) {
            return "(log unreadable: " + e + ")";
        }
    }

    /**
     * An infer body for fashion-mnist: {@code batch} 28x28 images with every pixel {@code v}, and the request id
     * {@code id} (none when null).
     */
    static String fashionMnistBody(String id, int batch, float v) {
        StringBuilder b = new StringBuilder(batch * 784 * 4 + 200).append('{');
        if (id != null) {
            b.append("\"id\":\"").append(id).append("\",");
        }
        b.append("\"inputs\":[{\"name\":\"image\",\"datatype\":\"FP32\",\"shape\":[")
                .append(batch).append(",1,28,28],\"data\":[");
        String value = Float.toString(v);
        for (int i = 0; i < batch * 784; i++) {
            b.append(i == 0 ? "" : ",").append(value);
        }
        return b.append("]}]}").toString();
    }

    /** Copies every {@code *.log} under {@code from} to {@code keep} (emptied first), for after the test. */
    static void keepLogs(Path from, Path keep) {
        try (Stream<Path> files = Files.walk(from)) {
            deleteTree(keep);
            Files.createDirectories(keep);
            for (Path f : files.filter(f -> f.getFileName().toString().endsWith(".log")).toList()) {
                Files.copy(f, keep.resolve(from.relativize(f).toString().replace('/', '_')));
            }
        } catch (IOException e) {
            System.out.println("could not keep the logs in " + keep + ": " + e);
        }
    }

    static void deleteTree(Path dir) {
        if (dir == null || !Files.exists(dir)) {
            return;
        }
        try (Stream<Path> s = Files.walk(dir)) {
            s.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException e) {
            // best effort: a temp folder
        }
    }
}
