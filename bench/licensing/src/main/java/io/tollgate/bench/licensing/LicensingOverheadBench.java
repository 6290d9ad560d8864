package io.tollgate.bench.licensing;

import io.tollgate.engine.onnx.testing.TestOnnxEngine;
import io.tollgate.guard.LicenseStore;
import io.tollgate.licensing.Entitlement;
import io.tollgate.licensing.Entitlements;
import io.tollgate.licensing.License;
import io.tollgate.licensing.LicenseException;
import io.tollgate.licensing.Pem;
import io.tollgate.licensing.PluginSignatures;
import io.tollgate.licensing.vendor.LicenseIssuer;
import io.tollgate.licensing.vendor.PluginSigner;
import io.tollgate.licensing.vendor.VendorKeys;
import io.tollgate.metering.JournalStatus;
import io.tollgate.metering.UsageJournal;
import io.tollgate.metering.testing.TestJournal;
import io.tollgate.model.Tensor;
import io.tollgate.serving.InferenceRequest;
import io.tollgate.serving.InferenceService;
import io.tollgate.serving.testing.InMemoryEntitlements;
import io.tollgate.serving.testing.TestServing;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.security.KeyPair;
import java.time.Clock;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.Enumeration;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.jar.JarEntry;
import java.util.jar.JarFile;
import java.util.jar.JarOutputStream;
import java.util.jar.Manifest;
import java.util.stream.Stream;

/**
 * Serving throughput with licensing enforced versus not enforced (issue 10: "infer throughput with licensing enforced
 * ÷ not enforced on the same model >= 0.99"), batch 1, the same number of client threads as serving workers, in
 * process (no HTTP: the endpoint's cost is the same either way and would only dilute the difference).
 *
 * <p>Each fork (its own JVM) builds one appliance's worth of licensing in a temporary folder with the vendor tool's
 * code ({@code io.tollgate.licensing.vendor}): a vendor key pair, trusted ({@code conf/vendors/bench-vendor.pem});
 * the distribution's fashion-mnist plugin with its signature stripped and signed again by that vendor; a license for
 * it bound to this device (the journal's device key in {@code data/device}), valid for a year, with a prepaid quota of
 * {@value #QUOTA} inferences. The appliance's {@link Entitlements} is plugin-guard's {@link LicenseStore} over those
 * folders, told the plugin's verified signer as the resolver hook tells it, and watching the folders as the launcher
 * makes it. One serving instance ({@link TestServing}, the real {@code ServingService}) with the real Chronicle journal
 * (production defaults) serves the signed plugin through a {@link SwitchingEntitlements} that flips every window
 * between (a) enforced: the {@code LicenseStore} (cached entitlement, the expiry and clock roll-back check, the quota
 * claimed per request with a compare-and-set, the usage record naming the license) and (b) not enforced:
 * {@link InMemoryEntitlements#everything()}, a free unlimited license for every plugin. Which comes first in each pair
 * is random. Per fork: the median per-window throughput of each; the report gives their ratio per fork and the median
 * over forks. Each fork checks that the enforced windows' requests were counted in the journal under the license (so
 * the quota path ran) and fails otherwise.
 *
 * <p>{@code --control} runs the same with a second free {@code Entitlements} in place of the store (an A/A run): its
 * ratio is the method's own noise and bias on this machine, against which the A/B ratio is read.
 */
public final class LicensingOverheadBench {
    private static final List<String> JVM_FLAGS = List.of(
            "--add-opens=java.base/java.lang.reflect=ALL-UNNAMED", "--add-exports=java.base/sun.nio.ch=ALL-UNNAMED",
            "--add-exports=java.base/jdk.internal.ref=ALL-UNNAMED", "-Dchronicle.analytics.disable=true",
            "-Dchronicle.announcer.disable=true", "-Dorg.slf4j.simpleLogger.defaultLogLevel=warn", "-Xmx512m");
    /** The license's prepaid quota: far more than a run serves (a few thousand inferences a second). */
    static final long QUOTA = 1_000_000_000L;
    private static final String VENDOR = "Bench Vendor";
    private static final String METER = "inference";

    private LicensingOverheadBench() {
    }

