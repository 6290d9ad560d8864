package io.tollgate.runtime;

import io.tollgate.guard.PluginCodeRule;
import io.tollgate.guard.PluginFile;
import io.tollgate.guard.PluginFileReport;
import io.tollgate.guard.PluginVerdict;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;
import java.util.jar.Attributes;
import java.util.jar.JarFile;
import java.util.jar.Manifest;
import java.util.stream.Stream;
import java.util.zip.ZipException;
import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;
import org.osgi.framework.BundleException;
import org.osgi.framework.Constants;
import org.osgi.framework.FrameworkEvent;
import org.osgi.framework.FrameworkListener;
import org.osgi.framework.ServiceRegistration;
import org.osgi.framework.wiring.FrameworkWiring;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Installs, upgrades and uninstalls the jars of the plugins folder, with a gate in front (docs/decisions.md,
 * 2026-11-30 "The plugin folder gate"): a file is taken only once its size and modification time have not changed
 * for {@link #STABLE_MS} and a copy of it opens as a complete jar whose manifest names a bundle that provides a
 * {@code tollgate.model} capability. Until then the version installed from the same file, if any, is not touched:
 * it keeps serving while {@code scp} or {@code rsync --inplace} writes the new one. A file that is refused is listed
 * by {@link #files()} (so in {@code /admin/plugins}) and logged once at WARN per content.
 *
 * <p>The bundle is installed from a copy taken after the checks, so the framework gets the bytes that passed them,
 * whatever happens to the file afterwards. Locations are the file's URI ({@code file:/opt/tollgate/plugins/x.jar}).
 * Files whose names start with a dot are ignored (editors' and copy tools' temporaries).
 *
 * <p>Threads: {@link #installPresent} on the launcher's thread before the framework's other bundles start; then one
 * {@code tollgate-plugin-folder} thread polls every {@link #POLL_MS}. Every method that touches the files' state is
 * synchronized; {@link #files()} returns a snapshot.
 */
final class PluginFolderGate implements PluginFileReport {
    private static final Logger LOG = LoggerFactory.getLogger(PluginFolderGate.class);
    static final long POLL_MS = 1_000;
    /** The longest wait before another attempt to take a file whose copy failed (the wait doubles from POLL_MS). */
    static final long MAX_RETRY_MS = 60_000;
    /** How long a file must stay unchanged (size and modification time) before it is taken. */
    static final long STABLE_MS = 2_000;
    private static final long REFRESH_TIMEOUT_MS = 30_000;

    private final BundleContext context;
    private final Path folder;
    private final Path work;
    private final LongSupplier clock;
    private final Map<Path, Tracked> tracked = new HashMap<>();
    private ScheduledExecutorService poller;
    private ServiceRegistration<PluginFileReport> registration;
    /** True until {@link #installPresent} is done: files found then are taken without a stability wait. */
    private boolean atStart = true;
    /** What {@link #files()} answers: replaced after every change, so readers never wait for an install. */
    private volatile List<PluginFile> snapshot = List.of();

    /** What the gate knows about one file. */
    private static final class Tracked {
        final Path file;
        long size = -1;
        long modified = -1;
        long changedAt;
        /** The size and time of the content last judged (installed or refused), or -1. */
        long judgedSize = -1;
        long judgedModified = -1;
        Bundle bundle;
        PluginFile problem;
        /** Failed attempts to take the content now in the file (reset when it changes or is taken), and when to try next. */
        int failures;
        long retryAt;
        /** The last failure to take it ({@code toString} of the exception), logged once; null after a success. */
        String failure;

        Tracked(Path file) {
            this.file = file;
        }

        boolean judged() {
            return size == judgedSize && modified == judgedModified;
        }
    }

    /**
     * @param context the system bundle's context
     * @param folder  the plugins folder
     * @param work    a private folder for the copies it installs from
     * @param clock   milliseconds, monotonic
     */
    PluginFolderGate(BundleContext context, Path folder, Path work, LongSupplier clock) {
        this.context = context;
        this.folder = folder;
        this.work = work;
        this.clock = clock;
    }

    /** Installs and starts every acceptable jar now in the folder (at start-up: no stability wait) and registers the report. */
    synchronized void installPresent() throws IOException {
        Files.createDirectories(work);
        long now = clock.getAsLong();
        for (Path file : jars()) {
            Tracked t = new Tracked(file);
            tracked.put(file, t);
            if (observe(t, now)) {
                take(t);
            }
        }
        atStart = false;
        publish();
        registration = context.registerService(PluginFileReport.class, this, null);
    }

    /** Polls the folder every {@link #POLL_MS} on its own thread. */
    synchronized void watch() {
        poller = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "tollgate-plugin-folder");
            t.setDaemon(true);
            return t;
        });
        poller.scheduleWithFixedDelay(this::tick, POLL_MS, POLL_MS, TimeUnit.MILLISECONDS);
    }

    /** What one tick of the watch did. */
    enum Tick {
        /** The folder was read (and acted on). */
        POLLED,
        /** The framework has stopped or is stopping: the watch ended, without a word (its bundles stay as they are). */
        CLOSED,
        /** Reading or acting on the folder failed while the framework runs: logged, the next tick tries again. */
        FAILED
    }

    /**
     * One tick of the watch ({@link #watch()}'s thread; tests call it directly). The framework stopping is no failure:
     * the system bundle's context then throws {@link IllegalStateException} (Felix: "Invalid BundleContext"), and a
     * poll cut short by the stop is not logged either; any other failure is, and the watch goes on.
     */
    Tick tick() {
        if (!frameworkActive()) {
            close();
            return Tick.CLOSED;
        }
        try {
            poll();
            return Tick.POLLED;
        } catch (RuntimeException | IOException e) {
            if (!frameworkActive()) {
                close();
                return Tick.CLOSED;
            }
            LOG.warn("reading the plugins folder {} failed: {}", folder, e.toString());
            return Tick.FAILED;
        }
    }

    private boolean frameworkActive() {
        try {
            Bundle framework = context.getBundle(0);
            return framework != null && framework.getState() == Bundle.ACTIVE;
        } catch (IllegalStateException e) {
            return false;       // the system bundle's context is no longer valid: the framework has stopped
        }
    }

    /** True while {@link #watch()}'s thread polls (for tests). */
    synchronized boolean watching() {
        return poller != null && !poller.isShutdown();
    }

    /** Stops watching (the framework is stopping: its bundles stay as they are). */
    void close() {
        ScheduledExecutorService p;
        synchronized (this) {
            p = poller;
            poller = null;
        }
        if (p != null) {
            p.shutdown();
        }
        try {
            if (registration != null) {
                registration.unregister();
            }
        } catch (IllegalStateException e) {
            // gone with the framework
        }
    }

    @Override
    public List<PluginFile> files() {
        return snapshot;
    }

    private void publish() {
        List<PluginFile> out = new ArrayList<>();
        for (Tracked t : tracked.values()) {
            if (t.problem != null) {
                out.add(t.problem);
            }
        }
        out.sort(Comparator.comparing(PluginFile::fileName));
        snapshot = List.copyOf(out);
    }

    /** One look at the folder: uninstalls what was deleted, takes what has settled. */
    synchronized void poll() throws IOException {
        long now = clock.getAsLong();
        List<Path> present = jars();
        for (Tracked t : new ArrayList<>(tracked.values())) {
            if (!present.contains(t.file)) {
                tracked.remove(t.file);
                uninstall(t);
            }
        }
        for (Path file : present) {
            Tracked t = tracked.computeIfAbsent(file, Tracked::new);
            if (observe(t, now)) {
                take(t);
            }
            publish();
        }
        publish();
    }

    /**
     * Looks at the file's size and time; true when content not judged yet has been unchanged for
     * {@link #STABLE_MS} (or at once when {@code t} is new and the gate starts up).
     */
    private boolean observe(Tracked t, long now) throws IOException {
        BasicFileAttributes a;
        try {
            a = Files.readAttributes(t.file, BasicFileAttributes.class);
        } catch (NoSuchFileException e) {
            return false;       // deleted meanwhile: the next poll uninstalls
        }
        long size = a.size();
        long modified = a.lastModifiedTime().toMillis();
        boolean first = t.size < 0;
        if (size != t.size || modified != t.modified) {
            t.size = size;
            t.modified = modified;
            t.changedAt = now;
            t.failures = 0;
            t.retryAt = 0;
            if (!first || !atStart) {
                if (!t.judged()) {
                    t.problem = new PluginFile(name(t), location(t.file), "", "", true, "being written (" + size
                            + " bytes so far); it is taken once it has not changed for " + STABLE_MS + " ms"
                            + (t.bundle == null ? "" : ", and until then the version installed from it serves on"));
                }
                return false;
            }
        }
        return !t.judged() && now >= t.retryAt && (atStart || now - t.changedAt >= STABLE_MS);
    }

    /**
     * {@link #judge}s the file; when reading or copying it fails (the private copy folder is unusable, the disk is full,
     * an I/O error), the file stays unjudged, so that every poll tries it again, and is reported (and logged once per
     * distinct reason) instead of being left in the folder, silently never installed.
     */
    private void take(Tracked t) {
        try {
            judge(t);
            t.failures = 0;
            t.retryAt = 0;
            t.failure = null;
        } catch (IOException | RuntimeException e) {
            t.judgedSize = -1;
            // each attempt may copy the whole jar (onto a full disk, up to what is free): the wait doubles, to a minute
            long wait = Math.min(MAX_RETRY_MS, POLL_MS << Math.min(t.failures, 6));
            t.failures++;
            t.retryAt = clock.getAsLong() + wait;
            String line = "plugins folder: " + name(t) + " is not installed yet: taking it failed (" + e
                    + "); it is tried again in " + wait / 1000 + " s (each failure doubles the wait, up to "
                    + MAX_RETRY_MS / 1000 + " s; a change of the file at once)"
                    + (t.bundle == null ? "" : ", and until then the version installed from it before serves on");
            if (!e.toString().equals(t.failure)) {
                LOG.warn("{}", line);       // once per reason, not at every retry
            }
            t.failure = e.toString();
            t.problem = new PluginFile(name(t), location(t.file), "", "", false, line);
        }
    }

    /** Checks a copy of the file and installs or updates from it; a refusal is kept and logged once. */
    private void judge(Tracked t) throws IOException {
        t.judgedSize = t.size;
        t.judgedModified = t.modified;
        Path copy = Files.createTempFile(work, "plugin-", ".jar");
        try {
            try {
                Files.copy(t.file, copy, StandardCopyOption.REPLACE_EXISTING);
            } catch (NoSuchFileException e) {
                return;
            }
            if (Files.size(copy) != t.size) {
                t.judgedSize = -1;      // changed while we copied: judge again once it settles
                return;
            }
            Manifest manifest;
            try {
                manifest = check(copy);
            } catch (Refusal r) {
                refuse(t, r.symbolicName, r.version, r.getMessage());
                return;
            }
            install(t, copy, manifest);
        } finally {
            Files.deleteIfExists(copy);
        }
    }

    private void install(Tracked t, Path copy, Manifest manifest) {
        Attributes main = manifest.getMainAttributes();
        String bsn = String.valueOf(main.getValue(Constants.BUNDLE_SYMBOLICNAME)).split(";")[0].trim();
        String version = main.getValue(Constants.BUNDLE_VERSION) == null ? "" : main.getValue(Constants.BUNDLE_VERSION).trim();
        try (InputStream in = Files.newInputStream(copy)) {
            Bundle existing = t.bundle != null && t.bundle.getState() != Bundle.UNINSTALLED ? t.bundle
                    : context.getBundle(location(t.file));
            if (existing == null) {
                t.bundle = context.installBundle(location(t.file), in);
                LOG.info("installed {} ({} {}) from the plugins folder", name(t), bsn, version);
            } else {
                t.bundle = existing;
                existing.update(in);
                refresh(existing);
                LOG.info("updated {} ({} {}) from the plugins folder", name(t), bsn, version);
            }
            t.problem = null;
        } catch (BundleException | IOException | RuntimeException e) {
            refuse(t, bsn, version, "the framework refused to install it: " + e.getMessage());
            return;
        }
        try {
            t.bundle.start();
        } catch (BundleException | IllegalStateException e) {
            // The plugin guard or the resolver said why (logged once); the serving extender reports it.
            LOG.debug("{} did not start: {}", name(t), e.getMessage());
        }
    }

    private void refuse(Tracked t, String symbolicName, String version, String reason) {
        String line = "plugins folder: " + name(t) + " is not installed: " + reason
                + (t.bundle == null ? "" : "; the version installed from it before serves on");
        t.problem = new PluginFile(name(t), location(t.file), symbolicName, version, false, line);
        LOG.warn("{}", line);
    }

    private void uninstall(Tracked t) {
        Bundle b = t.bundle != null ? t.bundle : context.getBundle(location(t.file));
        if (b == null || b.getState() == Bundle.UNINSTALLED) {
            return;
        }
        try {
            b.uninstall();
            refresh(b);
            LOG.info("uninstalled {}: its file was removed from the plugins folder", name(t));
        } catch (BundleException | IllegalStateException e) {
            LOG.warn("uninstalling {} failed: {}", name(t), e.getMessage());
        }
    }

    /** Lets the framework drop the old revision, as fileinstall did; waits (bounded) for it. */
    private void refresh(Bundle bundle) {
        FrameworkWiring wiring = context.getBundle(0).adapt(FrameworkWiring.class);
        CountDownLatch done = new CountDownLatch(1);
        FrameworkListener listener = event -> {
            if (event.getType() == FrameworkEvent.PACKAGES_REFRESHED || event.getType() == FrameworkEvent.ERROR) {
                done.countDown();
            }
        };
        wiring.refreshBundles(List.of(bundle), listener);
        try {
            if (!done.await(REFRESH_TIMEOUT_MS, TimeUnit.MILLISECONDS)) {
                LOG.warn("the framework did not refresh {} within {} ms", bundle.getLocation(), REFRESH_TIMEOUT_MS);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Why a jar is not taken. */
    static final class Refusal extends Exception {
        final String symbolicName;
        final String version;

        Refusal(String message, String symbolicName, String version) {
            super(message);
            this.symbolicName = symbolicName;
            this.version = version;
        }
    }

    /**
     * The checks of the gate on a settled file: a complete zip (its central directory is there and every entry it
     * lists lies inside the file), with a manifest naming a bundle, that declares a {@code tollgate.model}
     * capability. Code and other declarations are the plugin guard's business (the file is installed, never
     * resolved, and {@code /admin/plugins} says why), so the appliance reports them as it always did.
     *
     * @return the manifest
     * @throws Refusal with the reason
     */
    static Manifest check(Path jar) throws Refusal, IOException {
        long size = Files.size(jar);
        if (size == 0) {
            throw new Refusal("the file is empty (0 bytes): a copy that has not started or failed; copy the plugin"
                    + " again", "", "");
        }
        Manifest manifest;
        List<String> entries = new ArrayList<>();
        try (JarFile file = new JarFile(jar.toFile(), false)) {
            manifest = file.getManifest();
            file.stream().forEach(e -> entries.add(e.getName()));
        } catch (ZipException e) {
            throw new Refusal("it is not a complete jar (" + e.getMessage() + ", " + size + " bytes): truncated,"
                    + " or still being copied; copy it again, ideally beside the folder and then mv into it", "", "");
        } catch (IOException | SecurityException e) {
            throw new Refusal("it cannot be read as a jar (" + e + ")", "", "");
        }
        if (manifest == null) {
            throw new Refusal("it has no META-INF/MANIFEST.MF: it is no bundle, and only model plugins (made by"
                    + " 'bin/tollgate plugin pack') belong in the plugins folder", "", "");
        }
        Attributes main = manifest.getMainAttributes();
        String bsn = main.getValue(Constants.BUNDLE_SYMBOLICNAME);
        String version = main.getValue(Constants.BUNDLE_VERSION);
        String shownName = bsn == null ? "" : bsn.split(";")[0].trim();
        String shownVersion = version == null ? "" : version.trim();
        Map<String, String> headers = new HashMap<>();
        main.forEach((k, v) -> headers.put(k.toString(), String.valueOf(v)));
        if (bsn == null || bsn.isBlank()) {
            throw new Refusal("its manifest names no Bundle-SymbolicName: it is no bundle, and only model plugins"
                    + " (made by 'bin/tollgate plugin pack') belong in the plugins folder", shownName, shownVersion);
        }
        if (!PluginCodeRule.declaresModel(headers)) {
            PluginVerdict verdict = PluginCodeRule.check(headers, entries, true);
            throw new Refusal(shownName + " " + shownVersion + " is refused: " + verdict.reason()
                    + "; it was not installed, so none of its code runs", shownName, shownVersion);
        }
        return manifest;
    }

    private List<Path> jars() throws IOException {
        if (!Files.isDirectory(folder)) {
            return List.of();
        }
        try (Stream<Path> s = Files.list(folder)) {
            return s.filter(f -> {
                String n = f.getFileName().toString();
                return n.endsWith(".jar") && !n.startsWith(".") && !Files.isDirectory(f);
            }).sorted().toList();
        }
    }

    private static String name(Tracked t) {
        return t.file.getFileName().toString();
    }

    /** The bundle location of a file of the folder: its URI, as fileinstall made it. */
    static String location(Path file) {
        return file.toAbsolutePath().normalize().toFile().toURI().toString();
    }
}
