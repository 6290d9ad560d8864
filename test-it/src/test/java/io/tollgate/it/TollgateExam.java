package io.tollgate.it;

import static org.ops4j.pax.exam.CoreOptions.bundle;
import static org.ops4j.pax.exam.CoreOptions.cleanCaches;
import static org.ops4j.pax.exam.CoreOptions.frameworkProperty;
import static org.ops4j.pax.exam.CoreOptions.junitBundles;
import static org.ops4j.pax.exam.CoreOptions.systemPackages;
import static org.ops4j.pax.exam.CoreOptions.systemProperty;

import io.tollgate.guard.PluginGuard;
import java.io.File;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;
import java.util.jar.Attributes;
import java.util.jar.JarFile;
import java.util.jar.JarOutputStream;
import java.util.jar.Manifest;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.ops4j.pax.exam.Option;
import org.ops4j.pax.exam.options.UrlProvisionOption;

/**
 * Pax Exam configuration shared by the ITs: Felix with exactly the bundles of the distribution this
 * build made ({@code runtime/target/tollgate/system}), minus fileinstall (the tests install plugins
 * themselves), the launcher's system packages, and the launcher's plugin guard (the resolver hook that
 * keeps plugins with code from resolving): Pax Exam makes the framework itself, so a bundle with no classes
 * of its own, started first, names the launcher's {@link PluginGuard} as its activator (docs/decisions.md,
 * 2026-11-30).
 *
 * <p>Runs outside the framework (in {@code @Configuration}); values reach the tests as system
 * properties.
 */
final class TollgateExam {
    static final String PORT = "tollgate.it.port";
    static final String PLUGINS = "tollgate.it.plugins";
    static final String DATA = "tollgate.it.data";

    private TollgateExam() {
    }

    static Path dist() {
        return Paths.get(System.getProperty("tollgate.dist", "../runtime/target/tollgate")).toAbsolutePath().normalize();
    }

    static Option[] options(Option... extra) throws IOException {
        Path dist = dist();
        if (!Files.isDirectory(dist.resolve("system"))) {
            throw new IllegalStateException("no distribution at " + dist + "; build runtime first (mvn install)");
        }
        Path data = Files.createTempDirectory("tollgate-it-data");
        List<Option> o = new ArrayList<>();
        o.add(bundle(guardBundle().toUri().toString()).startLevel(1));
        o.add(frameworkProperty(PluginGuard.PLUGINS_PROPERTY).value(dist.resolve("plugins").toString()));
        // Issue 10: the guard's license store trusts the test vendor and the examples key, and reads the licenses
        // of the plugins the tests signed (TestVendor) and the distribution's shipped example license.
        o.add(frameworkProperty(PluginGuard.VENDORS_PROPERTY).value(TestVendor.get().vendors().toString()));
        o.add(frameworkProperty(PluginGuard.LICENSES_PROPERTY).value(TestVendor.get().licenses().toString()));
        o.add(cleanCaches());
        o.add(junitBundles());
        o.add(systemPackages(systemPackagesOfTheLauncher()));
        o.add(frameworkProperty("tollgate.data").value(data.toString()));
        o.add(systemProperty("tollgate.data").value(data.toString()));
        o.add(systemProperty(DATA).value(data.toString()));
        o.add(systemProperty(PORT).value(Integer.toString(freePort())));
        o.add(systemProperty(PLUGINS).value(dist.resolve("plugins").toString()));
        for (Path jar : jars(dist.resolve("system"))) {
            if (jar.getFileName().toString().contains("fileinstall")) {
                continue;
            }
            UrlProvisionOption b = bundle("reference:" + jar.toUri());
            o.add(isFragment(jar) ? b.noStart() : b);
        }
        for (Option e : extra) {
            o.add(e);
        }
        return o.toArray(new Option[0]);
    }

    /**
     * A bundle that only carries a manifest: its activator is {@link PluginGuard}, imported from the system bundle
     * (the launcher's class path, here the test class path), which registers the same hook the launcher registers.
     */
    private static Path guardBundle() throws IOException {
        Manifest m = new Manifest();
        Attributes a = m.getMainAttributes();
        a.put(Attributes.Name.MANIFEST_VERSION, "1.0");
        a.putValue("Bundle-ManifestVersion", "2");
        a.putValue("Bundle-SymbolicName", "io.tollgate.it.plugin-guard");
        a.putValue("Bundle-Activator", PluginGuard.class.getName());
        a.putValue("Import-Package", PluginGuard.class.getPackageName());
        Path jar = Files.createTempFile("tollgate-it-plugin-guard", ".jar");
        try (JarOutputStream out = new JarOutputStream(Files.newOutputStream(jar), m)) {
            out.flush();
        }
        jar.toFile().deleteOnExit();
        return jar;
    }

    private static String[] systemPackagesOfTheLauncher() throws IOException {
        List<String> packages = new ArrayList<>();
        // The launcher's list (slf4j, ConfigAdmin API, ...), minus what the test container provides itself.
        for (String p : io.tollgate.runtime.SystemPackages.list()) {
            if (!p.startsWith("org.osgi.service.cm")) {
                packages.add(p);
            }
        }
        return packages.toArray(new String[0]);
    }

    static List<Path> jars(Path dir) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.filter(f -> f.toString().endsWith(".jar")).sorted().collect(Collectors.toList());
        }
    }

    private static boolean isFragment(Path jar) throws IOException {
        try (JarFile f = new JarFile(jar.toFile())) {
            return f.getManifest() != null && f.getManifest().getMainAttributes().getValue("Fragment-Host") != null;
        }
    }

    static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    static File exampleModel() {
        return dist().resolve("plugins/fashion-mnist-1.0.0.jar").toFile();
    }
}