    public static void main(String[] args) throws Exception {
        if (args.length > 0 && args[0].equals("fork")) {
            fork(Integer.parseInt(args[1]), Integer.parseInt(args[2]), Integer.parseInt(args[3]), Paths.get(args[4]),
                    Integer.parseInt(args[5]), Boolean.parseBoolean(args[6]));
            System.exit(0);
        }
        int forks = 5;
        int threads = 2;
        int warmup = 5;
        int measure = 10;
        int windowMs = 500;
        String plugin = "runtime/target/tollgate/plugins/fashion-mnist-1.0.0.jar";
        boolean control = false;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--forks": forks = Integer.parseInt(args[++i]); break;
                case "--threads": threads = Integer.parseInt(args[++i]); break;
                case "--warmup": warmup = Integer.parseInt(args[++i]); break;
                case "--measure": measure = Integer.parseInt(args[++i]); break;
                case "--window-ms": windowMs = Integer.parseInt(args[++i]); break;
                case "--plugin": plugin = args[++i]; break;
                case "--control": control = true; break;
                default:
                    System.err.println("usage: java -jar licensing-bench.jar [--forks 5] [--threads 2] [--warmup 5]"
                            + " [--measure 10] [--window-ms 500] [--control]"
                            + " [--plugin runtime/target/tollgate/plugins/fashion-mnist-1.0.0.jar]");
                    System.exit(2);
            }
        }
        Path pluginJar = Paths.get(plugin).toAbsolutePath();
        if (!Files.isRegularFile(pluginJar)) {
            System.err.println("no plugin jar at " + pluginJar + " (build the distribution first, or pass --plugin)");
            System.exit(2);
        }
        System.out.printf("A/B in one JVM: fashion-mnist batch 1, %d client threads = %d serving workers, ONNX intra/inter"
                + " op threads 1, Chronicle journal (production defaults), %d s warm-up, %d s measured per fork in %d ms"
                + " windows alternating licensing enforced (LicenseStore: signed plugin, device-bound license, quota %d)"
                + " / not enforced (free unlimited license), %d forks%s%n", threads, threads, warmup, measure, windowMs,
                QUOTA, forks, control ? "; CONTROL (A/A): the 'enforced' windows use a second free Entitlements, so"
                        + " the ratio shows the method's own noise and bias" : "");
        List<Double> off = new ArrayList<>();
        List<Double> on = new ArrayList<>();
        List<Double> ratios = new ArrayList<>();
        for (int f = 0; f < forks; f++) {
            String[] r = runFork(threads, warmup, measure, pluginJar, windowMs, control).split(" ");
            double free = Double.parseDouble(r[1]);
            double enforced = Double.parseDouble(r[2]);
            off.add(free);
            on.add(enforced);
            ratios.add(enforced / free);
            System.out.printf(Locale.ROOT, "fork %d: not enforced %.1f/s, enforced %.1f/s (median per window), ratio"
                    + " %.4f; %s%n", f + 1, free, enforced, enforced / free,
                    String.join(" ", Arrays.copyOfRange(r, 3, r.length)));
        }
        System.out.printf(Locale.ROOT, "median not enforced: %.1f inferences/s  %s%n", median(off), off);
        System.out.printf(Locale.ROOT, "median enforced:     %.1f inferences/s  %s%n", median(on), on);
        System.out.printf(Locale.ROOT, "ratio (enforced/not enforced): median of fork ratios %.4f, ratio of medians"
                + " %.4f; fork ratios %s%n", median(ratios), median(on) / median(off), ratios);
    }

    private static double median(List<Double> values) {
        double[] v = values.stream().mapToDouble(Double::doubleValue).sorted().toArray();
        return v.length % 2 == 1 ? v[v.length / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
    }

    /** Runs one fork and returns its RESULT line. */
    private static String runFork(int threads, int warmup, int measure, Path plugin, int windowMs, boolean control)
            throws Exception {
        List<String> cmd = new ArrayList<>();
        cmd.add(Paths.get(System.getProperty("java.home"), "bin", "java").toString());
        cmd.addAll(JVM_FLAGS);
        cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), LicensingOverheadBench.class.getName(), "fork",
                Integer.toString(threads), Integer.toString(warmup), Integer.toString(measure), plugin.toString(),
                Integer.toString(windowMs), Boolean.toString(control)));
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
            throw new IllegalStateException("fork failed (exit " + p.exitValue() + "):\n" + all);
        }
        return result;
    }

    // ---- one fork ------------------------------------------------------------------------------

    /** What a fork set up: the store and the license it holds. */
    private record Licensing(LicenseStore store, String licenseId, Path signedPlugin) {
    }

    private static void fork(int threads, int warmupS, int measureS, Path distributionPlugin, int windowMs,
                             boolean control) throws Exception {
        Path dir = Files.createTempDirectory("tollgate-bench-licensing");
        TestJournal chronicle = TestJournal.production(dir.resolve("data")).open();   // a fresh key in data/device
        LicenseStore store = null;
        TestServing serving = null;
        try {
            Licensing licensing = licensing(dir, chronicle.deviceId(), distributionPlugin);
            store = licensing.store();
            store.watch();                                                  // as the launcher does
            SwitchingEntitlements entitlements = new SwitchingEntitlements(control ? InMemoryEntitlements.everything()
                    : store, InMemoryEntitlements.everything());
            UsageJournal journal = chronicle.journal();
            serving = TestServing.start(journal, TestOnnxEngine.create(Map.of("intra.op.threads", "1",
                    "inter.op.threads", "1")), threads, 1024, 5_000, entitlements);
            String model = serving.startPlugin(licensing.signedPlugin(), TimeUnit.SECONDS.toMillis(60));
            InferenceService service = serving.inference();
            AtomicLong counted = new AtomicLong();
            AtomicLong failed = new AtomicLong();
            PHASE.set(0);
            List<Thread> clients = new ArrayList<>();
            List<Throwable> errors = new CopyOnWriteArrayList<>();
            for (int t = 0; t < threads; t++) {
                int thread = t;
                Thread c = new Thread(() -> {
                    try {
                        client(service, model, thread, counted);
                    } catch (Throwable e) {
                        failed.incrementAndGet();
                        errors.add(e);
                        PHASE.set(2);
                    }
                }, "bench-client-" + t);
                clients.add(c);
                c.start();
            }
            // warm both paths up, then alternate windows: enforced/free or free/enforced per pair at random
            long warmEnd = System.nanoTime() + TimeUnit.SECONDS.toNanos(warmupS);
            while (System.nanoTime() < warmEnd && PHASE.get() == 0) {
                entitlements.enforce(!entitlements.enforcing());
                Thread.sleep(windowMs);
            }
            if (PHASE.compareAndSet(0, 1)) {
                Random order = new Random();
                List<Double> free = new ArrayList<>();
                List<Double> enforced = new ArrayList<>();
                List<Double> pairRatios = new ArrayList<>();
                long enforcedStart = journal.licenseQuantity(licensing.licenseId(), METER);
                long enforcedRequests = 0;
                int pairs = Math.max(1, measureS * 1000 / (2 * windowMs));
                for (int i = 0; i < pairs && PHASE.get() == 1; i++) {
                    boolean enforcedFirst = order.nextBoolean();
                    for (int k = 0; k < 2; k++) {
                        boolean enforce = (k == 0) == enforcedFirst;
                        entitlements.enforce(enforce);
                        Thread.sleep(20);                   // let requests of the previous window finish
                        long c0 = counted.get();
                        long t0 = System.nanoTime();
                        Thread.sleep(windowMs);
                        long n = counted.get() - c0;
                        double rate = n / ((System.nanoTime() - t0) / 1e9);
                        (enforce ? enforced : free).add(rate);
                        enforcedRequests += enforce ? n : 0;
                    }
                    pairRatios.add(enforced.get(enforced.size() - 1) / free.get(free.size() - 1));
                }
                PHASE.compareAndSet(1, 2);
                for (Thread c : clients) {
                    c.join(30_000);
                }
                if (!errors.isEmpty()) {
                    throw new IllegalStateException("a request failed", errors.get(0));
                }
                // proof that the enforced windows went through the license and its quota: the journal counted them
                long settled = chronicle.settledLastSeq();
                long used = journal.licenseQuantity(licensing.licenseId(), METER);
                long usedFree = journal.licenseQuantity("free-" + model, METER);
                if (!control && used - enforcedStart < enforcedRequests) {
                    throw new IllegalStateException("the enforced windows served " + enforcedRequests + " requests but"
                            + " the journal counted only " + (used - enforcedStart) + " under license "
                            + licensing.licenseId());
                }
                System.out.printf(Locale.ROOT, "RESULT %.1f %.1f windows=%d mean-free=%.1f mean-enforced=%.1f"
                                + " median-pair-ratio=%.4f quota-used=%d/%d free-license-used=%d %s%n", median(free),
                        median(enforced), pairs, mean(free), mean(enforced), median(pairRatios), used, QUOTA, usedFree,
                        describe(journal.status(), settled));
                return;
            }
            for (Thread c : clients) {
                c.join(30_000);
            }
            throw new IllegalStateException("a request failed during the warm-up", errors.isEmpty() ? null
                    : errors.get(0));
        } finally {
            if (serving != null) {
                serving.close();
            }
            if (store != null) {
                store.close();
            }
            chronicle.close();
            try (Stream<Path> s = Files.walk(dir)) {
                s.sorted(Comparator.reverseOrder()).forEach(x -> x.toFile().delete());
            }
        }
    }

    /**
     * The vendor's side and the box's side of one purchase, in {@code dir}: vendor keys ({@code vendor/}), the trusted
     * key ({@code conf/vendors/bench-vendor.pem}), the re-signed plugin ({@code plugins/}), a license bound to the
     * device in {@code data/device} with quota {@value #QUOTA} ({@code licenses/bench.lic}), and the
     * {@link LicenseStore} over them, told the plugin's verified signer.
     *
     * @throws IllegalStateException when the store does not entitle the plugin by that license
     */
    private static Licensing licensing(Path dir, String deviceId, Path distributionPlugin)
            throws IOException, LicenseException {
        KeyPair vendor = VendorKeys.generate(dir.resolve("vendor"));
        Path vendors = Files.createDirectories(dir.resolve("conf").resolve("vendors"));
        Files.copy(dir.resolve("vendor").resolve(VendorKeys.PUBLIC_FILE), vendors.resolve("bench-vendor.pem"));

        Path plugins = Files.createDirectories(dir.resolve("plugins"));
        Path unsigned = plugins.resolve("unsigned.jar.tmp");
        Path signed = plugins.resolve(distributionPlugin.getFileName());
        stripSignature(distributionPlugin, unsigned);
        PluginSigner.sign(unsigned, signed, vendor.getPrivate(), vendor.getPublic(), VENDOR);
        Files.delete(unsigned);

        Path deviceFolder = dir.resolve("data").resolve("device");
        LicenseIssuer issuer = new LicenseIssuer(VENDOR, vendor.getPrivate(), vendor.getPublic()).tenant("bench")
                .plugin("fashion-mnist").versions("[1.0.0,2.0.0)")
                .device(deviceId, Pem.readPublicKey(deviceFolder.resolve("device.pub.pem")))
                .notBefore(Instant.now().minus(1, ChronoUnit.HOURS)).expires(Instant.now().plus(365, ChronoUnit.DAYS))
                .quota(QUOTA, METER);
        Path licenses = Files.createDirectories(dir.resolve("licenses"));
        Files.write(licenses.resolve("bench.lic"), issuer.issue());

        LicenseStore store = new LicenseStore(vendors, List.of(licenses), deviceFolder, Clock.systemUTC());
        store.reload();
        if (!store.refusedFiles().isEmpty()) {
            throw new IllegalStateException("the store refused files: " + store.refusedFiles());
        }
        // what the resolver hook does when the plugin's bundle resolves: verify the jar, hand the signer to the store
        String signer = PluginSignatures.verify(signed);
        String[] identity = declaredModel(signed);
        Entitlement e = store.decide(identity[0], identity[1], false, signer, null);
        License l = e.license().orElseThrow(() -> new IllegalStateException("the store does not entitle the plugin: "
                + e.reason()));
        if (!l.id().equals(issuer.id()) || !l.hasQuota() || l.deviceId().isEmpty()) {
            throw new IllegalStateException("entitled by an unexpected license: " + l);
        }
        return new Licensing(store, l.id(), signed);
    }

    /** The model name and version the plugin's {@code tollgate.model} capability declares. */
    private static String[] declaredModel(Path jar) throws IOException {
        try (JarFile f = new JarFile(jar.toFile())) {
            String provide = f.getManifest().getMainAttributes().getValue("Provide-Capability");
            java.util.regex.Matcher name = java.util.regex.Pattern.compile("tollgate\\.model\\s*=\\s*\"?([^;\",]+)")
                    .matcher(provide);
            java.util.regex.Matcher version = java.util.regex.Pattern.compile("version(?::Version)?\\s*=\\s*\"?([^;\",]+)")
                    .matcher(provide);
            if (!name.find() || !version.find()) {
                throw new IOException(jar + ": no tollgate.model capability with a version");
            }
            return new String[] {name.group(1).trim(), version.group(1).trim()};
        }
    }

    /**
     * Copies a signed jar without its signature: the manifest's main attributes only, no {@code META-INF/*.SF} or
     * signature block. (The distribution's plugin is signed by the examples vendor; a vendor signs unsigned jars.)
     */
    static void stripSignature(Path in, Path out) throws IOException {
        try (JarFile jar = new JarFile(in.toFile(), false)) {
            Manifest manifest = new Manifest();
            manifest.getMainAttributes().putAll(jar.getManifest().getMainAttributes());
            try (OutputStream os = Files.newOutputStream(out); JarOutputStream jos = new JarOutputStream(os, manifest)) {
                for (Enumeration<JarEntry> e = jar.entries(); e.hasMoreElements(); ) {
                    JarEntry entry = e.nextElement();
                    String name = entry.getName();
                    String upper = name.toUpperCase(Locale.ROOT);
                    if (upper.equals("META-INF/MANIFEST.MF") || (upper.startsWith("META-INF/")
                            && upper.indexOf('/', 9) < 0 && (upper.endsWith(".SF") || upper.endsWith(".EC")
                            || upper.endsWith(".RSA") || upper.endsWith(".DSA")))) {
                        continue;
                    }
                    jos.putNextEntry(new JarEntry(name));
                    if (!entry.isDirectory()) {
                        try (InputStream is = jar.getInputStream(entry)) {
                            is.transferTo(jos);
                        }
                    }
                    jos.closeEntry();
                }
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

    private static double mean(List<Double> v) {
        return v.stream().mapToDouble(Double::doubleValue).average().orElse(0);
    }

    private static String describe(JournalStatus s, long settled) {
        return "journal(lastSeq=" + s.lastSeq() + ",settled=" + settled + ",sealed=" + s.lastSealedSeq() + ",bytes="
                + s.diskUsedBytes() + ")";
    }

    /**
     * The licensing service the serving component binds: delegates to the enforced store or to the free one, flipped
     * between measurement windows. A flip runs the listeners (as a store does after a change), so serving drops its
     * cached entitlement and asks again: the first request of a window takes the new path.
     */
    static final class SwitchingEntitlements implements Entitlements {
        private final Entitlements enforced;
        private final Entitlements free;
        private final List<Runnable> listeners = new CopyOnWriteArrayList<>();
        private volatile boolean enforcing = true;

        SwitchingEntitlements(Entitlements enforced, Entitlements free) {
            this.enforced = enforced;
            this.free = free;
            Runnable forward = this::fire;
            enforced.addListener(forward);
            free.addListener(forward);
        }

        void enforce(boolean value) {
            if (enforcing != value) {
                enforcing = value;
                fire();
            }
        }

        boolean enforcing() {
            return enforcing;
        }

        private Entitlements current() {
            return enforcing ? enforced : free;
        }

        private void fire() {
            for (Runnable r : listeners) {
                r.run();
            }
        }

        @Override
        public Entitlement check(String plugin, String version, long nowMillis) {
            return current().check(plugin, version, nowMillis);
        }

        @Override
        public List<License> licenses() {
            return current().licenses();
        }

        @Override
        public List<String> refusedFiles() {
            return current().refusedFiles();
        }

        @Override
        public void addListener(Runnable listener) {
            if (!listeners.contains(listener)) {
                listeners.add(listener);
            }
        }

        @Override
        public void removeListener(Runnable listener) {
            listeners.remove(listener);
        }
    }
}
