package io.tollgate.runtime;

import io.tollgate.guard.LicenseStore;
import io.tollgate.guard.PluginGuard;
import io.tollgate.tools.DeviceHost;
import io.tollgate.tools.ExitCodes;
import io.tollgate.tools.PathValues;
import io.tollgate.tools.ProductVersion;
import io.tollgate.tools.ToolException;
import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.time.Clock;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.apache.felix.framework.FrameworkFactory;
import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;
import org.osgi.framework.BundleException;
import org.osgi.framework.Constants;
import org.osgi.framework.FrameworkEvent;
import org.osgi.framework.launch.Framework;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Starts the appliance: an embedded Felix framework provisioned with the bundles in
 * {@code system/}, configuration from {@code conf/*.cfg} pushed through ConfigAdmin, and
 * {@link PluginFolderGate} watching {@code plugins/} so dropping, replacing or deleting a plugin jar installs,
 * upgrades or uninstalls it, once the file is complete. The plugin guard (a resolver hook) is in the framework before any bundle:
 * a plugin that carries code stays INSTALLED (docs/plugins.md), and so does one that no license entitles: the
 * launcher reads the trusted vendors ({@code conf/vendors}), the licenses ({@code licenses/}) and the device identity
 * into a {@link LicenseStore}, registers it as the {@code Entitlements} service before any bundle starts and watches
 * those folders (docs/licensing.md, "On the appliance").
 *
 * <p>Threads: the caller's thread waits for the framework to stop; a JVM shutdown hook (SIGTERM,
 * Ctrl-C) stops the framework, which deactivates the endpoint (draining requests) and the serving
 * layer (closing engine sessions).
 */
final class ApplianceLauncher {
    private static final Logger LOG = LoggerFactory.getLogger(ApplianceLauncher.class);
    static final String CONFIGADMIN_BSN = "org.apache.felix.configadmin";
    static final long STOP_TIMEOUT_MS = 60_000;
    /** How long the required components may take to become active (run --start-timeout). */
    static final long DEFAULT_START_TIMEOUT_MS = 60_000;
    /** Felix's switch for framework extension bundles (a JVM system property, FelixConstants.FELIX_EXTENSIONS_DISABLE). */
    static final String EXTENSIONS_DISABLE = "felix.extensions.disable";

    private final Path home;
    private final Path conf;
    private final Path system;
    private final Path plugins;
    private final Path data;
    /** Where licenses are read from; the first is where {@code license install} and POST /admin/licenses write. */
    private List<Path> licenses;
    private final Map<String, Map<String, String>> overrides;
    private long startTimeoutMs = DEFAULT_START_TIMEOUT_MS;
    private boolean uplinkRequired;
    /** The firmware profile (run chose it before the launcher exists); null: none (tests that start bare homes). */
    private io.tollgate.tools.profile.FirmwareProfiles.Selection profile;
    /** The data folder's lock: referenced for the life of the process, so that nothing closes its channel. */
    private DataDirLock lock;

    ApplianceLauncher(Path home, Path conf, Path plugins, Path data, Map<String, Map<String, String>> overrides) {
        this.home = home;
        this.conf = conf;
        this.system = home.resolve("system");
        this.plugins = plugins;
        this.data = data;
        this.overrides = overrides;
        this.licenses = List.of(home.resolve("licenses"));
    }

    /** The licenses folder (run --licenses; default {@code <home>/licenses}). */
    ApplianceLauncher licenses(Path folder) {
        this.licenses = List.of(folder);
        return this;
    }

    /** The trusted vendors' folder: {@code <conf>/vendors}. */
    Path vendors() {
        return conf.resolve("vendors");
    }

    /** How long {@link #start} waits for the required components (run --start-timeout). */
    ApplianceLauncher startTimeoutMs(long ms) {
        this.startTimeoutMs = ms;
        return this;
    }

    /** The firmware profile whose values are the defaults under {@code conf/} (docs/hardware.md, "Profiles"). */
    ApplianceLauncher profile(io.tollgate.tools.profile.FirmwareProfiles.Selection selection) {
        this.profile = selection;
        return this;
    }

    /** Makes the uplink a required component (the operator gave --mqtt on the command line). */
    ApplianceLauncher uplinkRequired(boolean required) {
        this.uplinkRequired = required;
        return this;
    }

    /**
     * Starts the framework and blocks until it stops.
     *
     * @throws CommandException (exit 1) when the framework stopped although nobody asked the appliance to stop
     */
    void startAndAwait() throws Exception {
        Framework framework;
        // whatever blocks the start (a step that never returns would skip the --start-timeout checks): exit 13
        try (StartWatchdog w = StartWatchdog.arm(Thread.currentThread(), startTimeoutMs + StartWatchdog.GRACE_MS,
                startTimeoutMs, StartWatchdog::exitJvm)) {
            framework = start();
        }
        AtomicBoolean stopRequested = new AtomicBoolean();
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            stopRequested.set(true);
            stop(framework);
        }, "tollgate-shutdown"));
        awaitStop(framework, stopRequested);
    }

    /**
     * Waits for the framework to stop. Only the shutdown hook (SIGTERM, Ctrl-C) stops the appliance: a stop from
     * anywhere else — a bundle calling {@code getBundle(0).stop()} or {@code update()} — would leave a JVM whose
     * non-daemon threads keep it alive without a framework, an appliance that looks up but serves nothing. That
     * is an error: one ERROR line, and exit status 1 so that a supervisor restarts the appliance.
     *
     * @throws CommandException when the framework stopped and {@code stopRequested} is false
     */
    static void awaitStop(Framework framework, AtomicBoolean stopRequested) throws InterruptedException, CommandException {
        FrameworkEvent event = framework.waitForStop(0);
        if (stopRequested.get()) {
            // On SIGTERM the shutdown hook logs the stop: the JVM may halt before this thread runs again.
            LOG.debug("framework stopped ({})", describe(event));
            return;
        }
        String message = "the OSGi framework stopped although the appliance was not asked to stop (" + describe(event)
                + "); exiting with status 1 so that the service manager restarts Tollgate";
        LOG.error(message);
        throw new CommandException(message);
    }

    /**
     * The data folder holds every tenant's usage (the journal), the device key, the license totals and the broker
     * password: a new one is made readable by its owner only (0700); an existing one open to the group or to others
     * (e.g. made 0755 under the umask by an older bin/tollgate) is made 0700 with one WARN saying what it was, as the
     * cloud's data folder is. When that fails the start is refused (exit 1), saying why.
     */
    static void ownerOnly(Path data) throws IOException {
        java.util.Set<java.nio.file.attribute.PosixFilePermission> owner =
                java.nio.file.attribute.PosixFilePermissions.fromString("rwx------");
        if (!Files.exists(data)) {
            Files.createDirectories(data);
            try {
                Files.setPosixFilePermissions(data, owner);
            } catch (UnsupportedOperationException notPosix) {
                return;
            }
            return;
        }
        java.util.Set<java.nio.file.attribute.PosixFilePermission> mode;
        try {
            mode = Files.getPosixFilePermissions(data);
        } catch (UnsupportedOperationException notPosix) {
            return; // nothing to check
        }
        if (owner.containsAll(mode)) {
            return;
        }
        String was = java.nio.file.attribute.PosixFilePermissions.toString(mode);
        try {
            Files.setPosixFilePermissions(data, owner);
        } catch (IOException e) {
            String why = "the data folder " + data + " is " + was + " and could not be made rwx------ ("
                    + e.getMessage() + "): it holds the usage journal of every tenant and the device key; chmod 700 "
                    + data;
            LOG.error(why);
            throw new IOException(why, e);
        }
        LOG.warn("the data folder {} was {}: made it rwx------ so that the usage journal, license totals and device key "
                + "under it are not readable by other users", data, was);
    }

    /**
     * DATA/tmp, the JVM's temporary folder under bin/tollgate run ({@code -Djava.io.tmpdir}, {@code TMPDIR}), where
     * ONNX Runtime, jffi and Netty extract their native libraries: emptied at start (what a previous run left, e.g.
     * after kill -9; only once this process holds the data folder's lock) and made rwx------. A failure to empty it
     * is a WARN, never fatal.
     */
    static void freshTmp(Path tmp) throws IOException {
        if (Files.isDirectory(tmp)) {
            try (java.util.stream.Stream<Path> walk = Files.walk(tmp)) {
                for (Path p : walk.sorted(java.util.Comparator.reverseOrder()).toList()) {
                    if (!p.equals(tmp)) {
                        try {
                            Files.deleteIfExists(p);
                        } catch (IOException e) {
                            LOG.warn("cannot empty the temporary folder {}: {}", tmp, e.toString());
                        }
                    }
                }
            }
        }
        Files.createDirectories(tmp);
        try {
            Files.setPosixFilePermissions(tmp, java.nio.file.attribute.PosixFilePermissions.fromString("rwx------"));
        } catch (UnsupportedOperationException notPosix) {
            // nothing to set
        }
    }

    /**
     * Runs the static initialisers of Chronicle's core (its JVM probe and native bindings, ~0.2 s) that the usage
     * journal's activation would otherwise run on the start thread; the classes are on the launcher's class path and
     * the bundles get them from the system bundle, so it is the same set-up. A failure is the journal's to report.
     */
    static void preloadChronicle() {
        ClassLoader loader = ApplianceLauncher.class.getClassLoader();
        for (String name : List.of("net.openhft.chronicle.core.Jvm", "net.openhft.chronicle.core.time.SystemTimeProvider")) {
            try {
                Class.forName(name, true, loader);
            } catch (ClassNotFoundException | LinkageError | RuntimeException e) {
                LOG.debug("Chronicle preload: {} not initialised: {}", name, e.toString());
                return;
            }
        }
    }

    /** Makes {@code folder} when missing, rwx------ (a folder the appliance alone uses, e.g. DATA/home). */
    static void ownerOnlyFolder(Path folder) throws IOException {
        Files.createDirectories(folder);
        try {
            Files.setPosixFilePermissions(folder, java.nio.file.attribute.PosixFilePermissions.fromString("rwx------"));
        } catch (UnsupportedOperationException notPosix) {
            // nothing to set
        }
    }

    Framework start() throws Exception {
        if (!Files.isDirectory(system)) {
            throw new CommandException("no bundles folder at " + system + "; run bin/tollgate from a built distribution "
                    + "(runtime/target/tollgate) or pass --home");
        }
        Files.createDirectories(plugins);
        ownerOnly(data);
        // Before anything else uses the data folder: one appliance per folder, and a device key of this host.
        try {
            lock = DataDirLock.take(data);
        } catch (StartFailure inUse) {
            LOG.error(inUse.getMessage());
            throw inUse;
        }
        freshTmp(data.resolve("tmp"));
        ownerOnlyFolder(data.resolve("home"));      // HOME under bin/tollgate run (ONNX Runtime's cache), kept
        List<Path> systemJars = listJars(system);
        // On the second core while this thread initialises the framework (issue 11, start to ready): ONNX Runtime's
        // natives kept in DATA/native (extracted on the first start only; waited for before any bundle starts, so
        // the engine finds them), then Chronicle's static set-up, which the usage journal would do on this thread.
        java.util.concurrent.CompletableFuture<java.util.Optional<Path>> ortNatives =
                new java.util.concurrent.CompletableFuture<>();
        Thread preload = new Thread(() -> {
            try {
                ortNatives.complete(OrtNativeCache.prepare(systemJars, data));
            } catch (Throwable t) {
                // never a start that waits for nothing: ORT extracts to DATA/tmp as it did before the cache
                LOG.warn("cannot keep ONNX Runtime's native libraries in {}: {}", data.resolve(OrtNativeCache.FOLDER),
                        t.toString());
                ortNatives.complete(java.util.Optional.empty());
                return;
            }
            preloadChronicle();
        }, "tollgate-start-preload");
        preload.setDaemon(true);
        preload.start();
        String host = DeviceHost.current();
        String foreignKey = DeviceHost.problem(data, host);
        if (foreignKey != null) {
            LOG.error(foreignKey);
            throw new StartFailure(StartFailure.KEY_FROM_ANOTHER_HOST, foreignKey);
        }
        logProfile();
        if (profile != null) {
            ProfileJvmOptionsCache.update(data, System.getProperty(ProfileJvmOptionsCache.KEY_PROPERTY),
                    System.getProperty(ProfileJvmOptionsCache.SOURCE_PROPERTY), profile.profile().name(),
                    profile.profile().jvmOptions());
        }
        ConfigFiles configFiles = configFiles();
        checkPortIsFree(configFiles.read().getOrDefault(ConfigFiles.ENDPOINT_PID, Map.of()));
        System.setProperty("tollgate.home", home.toString());
        System.setProperty("tollgate.data", data.toString());
        // the endpoint reads its API keys from <conf>/api-keys.json, where bin/tollgate keys --conf writes them
        System.setProperty("tollgate.conf", conf.toString());

        Framework framework = newFramework(frameworkProperties());
        framework.init();
        // Before any bundle is installed: plugins that carry code never resolve (issue 9), and a plugin resolves only
        // when its signature and a license entitle it (issue 10). Registered on the system bundle's context, the hook
        // and the one Entitlements service live as long as the framework and no bundle can stop them.
        for (Path folder : licenses) {
            Files.createDirectories(folder);
        }
        try {
            // the X25519 key vendors wrap encrypted models' keys for (docs/licensing.md, "Encrypted models")
            io.tollgate.guard.DeviceWrapKey.ensure(data.resolve("device"));
        } catch (IOException | RuntimeException | LinkageError e) {
            LOG.warn("cannot make or read the device's wrap key in {}: {}; encrypted models will not load",
                    data.resolve("device"), e.getMessage());
        }
        LicenseStore store = new LicenseStore(vendors(), licenses, data.resolve("device"), Clock.systemUTC());
        store.reload();
        PluginGuard.register(framework.getBundleContext(), store);
        store.watch();
        framework.start();
        BundleContext ctx = framework.getBundleContext();

        List<Bundle> installed = new ArrayList<>();
        for (Path jar : systemJars) {
            installed.add(ctx.installBundle("reference:" + jar.toUri()));
        }
        // Order matters, so that nothing activates twice and readiness means "plugins loaded":
        // 1. ConfigAdmin, then every conf/*.cfg, so components activate once with their final settings;
        // 2. the plugin folder gate, which installs and starts the plugins already in plugins/ (they resolve
        //    against the installed serving and engine bundles), then watches the folder;
        // 3. everything else: the serving extender opens its tracker with those plugins present and
        //    reports ready only once each of them is loaded or refused.
        start(framework, bundle(installed, CONFIGADMIN_BSN));
        int applied = configFiles.apply(ctx);
        PluginFolderGate gate = new PluginFolderGate(ctx, plugins, data.resolve("plugin-copies"),
                () -> System.nanoTime() / 1_000_000);
        gate.installPresent();
        gate.watch();
        ortNatives.join();
        for (Bundle b : installed) {
            if (b.getState() != Bundle.ACTIVE && b.getHeaders().get(Constants.FRAGMENT_HOST) == null) {
                start(framework, b);
            }
        }
        try {
            awaitRequiredComponents(framework);
        } finally {
            // the first start made the key (or failed after making it): this host made it
            recordHost(host);
        }
        checkEveryConfigurationIsRead(framework, configFiles.appliedPids());
        logProfilePidsNotRead(framework);
        if (!uplinkRequired) {
            OptionalReadiness.register(ctx, "uplink", RequiredComponents.UPLINK);
        }
        LOG.info("Tollgate {} started: {} system bundles, {} configurations from {}, plugins from {}, data in {}",
                ProductVersion.current(), installed.size(), applied, conf, plugins, data);
        return framework;
    }

    /**
     * A {@code conf/<pid>.cfg} that no component reads is a misspelled file name ({@code io.tollgate.metering.jornal})
     * whose settings would silently not apply: exit 12 naming the file and the PIDs that are read.
     */
    private void checkEveryConfigurationIsRead(Framework framework, java.util.Set<String> applied) throws StartFailure {
        java.util.Set<String> read = ComponentStates.configurationPids(framework.getBundleContext());
        List<String> unread = applied.stream().filter(p -> !read.contains(p)).toList();
        if (read.isEmpty() || unread.isEmpty()) {
            return;
        }
        StartFailure f = new StartFailure(StartFailure.COMPONENT_FAILED, unread.stream()
                .map(p -> conf.resolve(p + ".cfg").toString()).collect(java.util.stream.Collectors.joining(", "))
                + (unread.size() == 1 ? " configures" : " configure") + " nothing: no component reads the"
                + " configuration PID " + String.join(", ", unread) + " (a misspelled file name?); the PIDs read are "
                + String.join(", ", read) + ". Rename or remove the file");
        LOG.error(f.getMessage());
        stop(framework);
        throw f;
    }

    /**
     * One INFO line naming the profile and why; for a profile chosen by hand that this box does not match (x86-nvidia
     * on a box without a GPU), one WARN line saying what is absent and what falls back to the CPU.
     */
    private void logProfile() {
        if (profile == null) {
            return;
        }
        LOG.info("{}; its values are the defaults under {} (bin/tollgate profile show)", profile.summary(), conf);
        if (profile.mismatches().isEmpty()) {
            return;
        }
        List<String> gpuSettings = new ArrayList<>();
        profile.profile().configuration().forEach((pid, values) -> values.forEach((k, v) -> {
            if (v.matches("(?i).*\\b(gpu|dla|cuda|tensorrt)\\b.*")) {
                gpuSettings.add(pid + "/" + k + "=" + v);
            }
        }));
        boolean noGpu = profile.mismatches().stream().anyMatch(m -> m.startsWith("match.nvidia.gpu=true")
                || m.startsWith("match.l4t.release") || m.startsWith("match.device.tree.model"));
        LOG.warn("firmware profile {} (chosen by {}) does not match this box: {}.{}", profile.profile().name(),
                profile.how(), String.join("; ", profile.mismatches()), noGpu
                        ? " The GPU is absent: models run on the CPU (ONNX Runtime's cpu execution provider), and "
                        + (gpuSettings.isEmpty() ? "the profile's GPU settings" : String.join(", ", gpuSettings))
                        + " fall back to cpu" : "");
    }

    /** Profile PIDs no installed component reads (a bundle this distribution lacks): said once, not an error. */
    private void logProfilePidsNotRead(Framework framework) {
        if (profile == null) {
            return;
        }
        java.util.Set<String> read = ComponentStates.configurationPids(framework.getBundleContext());
        List<String> unread = profile.profile().configuration().keySet().stream().filter(p -> !read.contains(p))
                .toList();
        if (!read.isEmpty() && !unread.isEmpty()) {
            LOG.info("firmware profile {} sets {}, which no installed component reads; those values are unused",
                    profile.profile().name(), String.join(", ", unread));
        }
    }

    private void recordHost(String host) {
        try {
            if (DeviceHost.recordIfMissing(data, host)) {
                LOG.info("recorded the host of the device key in {}: {}", data.resolve("device").resolve(DeviceHost.FILE),
                        host);
            }
        } catch (IOException e) {
            LOG.warn("cannot record the host of the device key in {}: {}", data.resolve("device"), e.toString());
        }
    }

    /**
     * Waits until every required component is active (bounded by {@link #startTimeoutMs}); on a failure or the
     * timeout logs why, stops the framework and throws the {@link StartFailure} that is run's exit code.
     */
    private void awaitRequiredComponents(Framework framework) throws InterruptedException, StartFailure {
        List<RequiredComponents.Part> parts = RequiredComponents.required(uplinkRequired);
        long deadline = System.nanoTime() + startTimeoutMs * 1_000_000L;
        while (true) {
            boolean last = System.nanoTime() - deadline >= 0;
            RequiredComponents.Verdict v = RequiredComponents.verdict(ComponentStates.read(framework.getBundleContext()),
                    parts, last, startTimeoutMs);
            if (v.done()) {
                if (v.failure() != null) {
                    LOG.error(v.failure().getMessage());
                    stop(framework);
                    throw v.failure();
                }
                return;
            }
            Thread.sleep(50);
        }
    }

    private ConfigFiles configFiles() {
        return new ConfigFiles(conf, overrides, Map.of("tollgate.home", home.toString(), "tollgate.data",
                data.toString(), "tollgate.conf", conf.toString()),
                profile == null ? Map.of() : profile.profile().layer());
    }

    /**
     * With a broker (--mqtt or broker.url), the cloud's key must be there: sync would not activate without it (acks
     * are always verified, decisions.md 2026-11-30), and an appliance that logs "started" while its usage never
     * leaves the box is worse than one line and exit 1 now. A named key file that is missing is exit 3.
     */
    void checkSyncConfig() throws ToolException {
        Map<String, String> sync;
        try {
            sync = configFiles().read().getOrDefault(ConfigFiles.SYNC_PID, Map.of());
        } catch (IOException e) {
            throw new ToolException(ExitCodes.IO_ERROR, "cannot read " + conf + ": " + e.getMessage(), e);
        }
        String url = sync.getOrDefault("broker.url", "").trim();
        if (url.isEmpty()) {
            return;
        }
        Path cfg = conf.resolve(ConfigFiles.SYNC_PID + ".cfg");
        String key = sync.getOrDefault("cloud.public.key.file", "").trim();
        if (key.isEmpty()) {
            throw new CommandException("usage would go to " + url + ", but no cloud key is configured and acks must "
                    + "be verified: run bin/tollgate device enroll --billing URL --token T (it sets "
                    + "cloud.public.key.file in " + cfg + "), or give --cloud-key FILE");
        }
        Path file = Paths.get(key);
        String pem;
        try {
            pem = Files.readString(file, StandardCharsets.US_ASCII);
        } catch (IOException e) {
            throw new ToolException(ExitCodes.IO_ERROR, "cannot read the cloud key " + file + " (cloud.public.key.file): "
                    + PathValues.reason(e), e);
        }
        if (!pem.contains("-----BEGIN PUBLIC KEY-----")) {
            throw new ToolException(ExitCodes.IO_ERROR, "the cloud key " + file + " (cloud.public.key.file) holds no "
                    + "\"-----BEGIN PUBLIC KEY-----\" PEM; it is the file tollgate-billing cloud pubkey prints");
        }
    }

    /**
     * A Felix framework that installs no framework extension bundle. Felix 7.0.5 reads {@value #EXTENSIONS_DISABLE}
     * as a system property, once, when its ExtensionManager class loads (so before the first framework is made in
     * this JVM): a bundle with {@code Fragment-Host: system.bundle} (or the framework's own name) is resolved at
     * install, past every resolver hook, and its classes join the framework's class path. Disabled, installing one
     * fails, so none of its code is ever loaded (docs/decisions.md, 2026-11-30 "No framework extensions").
     */
    @SuppressWarnings({"unchecked", "rawtypes"})
    static Framework newFramework(Map<String, String> properties) {
        System.setProperty(EXTENSIONS_DISABLE, "true");
        Map<String, Object> config = new HashMap<>(properties);
        config.put("felix.log.logger", new FrameworkLog());     // Felix takes the logger object itself
        config.putIfAbsent("felix.log.level", "2");              // warnings and errors
        return new FrameworkFactory().newFramework((Map) config);
    }

    /**
     * Fails fast, before any bundle starts, when the HTTP port is taken (usually another Tollgate):
     * an appliance without its endpoint must not look as if it were running.
     */
    static void checkPortIsFree(Map<String, String> endpoint) throws CommandException {
        int port;
        try {
            port = Integer.parseInt(endpoint.getOrDefault("port", "8000"));
        } catch (NumberFormatException e) {
            return; // the endpoint refuses the value, naming the key (exit 12)
        }
        String host = endpoint.getOrDefault("host", "0.0.0.0");
        if (port <= 0 || port > 65535) {
            return; // 0: any free port; out of range: the endpoint refuses it
        }
        try (java.net.ServerSocket s = new java.net.ServerSocket()) {
            s.setReuseAddress(true);
            s.bind(new java.net.InetSocketAddress(host, port));
        } catch (IOException e) {
            throw new CommandException("cannot listen on " + host + ":" + port + " (" + e.getMessage()
                    + "); another process holds the port: stop it, or start with --port N");
        }
    }

    private static Bundle bundle(List<Bundle> installed, String symbolicName) throws CommandException {
        return installed.stream().filter(b -> symbolicName.equals(b.getSymbolicName())).findFirst()
                .orElseThrow(() -> new CommandException(symbolicName + " is missing from system/; the distribution is incomplete"));
    }

    private static void start(Framework framework, Bundle b) throws CommandException {
        try {
            b.start();
        } catch (BundleException e) {
            stop(framework);
            throw new CommandException("bundle " + b.getSymbolicName() + " (" + b.getLocation() + ") did not start: "
                    + e.getMessage(), e);
        }
    }

    private Map<String, String> frameworkProperties() throws IOException {
        Map<String, String> p = new HashMap<>();
        p.put(Constants.FRAMEWORK_STORAGE, data.resolve("felix-cache").toString());
        p.put(Constants.FRAMEWORK_STORAGE_CLEAN, Constants.FRAMEWORK_STORAGE_CLEAN_ONFIRSTINIT);
        p.put(Constants.FRAMEWORK_SYSTEMPACKAGES_EXTRA, String.join(",", SystemPackages.list()));
        p.put(PluginGuard.PLUGINS_PROPERTY, plugins.toString());       // what the plugin guard watches too
        p.put(PluginGuard.VENDORS_PROPERTY, vendors().toString());     // the endpoint's /admin/licenses reads these
        p.put(PluginGuard.LICENSES_PROPERTY, licenses.stream().map(Path::toString)
                .collect(Collectors.joining(File.pathSeparator)));
        p.put("tollgate.home", home.toString());
        p.put("tollgate.data", data.toString());
        p.put("tollgate.conf", conf.toString());
        return p;
    }

    static List<Path> listJars(Path dir) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.filter(f -> f.getFileName().toString().endsWith(".jar")).sorted().collect(Collectors.toList());
        }
    }

    private static void stop(Framework framework) {
        if (framework.getState() != Bundle.ACTIVE && framework.getState() != Bundle.STARTING) {
            return;
        }
        LOG.info("Tollgate stopping: draining requests and closing models");
        try {
            framework.stop();
            FrameworkEvent e = framework.waitForStop(STOP_TIMEOUT_MS);
            if (e.getType() == FrameworkEvent.WAIT_TIMEDOUT) {
                LOG.error("framework did not stop within {} ms", STOP_TIMEOUT_MS);
            } else {
                LOG.info("Tollgate stopped ({})", describe(e));
            }
        } catch (BundleException | InterruptedException e) {
            LOG.error("framework stop failed", e);
            if (e instanceof InterruptedException) {
                Thread.currentThread().interrupt();
            }
        }
    }

    private static String describe(FrameworkEvent e) {
        switch (e.getType()) {
            case FrameworkEvent.STOPPED: return "stopped";
            case FrameworkEvent.STOPPED_UPDATE: return "stopped for update";
            case FrameworkEvent.STOPPED_SYSTEM_REFRESHED: return "stopped to refresh the system bundle, as for a new framework extension";
            case FrameworkEvent.ERROR: return "error: " + e.getThrowable();
            default: return "event " + e.getType();
        }
    }

    Path home() {
        return home;
    }

    File pluginsDir() {
        return plugins.toFile();
    }
}
