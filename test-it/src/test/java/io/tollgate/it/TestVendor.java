package io.tollgate.it;

import io.tollgate.licensing.Pem;
import io.tollgate.licensing.vendor.LicenseIssuer;
import io.tollgate.licensing.vendor.PluginSigner;
import io.tollgate.licensing.vendor.VendorKeys;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.jar.JarFile;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * The integration tests' plugin vendor (issue 10: a plugin installs only when a trusted vendor signed it and a license
 * covers it): one Ed25519 key per test JVM, made with the vendor tool's classes, that signs the plugins the tests make
 * and issues each plugin name an unbound license (no expiry, no quota, code not allowed) into one licenses folder. The
 * appliances the tests start trust this key and the distribution's examples key ({@link #vendors()}) and read that
 * folder ({@link #licenses()}), which also holds the distribution's shipped example license.
 */
final class TestVendor {
    static final String NAME = "it-tests";
    private static final Pattern MODEL = Pattern.compile("tollgate\\.model\\s*=\\s*(?:\"([^\"]*)\"|([^;,\\s]+))");
    private static TestVendor instance;

    private final KeyPair keys;
    private final Path vendors;
    private final Path licenses;
    /** When the last license was written (wall clock, ms). */
    private long lastLicenseAt;

    private TestVendor() throws IOException {
        Path root = Files.createTempDirectory("tollgate-it-vendor");
        keys = VendorKeys.generate(root.resolve("key"));
        vendors = Files.createDirectories(root.resolve("vendors"));
        Files.copy(root.resolve("key").resolve(VendorKeys.PUBLIC_FILE), vendors.resolve(NAME + ".pem"));
        Path shipped = TollgateExam.dist().resolve("conf").resolve("vendors");
        try (Stream<Path> s = Files.isDirectory(shipped) ? Files.list(shipped) : Stream.empty()) {
            for (Path f : (Iterable<Path>) s::iterator) {
                if (!Files.exists(vendors.resolve(f.getFileName()))) {
                    Files.copy(f, vendors.resolve(f.getFileName()));
                }
            }
        }
        licenses = Files.createDirectories(root.resolve("licenses"));
        Path shippedLicenses = TollgateExam.dist().resolve("licenses");
        try (Stream<Path> s = Files.isDirectory(shippedLicenses) ? Files.list(shippedLicenses) : Stream.empty()) {
            for (Path f : (Iterable<Path>) s::iterator) {
                Files.copy(f, licenses.resolve(f.getFileName()));
            }
        }
    }

    static synchronized TestVendor get() throws IOException {
        if (instance == null) {
            instance = new TestVendor();
        }
        return instance;
    }

    /** The trusted vendors' folder: this key ({@value #NAME}.pem) and the distribution's. */
    Path vendors() {
        return vendors;
    }

    /** The licenses folder: the distribution's shipped licenses and one unbound license per plugin signed. */
    Path licenses() {
        return licenses;
    }

    KeyPair keys() {
        return keys;
    }

    String fingerprint() {
        return Pem.fingerprint(keys.getPublic());
    }

    /** Copies the trusted vendor keys into {@code conf/vendors} (created). */
    void trustIn(Path conf) throws IOException {
        Path to = Files.createDirectories(conf.resolve("vendors"));
        try (Stream<Path> s = Files.list(vendors)) {
            for (Path f : (Iterable<Path>) s::iterator) {
                if (!Files.exists(to.resolve(f.getFileName()))) {
                    Files.copy(f, to.resolve(f.getFileName()));
                }
            }
        }
    }

    /** Signs {@code jar} in place and issues its plugin name a license (once per name); returns {@code jar}. */
    Path sign(Path jar) throws IOException {
        signOnly(jar);
        license(model(jar));
        return jar;
    }

    /** Signs {@code jar} in place, without a license. */
    Path signOnly(Path jar) throws IOException {
        PluginSigner.sign(jar, jar, keys.getPrivate(), keys.getPublic(), NAME);
        return jar;
    }

    /** Signs every jar of {@code dir} and licenses their plugin names. */
    void signAll(Path dir) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            for (Path f : (Iterable<Path>) s.filter(p -> p.toString().endsWith(".jar")).sorted()::iterator) {
                sign(f);
            }
        }
    }

    /** An unbound license for {@code plugin} (every version, no expiry, no quota, no code) in {@link #licenses()}. */
    synchronized void license(String plugin) throws IOException {
        Path file = licenses.resolve("it-" + plugin.replaceAll("[^A-Za-z0-9._-]", "_") + ".lic");
        if (!Files.exists(file)) {
            Path part = licenses.resolve(".part-" + file.getFileName());
            Files.write(part, issuer().plugin(plugin).issue());
            Files.move(part, file, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
            lastLicenseAt = System.currentTimeMillis();
        }
    }

    /**
     * Waits until a running appliance has read the license written last: its store reads a file once it stood still
     * for 2 s, polling every second ({@code LicenseStore}). A plugin dropped with its license at the same moment could
     * otherwise be judged first, and be reported "no license" until the license is read. No wait while no appliance
     * of this JVM runs: one that starts reads the whole folder before it installs a plugin ({@code LicenseStore.reload}
     * in the launcher), and a license is written with an atomic move. Inside a framework (Pax Exam) always waits.
     */
    void awaitLicensesRead() throws java.io.InterruptedIOException {
        if (!ApplianceProcess.anyApplianceAlive()
                && org.osgi.framework.FrameworkUtil.getBundle(TestVendor.class) == null) {
            return;
        }
        long readBy;
        synchronized (this) {
            readBy = lastLicenseAt + 3_500;
        }
        try {
            for (long now = System.currentTimeMillis(); now < readBy; now = System.currentTimeMillis()) {
                Thread.sleep(readBy - now);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new java.io.InterruptedIOException("interrupted while waiting for the license to be read");
        }
    }

    /** A license issuer of this vendor: tenant default, every version, valid from an hour ago. */
    LicenseIssuer issuer() {
        return new LicenseIssuer(NAME, keys.getPrivate(), keys.getPublic()).tenant("default").unbound()
                .versions("[0.0.0,1000.0.0)").notBefore(Instant.now().minus(1, ChronoUnit.HOURS));
    }

    /** The model name a plugin jar declares (its tollgate.model capability), else its Bundle-SymbolicName. */
    static String model(Path jar) throws IOException {
        try (JarFile f = new JarFile(jar.toFile(), false)) {
            if (f.getManifest() == null) {
                return jar.getFileName().toString();
            }
            String cap = f.getManifest().getMainAttributes().getValue("Provide-Capability");
            if (cap != null) {
                Matcher m = MODEL.matcher(cap);
                if (m.find()) {
                    return m.group(1) != null ? m.group(1) : m.group(2);
                }
            }
            String bsn = f.getManifest().getMainAttributes().getValue("Bundle-SymbolicName");
            return bsn == null ? jar.getFileName().toString() : bsn.split(";")[0].trim();
        }
    }
}
