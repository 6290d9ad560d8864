package io.tollgate.guard;

import io.tollgate.licensing.Entitlement;
import io.tollgate.licensing.Entitlements;
import io.tollgate.licensing.License;
import io.tollgate.licensing.LicenseException;
import io.tollgate.licensing.LicenseFiles;
import io.tollgate.licensing.LicenseRules;
import io.tollgate.licensing.Pem;
import io.tollgate.licensing.Refusal;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.security.PublicKey;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The box's licensing state (issue 10; docs/licensing.md, "On the appliance"): the trusted vendors
 * ({@code conf/vendors/*.pem}), the license files and revocation lists of the licenses folders ({@code *.lic},
 * {@code *.revocations}), the device's id and public key ({@code data/device/device.id}, {@code device.pub.pem}),
 * and the signature evidence the {@link PluginResolverHook} took on each installed plugin. It is the one
 * {@link Entitlements} service of the framework ({@link PluginGuard#register(org.osgi.framework.BundleContext, LicenseStore)}).
 *
 * <p>Files are read by {@link #reload()}; {@link #watch()} polls the folders every {@link #POLL_MS} and reloads once a
 * change has stood still for {@link #STABLE_MS} (a file being copied is not read half-written), and it also notices
 * a license crossing its not-before or expiry instant. After a reload that changed anything, or such a crossing, the
 * listeners run on the polling thread ({@code tollgate-licenses}). A file that cannot be used (bad signature, unknown
 * vendor, malformed) is logged once per content at WARN and listed by {@link #refusedFiles()}.
 *
 * <p>{@link #check} is a map lookup and a comparison of instants; the decisions are cached until the next reload.
 *
 * @since 1.3
 */
public final class LicenseStore implements Entitlements {
    private static final Logger LOG = LoggerFactory.getLogger(LicenseStore.class);
    /** How often {@link #watch()} looks at the folders, in milliseconds. */
    public static final long POLL_MS = 1_000;
    /** How long a folder's files must stay unchanged before they are read, in milliseconds. */
    public static final long STABLE_MS = 2_000;
    /** File names in {@code data/device}. */
    static final String DEVICE_ID_FILE = "device.id";
    static final String DEVICE_PUBLIC_FILE = "device.pub.pem";

    private final Path vendorsFolder;
    private final List<Path> licenseFolders;
    private final Path deviceFolder;
    private final Clock clock;
    private final List<Runnable> listeners = new CopyOnWriteArrayList<>();

    /** What the last reload read; replaced as a whole. */
    private volatile State state = State.EMPTY;
    /**
     * The key that signed each plugin version (by {@link #key}) the first time one was entitled: while the appliance
     * runs, another signer's jar of the same name and version is refused ({@link Refusal#OTHER_SIGNER}).
     */
    private final Map<String, String> firstEntitledSigner = new java.util.concurrent.ConcurrentHashMap<>();

    /** The signature evidence of each plugin version the hook judged, by {@link #key}. */
    private final Map<String, Evidence> installed = new ConcurrentHashMap<>();
    /** Decisions by {@link #key}, valid until the next reload. */
    private final Map<String, Entitlement> decisions = new ConcurrentHashMap<>();
    /** Files already logged as refused (file and content), so each is logged once. */
    private final Set<String> logged = ConcurrentHashMap.newKeySet();

    private ScheduledExecutorService poller;
    /** Folder contents seen at the last poll, when they last changed, and the contents last read. */
    private Map<Path, String> seen = Map.of();
    private long seenAt;
    private Map<Path, String> read = Map.of();
    /** Each license's validity at the last poll, to notice a crossing. */
    private Map<String, String> validityAtLastPoll = Map.of();

    /** The signature evidence on one installed plugin version. */
    record Evidence(boolean carriesCode, String signer, LicenseException signatureFailure) {
    }

    /** What one reload read. */
    record State(Map<String, PublicKey> vendors, Map<String, String> vendorNames, List<License> licenses,
                 Set<String> revoked /* vendorKey/licenseId pairs */, List<String> refusedFiles, String deviceId, String deviceKey) {
        static final State EMPTY = new State(Map.of(), Map.of(), List.of(), Set.of(), List.of(), "", "");
    }

    /**
     * @param vendorsFolder  {@code conf/vendors}: one Ed25519 public key (PEM) per file, the file name (without
     *                       {@code .pem}) is the vendor's display name; may be missing (no vendor is trusted)
     * @param licenseFolders the folders holding {@code *.lic} and {@code *.revocations} files; any may be missing
     * @param deviceFolder   {@code data/device} ({@code device.id}, {@code device.pub.pem}); may be missing until the
     *                       device key is made on the first start, then only unbound licenses apply
     * @param clock          wall-clock time for the decisions
     */
    public LicenseStore(Path vendorsFolder, List<Path> licenseFolders, Path deviceFolder, Clock clock) {
        this.vendorsFolder = vendorsFolder;
        this.licenseFolders = List.copyOf(licenseFolders);
        this.deviceFolder = deviceFolder;
        this.clock = Objects.requireNonNull(clock, "clock");
    }

    /** The folders it reads licenses from, the first being where new licenses are written. */
    public List<Path> licenseFolders() {
        return licenseFolders;
    }

    /** {@code conf/vendors}. */
    public Path vendorsFolder() {
        return vendorsFolder;
    }

    /** The trusted vendors now: fingerprint to key. */
    public Map<String, PublicKey> trustedVendors() {
        return state.vendors();
    }

    /** The display name of a trusted vendor key (its file name), or the fingerprint when it is not trusted. */
    public String vendorName(String fingerprint) {
        return state.vendorNames().getOrDefault(fingerprint, fingerprint);
    }

    /** This device's id ({@code ""} before the device key exists). */
    public String deviceId() {
        return state.deviceId();
    }

    /** The fingerprint of this device's public key ({@code ""} before the device key exists). */
    public String deviceKey() {
        return state.deviceKey();
    }

    /** True when a license of this id is in a revocation list of the license's own vendor. */
    public boolean revoked(String licenseId) {
        State s = state;
        return s.licenses().stream().anyMatch(l -> l.id().equals(licenseId) && s.revoked().contains(revocationKey(l)));
    }

    /** The key of {@link State#revoked}: a revocation list revokes ids of its own vendor key only. */
    static String revocationKey(License l) {
        return l.vendorKey() + "/" + l.id();
    }

    /**
     * Reads every folder now (vendors first: licenses verify against them) and, when that changed what it knows,
     * drops the cached decisions and runs the listeners on the calling thread.
     *
     * @return true when anything changed
     */
    public boolean reload() {
        State next = readState();
        boolean changed;
        synchronized (this) {
            changed = !next.equals(state);
            state = next;
            read = contents();
            seen = read;
            decisions.clear();
        }
        if (changed) {
            LOG.info("licenses: {} trusted vendor{}, {} license{} ({} refused file{}), {} revoked; device {}",
                    next.vendors().size(), next.vendors().size() == 1 ? "" : "s", next.licenses().size(),
                    next.licenses().size() == 1 ? "" : "s", next.refusedFiles().size(),
                    next.refusedFiles().size() == 1 ? "" : "s", next.revoked().size(),
                    next.deviceId().isEmpty() ? "(no device key yet)" : next.deviceId());
            fire();
        }
        return changed;
    }

    /** Polls the folders every {@link #POLL_MS} on a daemon thread {@code tollgate-licenses}, until {@link #close()}. */
    public synchronized void watch() {
        if (poller != null) {
            return;
        }
        poller = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "tollgate-licenses");
            t.setDaemon(true);
            return t;
        });
        poller.scheduleWithFixedDelay(() -> {
            try {
                poll(System.nanoTime() / 1_000_000);
            } catch (RuntimeException e) {
                LOG.warn("reading the licenses failed: {}", e.toString());
            }
        }, POLL_MS, POLL_MS, TimeUnit.MILLISECONDS);
    }

    /** Stops watching. */
    public void close() {
        ScheduledExecutorService p;
        synchronized (this) {
            p = poller;
            poller = null;
        }
        if (p != null) {
            p.shutdownNow();
        }
    }

    /**
     * One look at the folders (what {@link #watch()} runs): reloads when their files changed and then stood still for
     * {@link #STABLE_MS}; runs the listeners when a license crossed its not-before or expiry instant.
     *
     * @param monotonicMillis a monotonic clock, milliseconds
     */
    void poll(long monotonicMillis) {
        Map<Path, String> now = contents();
        boolean reload = false;
        synchronized (this) {
            if (!now.equals(seen)) {
                seen = now;
                seenAt = monotonicMillis;
            } else if (!now.equals(read) && monotonicMillis - seenAt >= STABLE_MS) {
                reload = true;
            }
        }
        if (reload) {
            reload();
        }
        Map<String, String> validity = validity(state.licenses(), clock.instant());
        boolean crossed;
        synchronized (this) {
            crossed = !reload && validity.entrySet().stream().anyMatch(e -> validityAtLastPoll.containsKey(e.getKey())
                    && !validityAtLastPoll.get(e.getKey()).equals(e.getValue()));
            validityAtLastPoll = validity;
        }
        if (crossed) {
            LOG.info("licenses: a license became valid or expired; deciding again");
            decisions.clear();
            fire();
        }
    }

    private static Map<String, String> validity(List<License> licenses, Instant now) {
        Map<String, String> out = new HashMap<>();
        for (License l : licenses) {
            out.put(l.id(), LicenseRules.validity(l, now).map(Refusal::name).orElse("VALID"));
        }
        return out;
    }

    private void fire() {
        for (Runnable l : listeners) {
            try {
                l.run();
            } catch (RuntimeException e) {
                LOG.warn("a licensing listener failed: {}", e.toString(), e);
            }
        }
    }

    /**
     * The decision for an installed plugin version, which the hook calls when it judges a revision; the evidence is
     * kept for {@link #check}.
     *
     * @param plugin           plugin (model) name
     * @param version          plugin version (OSGi syntax)
     * @param carriesCode      whether the plugin carries code (then only a license that allows code entitles it)
     * @param signer           fingerprint of the key that signed every entry, or null when the signature failed
     * @param signatureFailure why the signature failed (UNSIGNED, TAMPERED), or null when {@code signer} is given
     */
    public Entitlement decide(String plugin, String version, boolean carriesCode, String signer,
                              LicenseException signatureFailure) {
        if ((signer == null) == (signatureFailure == null)) {
            throw new IllegalArgumentException("exactly one of signer and signatureFailure");
        }
        Evidence e = new Evidence(carriesCode, signer, signatureFailure);
        String key = key(plugin, version);
        Instant now = clock.instant();
        Entitlement d = decide(plugin, version, e, now);
        String first = firstEntitledSigner.get(key);
        if (d.entitled() && first != null && !first.equals(signer)) {
            // A name and version keeps its first signer while the appliance runs: otherwise a copy re-signed with the
            // owner's own key (and licensed by it) would become the evidence the serving revision is checked and
            // billed against, and the vendor's revision would go on serving after its own license ended.
            return Entitlement.refused(plugin, version, Refusal.OTHER_SIGNER, Refusal.OTHER_SIGNER.words()
                    + ": plugin " + plugin + " " + version + " is already installed signed by vendor "
                    + vendorLabel(first) + "; this jar is signed by " + vendorLabel(signer)
                    + ". Remove one of the two jars from plugins/ and restart the appliance, or give the new plugin"
                    + " another version");
        }
        synchronized (installed) {
            Evidence before = installed.get(key);
            // A refused jar that declares the same model name and version (an impostor, a tampered copy) must not
            // shadow the entitled one that serves: entitled evidence is kept until it is no longer entitled.
            if (d.entitled() || before == null || !decide(plugin, version, before, now).entitled()) {
                installed.put(key, e);
                decisions.put(key, d);
            }
            if (d.entitled()) {
                firstEntitledSigner.putIfAbsent(key, signer);
            }
        }
        return d;
    }

    private Entitlement decide(String plugin, String version, Evidence e, Instant now) {
        if (e.signatureFailure() != null) {
            Refusal r = e.signatureFailure().refusal();
            return Entitlement.refused(plugin, version, r, reason(e.signatureFailure()));
        }
        State s = state;
        // the ids the plugin's own vendor revoked (decide only considers that vendor's licenses)
        String prefix = e.signer() + "/";
        Set<String> revoked = new HashSet<>();
        for (String k : s.revoked()) {
            if (k.startsWith(prefix)) {
                revoked.add(k.substring(prefix.length()));
            }
        }
        return LicenseRules.decide(plugin, version, e.carriesCode(), e.signer(), s.vendors().keySet(), s.licenses(),
                revoked, s.deviceId(), s.deviceKey(), now);
    }

    @Override
    public Entitlement check(String plugin, String version, long nowMillis) {
        String key = key(plugin, version);
        Entitlement d = decisions.get(key);
        Instant now = Instant.ofEpochMilli(nowMillis);
        if (d != null && d.entitled() && LicenseRules.validity(d.license().get(), now).isEmpty()) {
            return d;
        }
        Evidence e = installed.get(key);
        if (e == null) {
            return Entitlement.refused(plugin, version, Refusal.UNSIGNED, Refusal.UNSIGNED.words() + ": plugin "
                    + plugin + " " + version + " was not installed through the plugin guard, so its signature was"
                    + " never verified");
        }
        d = decide(plugin, version, e, now);
        decisions.put(key, d);
        return d;
    }

    /** A vendor key as people read it: its configured name and fingerprint prefix. */
    private String vendorLabel(String fingerprint) {
        String name = state.vendorNames().get(fingerprint);
        String shortPrint = fingerprint.substring(0, Math.min(16, fingerprint.length()));
        return name == null ? "key " + shortPrint : name + " (key " + shortPrint + ")";
    }

    /** Forgets a plugin version's evidence (its bundle was uninstalled). */
    void forget(String plugin, String version) {
        installed.remove(key(plugin, version));
        decisions.remove(key(plugin, version));
    }

    private static String key(String plugin, String version) {
        return plugin + " " + version;
    }

    /**
     * The key of an entitled plugin version's encrypted model (docs/licensing.md, "Encrypted models"): the model key
     * with {@code keyId} in the license that entitles the version now, unwrapped with this device's wrap key
     * ({@link DeviceWrapKey}). Read from disk on each call (a model load, not a request), kept nowhere.
     */
    @Override
    public byte[] modelKey(String plugin, String version, String keyId) throws LicenseException {
        Entitlement d = check(plugin, version, clock.millis());
        if (!d.entitled()) {
            throw new LicenseException(d.refusal().get(), d.reason());
        }
        License l = d.license().get();
        io.tollgate.licensing.ModelKey mk = l.modelKey(keyId).orElse(null);
        if (mk == null) {
            throw new LicenseException(Refusal.NO_MODEL_KEY, Refusal.NO_MODEL_KEY.words() + ": plugin " + plugin + " "
                    + version + " is encrypted with model key " + keyId + ", and license " + l.id() + " (" + l.vendor()
                    + ") that entitles it carries no key with that id; ask the vendor for a license with the model"
                    + " key, wrapped for this device (bin/tollgate device wrap-key prints its wrap key)");
        }
        if (deviceFolder == null) {
            throw new LicenseException(Refusal.NO_MODEL_KEY, Refusal.NO_MODEL_KEY.words() + ": this appliance has no"
                    + " device folder, so no wrap key to open model key " + keyId + " with");
        }
        java.security.KeyPair wrap;
        try {
            wrap = DeviceWrapKey.read(deviceFolder);
        } catch (IOException | RuntimeException e) {
            throw new LicenseException(Refusal.NO_MODEL_KEY, Refusal.NO_MODEL_KEY.words() + ": this device's wrap key"
                    + " cannot be read (" + message(e) + "), so model key " + keyId + " of license " + l.id()
                    + " cannot be opened; it is made on the first start (" + deviceFolder + "/"
                    + io.tollgate.licensing.wrap.ModelKeyWrap.PRIVATE_FILE + ")");
        }
        String mine = Pem.fingerprint(wrap.getPublic());
        if (!mk.wrapKey().equals(mine)) {
            throw new LicenseException(Refusal.WRONG_DEVICE, Refusal.WRONG_DEVICE.words() + ": model key " + keyId
                    + " in license " + l.id() + " is wrapped for wrap key " + mk.wrapKey() + ", and this device's"
                    + " wrap key is " + mine + "; send this box's wrap key (bin/tollgate device wrap-key) to the vendor"
                    + " for a license made for it");
        }
        try {
            return io.tollgate.licensing.wrap.ModelKeyWrap.unwrap(wrap, l.id(), keyId, mk.wrapped());
        } catch (LinkageError e) {
            // bin/tollgate puts bcprov on the launcher's class path; a launcher started otherwise may lack it
            throw new LicenseException(Refusal.NO_MODEL_KEY, Refusal.NO_MODEL_KEY.words() + ": model key " + keyId
                    + " cannot be unwrapped: BouncyCastle (bcprov) is not on the launcher's class path (" + e + ")");
        }
    }

    @Override
    public List<License> licenses() {
        return state.licenses();
    }

    @Override
    public List<String> refusedFiles() {
        return state.refusedFiles();
    }

    @Override
    public void addListener(Runnable listener) {
        Objects.requireNonNull(listener, "listener");
        synchronized (listeners) {
            if (!listeners.contains(listener)) {
                listeners.add(listener);
            }
        }
    }

    @Override
    public void removeListener(Runnable listener) {
        listeners.remove(listener);
    }

    // ---------------------------------------------------------------- reading the folders

    private State readState() {
        List<String> refused = new ArrayList<>();
        Map<String, PublicKey> vendors = new LinkedHashMap<>();
        Map<String, String> names = new LinkedHashMap<>();
        for (Path f : files(vendorsFolder, ".pem")) {
            try {
                PublicKey key = Pem.readPublicKey(f);
                String fp = Pem.fingerprint(key);
                String name = stem(f, ".pem");
                vendors.putIfAbsent(fp, key);
                names.putIfAbsent(fp, name);
            } catch (IOException | RuntimeException e) {
                refuse(refused, f, "not a trusted vendor key: " + message(e));
            }
        }
        vendors = Collections.unmodifiableMap(vendors);
        // Licenses by vendor key and id: a license id is the vendor's, so another trusted vendor's file that reuses
        // it (by accident or on purpose) neither shadows nor displaces this one.
        Map<String, License> licenses = new TreeMap<>();
        // Revoked (vendor key, license id) pairs: a list revokes only licenses of the key that signed it.
        Set<String> revokedKeys = new HashSet<>();
        Path archive = revocationArchive();
        List<Path> revocationFolders = new ArrayList<>(licenseFolders);
        if (archive != null) {
            revocationFolders.add(archive);
        }
        for (Path folder : revocationFolders) {
            for (Path f : files(folder, ".revocations")) {
                try {
                    byte[] bytes = Files.readAllBytes(f);
                    LicenseFiles.Revocations list = LicenseFiles.revocationList(bytes, vendors);
                    for (String id : list.revoked()) {
                        revokedKeys.add(list.vendorKey() + "/" + id);
                    }
                    if (archive != null && !folder.equals(archive)) {
                        keep(archive, bytes);
                    }
                } catch (LicenseException e) {
                    refuse(refused, f, reason(e));
                } catch (IOException | RuntimeException e) {
                    refuse(refused, f, "cannot be read: " + message(e));
                }
            }
        }
        for (Path folder : licenseFolders) {
            for (Path f : files(folder, ".lic")) {
                try {
                    License l = LicenseFiles.read(Files.readAllBytes(f), vendors);
                    License before = licenses.putIfAbsent(l.vendorKey() + "/" + l.id(), l);
                    if (before != null && !before.equals(l)) {
                        refuse(refused, f, "license " + l.id() + " is in another file already, with other terms");
                    }
                } catch (LicenseException e) {
                    refuse(refused, f, reason(e));
                } catch (IOException | RuntimeException e) {
                    refuse(refused, f, "cannot be read: " + message(e));
                }
            }
        }
        String deviceId = "";
        String deviceKey = "";
        if (deviceFolder != null) {
            try {
                Path pub = deviceFolder.resolve(DEVICE_PUBLIC_FILE);
                if (Files.isRegularFile(pub)) {
                    deviceKey = Pem.fingerprint(Pem.readPublicKey(pub));
                }
                Path id = deviceFolder.resolve(DEVICE_ID_FILE);
                if (Files.isRegularFile(id)) {
                    deviceId = Files.readString(id, StandardCharsets.UTF_8).trim();
                }
            } catch (IOException | RuntimeException e) {
                LOG.warn("cannot read the device identity in {}: {}; only unbound licenses apply", deviceFolder,
                        message(e));
                deviceId = "";
                deviceKey = "";
            }
        }
        return new State(vendors, Collections.unmodifiableMap(names), List.copyOf(licenses.values()),
                Set.copyOf(revokedKeys), List.copyOf(refused), deviceId, deviceKey);
    }

    /**
     * Where verified revocation lists are kept once seen: {@code data/licensing/revocations} (beside
     * {@code data/device}), so that deleting a list from the licenses folder never un-revokes a license. Null without
     * a device folder.
     */
    private Path revocationArchive() {
        return deviceFolder == null || deviceFolder.getParent() == null ? null
                : deviceFolder.getParent().resolve("licensing").resolve("revocations");
    }

    /** Keeps a verified revocation list in the archive under its content name (once; atomically). */
    private void keep(Path archive, byte[] bytes) {
        try {
            String name = java.util.HexFormat.of().formatHex(java.security.MessageDigest.getInstance("SHA-256")
                    .digest(bytes), 0, 8) + ".revocations";
            Path target = archive.resolve(name);
            if (Files.exists(target)) {
                return;
            }
            Files.createDirectories(archive);
            Path part = archive.resolve("." + name + ".part");
            Files.write(part, bytes);
            Files.move(part, target, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
            LOG.info("licenses: kept revocation list {} in {} (deleting it from the licenses folder does not "
                    + "un-revoke its licenses)", name, archive);
        } catch (IOException | java.security.NoSuchAlgorithmException | RuntimeException e) {
            LOG.warn("licenses: cannot keep a revocation list in {}: {}", archive, message(e));
        }
    }

    private void refuse(List<String> refused, Path file, String reason) {
        String line = file + ": " + reason;
        refused.add(line);
        String once = line + "@" + stamp(file);
        if (logged.add(once)) {
            LOG.warn("licenses: refused {}", line);
        }
    }

    /** Every file the store reads, with its size and modification time. */
    private Map<Path, String> contents() {
        Map<Path, String> out = new TreeMap<>();
        for (Path f : files(vendorsFolder, ".pem")) {
            out.put(f, stamp(f));
        }
        for (Path folder : licenseFolders) {
            for (Path f : files(folder, ".lic")) {
                out.put(f, stamp(f));
            }
            for (Path f : files(folder, ".revocations")) {
                out.put(f, stamp(f));
            }
        }
        if (deviceFolder != null) {
            for (String n : List.of(DEVICE_ID_FILE, DEVICE_PUBLIC_FILE)) {
                Path f = deviceFolder.resolve(n);
                if (Files.exists(f)) {
                    out.put(f, stamp(f));
                }
            }
        }
        return out;
    }

    private static String stamp(Path f) {
        try {
            BasicFileAttributes a = Files.readAttributes(f, BasicFileAttributes.class);
            return a.size() + "/" + a.lastModifiedTime().toMillis();
        } catch (IOException e) {
            return "gone";
        }
    }

    /** The regular files of {@code folder} whose names end with {@code suffix}, not hidden, sorted. */
    static List<Path> files(Path folder, String suffix) {
        if (folder == null || !Files.isDirectory(folder)) {
            return List.of();
        }
        try (Stream<Path> s = Files.list(folder)) {
            return s.filter(f -> {
                String n = f.getFileName().toString();
                return n.endsWith(suffix) && !n.startsWith(".") && Files.isRegularFile(f);
            }).sorted().toList();
        } catch (NoSuchFileException e) {
            return List.of();
        } catch (IOException e) {
            LOG.warn("cannot list {}: {}", folder, e.toString());
            return List.of();
        }
    }

    /** The exception's message, starting with its refusal's words (once). */
    public static String reason(LicenseException e) {
        String m = e.getMessage() == null ? "" : e.getMessage();
        String words = e.refusal().words();
        return m.startsWith(words) ? m : words + ": " + m;
    }

    private static String stem(Path f, String suffix) {
        String n = f.getFileName().toString();
        return n.substring(0, n.length() - suffix.length());
    }

    private static String message(Exception e) {
        return e.getMessage() == null ? e.toString() : e.getMessage();
    }

    /** A license's state for reports: valid, expired, not yet valid, revoked, wrong device. */
    public String stateOf(License l, Instant now) {
        State s = state;
        if (s.revoked().contains(revocationKey(l))) {
            return "revoked";
        }
        if (l.bound() && (!l.deviceId().equals(s.deviceId()) || !l.deviceKey().equals(s.deviceKey()))) {
            return "wrong device";
        }
        Optional<Refusal> r = LicenseRules.validity(l, now);
        return r.map(Refusal::words).orElse("valid");
    }
}
