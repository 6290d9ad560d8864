package io.tollgate.guard;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertNotNull;
import static org.junit.Assert.assertTrue;

import io.tollgate.licensing.Entitlements;
import io.tollgate.licensing.vendor.LicenseIssuer;
import io.tollgate.licensing.vendor.PluginSigner;
import io.tollgate.licensing.vendor.VendorKeys;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.time.Clock;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.ServiceLoader;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;
import java.util.zip.ZipOutputStream;
import org.junit.After;
import org.junit.Before;
import org.junit.Rule;
import org.junit.Test;
import org.junit.rules.TemporaryFolder;
import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;
import org.osgi.framework.Constants;
import org.osgi.framework.launch.Framework;
import org.osgi.framework.launch.FrameworkFactory;

/**
 * The hook with a {@link LicenseStore} in a real Felix, registered as the launcher does it
 * ({@link PluginGuard#register(BundleContext, LicenseStore)}), with real signed jars and real license files made by
 * the vendor tool's classes: a plugin resolves only when signed by a trusted vendor and licensed; each refusal names
 * its reason; a license that arrives later lets a waiting plugin resolve and start, and one that goes stops it; a
 * license that allows code lets a signed plugin carry code.
 */
public class LicensedPluginsTest {
    @Rule
    public TemporaryFolder tmp = new TemporaryFolder();

    private Framework framework;
    private BundleContext context;
    private Path plugins;
    private Path vendors;
    private Path licenses;
    private LicenseStore store;
    private KeyPair vendor;
    private KeyPair stranger;

    @Before
    public void start() throws Exception {
        Path root = tmp.getRoot().toPath();
        plugins = Files.createDirectories(root.resolve("plugins"));
        vendors = Files.createDirectories(root.resolve("conf/vendors"));
        licenses = Files.createDirectories(root.resolve("licenses"));
        vendor = VendorKeys.generate(root.resolve("vendor-key"));
        stranger = VendorKeys.generate(root.resolve("stranger-key"));
        Files.copy(root.resolve("vendor-key").resolve(VendorKeys.PUBLIC_FILE), vendors.resolve("acme.pem"));
        System.setProperty("tollgate.guard.test.marker", root.resolve("activator-ran").toString());
        FrameworkFactory factory = ServiceLoader.load(FrameworkFactory.class).iterator().next();
        framework = factory.newFramework(Map.of(
                Constants.FRAMEWORK_STORAGE, root.resolve("cache").toString(),
                Constants.FRAMEWORK_STORAGE_CLEAN, Constants.FRAMEWORK_STORAGE_CLEAN_ONFIRSTINIT,
                PluginGuard.PLUGINS_PROPERTY, plugins.toString(),
                "felix.log.level", "0"));
        framework.init();
        store = new LicenseStore(vendors, List.of(licenses), root.resolve("data/device"), Clock.systemUTC());
        store.reload();
        PluginGuard.register(framework.getBundleContext(), store);
        framework.start();
        context = framework.getBundleContext();
    }

    @After
    public void stop() throws Exception {
        framework.stop();
        framework.waitForStop(10_000);
        System.clearProperty("tollgate.guard.test.marker");
    }

    private Path dataPlugin(String name) throws Exception {
        Map<String, String> h = TestJars.pluginHeaders(name);
        h.remove("Require-Capability");
        Path jar = tmp.getRoot().toPath().resolve(name + "-" + System.nanoTime() + ".jar");
        Files.write(jar, TestJars.jar(h, TestJars.dataEntries()));
        return jar;
    }

    private Path codePlugin(String name) throws Exception {
        Map<String, String> h = TestJars.pluginHeaders(name);
        h.remove("Require-Capability");
        h.put("Bundle-Activator", "io.tollgate.guard.testing.MarkerActivator");
        h.put("Import-Package", "org.osgi.framework");
        Map<String, byte[]> e = new LinkedHashMap<>(TestJars.dataEntries());
        e.put(TestJars.ACTIVATOR_CLASS, TestJars.activatorClass());
        Path jar = tmp.getRoot().toPath().resolve(name + "-" + System.nanoTime() + ".jar");
        Files.write(jar, TestJars.jar(h, e));
        return jar;
    }

    private Path signed(Path jar, KeyPair key) throws Exception {
        PluginSigner.sign(jar, jar, key.getPrivate(), key.getPublic(), "acme");
        return jar;
    }

    private LicenseIssuer issuer(KeyPair key) {
        return new LicenseIssuer("acme", key.getPrivate(), key.getPublic()).tenant("t1").unbound()
                .versions("[1.0.0,2.0.0)").notBefore(Instant.now().minus(1, ChronoUnit.HOURS));
    }

    private Path license(String file, LicenseIssuer issuer) throws Exception {
        return Files.write(licenses.resolve(file), issuer.issue());
    }

    private Bundle install(Path jar) throws Exception {
        Bundle b;
        try (InputStream in = Files.newInputStream(jar)) {
            b = context.installBundle(plugins.resolve(jar.getFileName()).toUri().toString(), in);
        }
        try {
            b.start();
        } catch (Exception refused) {
            // the hook said no: it stays INSTALLED
        }
        return b;
    }

    private String reason(Bundle b) {
        return PluginResolverHook.verdict(b, context).reason();
    }

    @Test
    public void aSignedLicensedPluginResolvesAndTheServiceSaysSo() throws Exception {
        license("ocr.lic", issuer(vendor).plugin("ocr"));
        store.reload();
        Bundle b = install(signed(dataPlugin("ocr"), vendor));
        assertEquals(Bundle.ACTIVE, b.getState());
        Entitlements e = context.getService(context.getServiceReference(Entitlements.class));
        assertTrue(e.check("ocr", "1.0.0", System.currentTimeMillis()).entitled());
        assertFalse("another version is not covered", e.check("ocr", "2.0.0", System.currentTimeMillis()).entitled());
    }

    @Test
    public void anUnsignedPluginIsRefusedNamingTheReason() throws Exception {
        license("ocr.lic", issuer(vendor).plugin("ocr"));
        store.reload();
        Bundle b = install(dataPlugin("ocr"));
        assertEquals(Bundle.INSTALLED, b.getState());
        assertTrue(reason(b), reason(b).startsWith("unsigned: "));
        // named as the operator knows it (model, version, the file in plugins/), not the framework's bundle.jar
        String file = b.getLocation().substring(b.getLocation().lastIndexOf('/') + 1);
        assertTrue(reason(b), reason(b).startsWith("unsigned: plugin ocr 1.0.0 (file " + file + " in plugins/) "
                + "carries no signature") && !reason(b).contains("bundle.jar"));
    }

    @Test
    public void aTamperedEntryIsRefusedNamingTheEntry() throws Exception {
        license("ocr.lic", issuer(vendor).plugin("ocr"));
        store.reload();
        Path jar = signed(dataPlugin("ocr"), vendor);
        Path changed = tmp.getRoot().toPath().resolve("tampered.jar");
        try (ZipFile in = new ZipFile(jar.toFile()); OutputStream f = Files.newOutputStream(changed);
             ZipOutputStream out = new ZipOutputStream(f)) {
            for (ZipEntry e : java.util.Collections.list(in.entries())) {
                out.putNextEntry(new ZipEntry(e.getName()));
                byte[] bytes = in.getInputStream(e).readAllBytes();
                if (e.getName().equals("TOLLGATE-INF/model.onnx")) {
                    bytes = "changed\n".getBytes(java.nio.charset.StandardCharsets.UTF_8);
                }
                out.write(bytes);
                out.closeEntry();
            }
        }
        Bundle b = install(changed);
        assertEquals(Bundle.INSTALLED, b.getState());
        assertTrue(reason(b), reason(b).startsWith("tampered entry: ") && reason(b).contains("model.onnx"));
        assertTrue(reason(b), reason(b).startsWith("tampered entry: plugin ocr 1.0.0 (file tampered.jar in plugins/): "
                + "entry TOLLGATE-INF/model.onnx") && !reason(b).contains("bundle.jar"));
    }

    @Test
    public void anUnknownVendorAndAMissingLicenseAreRefused() throws Exception {
        Bundle strangers = install(signed(dataPlugin("ocr"), stranger));
        assertEquals(Bundle.INSTALLED, strangers.getState());
        assertTrue(reason(strangers), reason(strangers).startsWith("unknown vendor"));
        Bundle unlicensed = install(signed(dataPlugin("asr"), vendor));
        assertEquals(Bundle.INSTALLED, unlicensed.getState());
        assertTrue(reason(unlicensed), reason(unlicensed).startsWith("no license"));
    }

    @Test
    public void aLicenseArrivingLaterStartsTheWaitingPluginAndItsRemovalStopsIt() throws Exception {
        AtomicInteger changes = new AtomicInteger();
        store.addListener(changes::incrementAndGet);
        Bundle b = install(signed(dataPlugin("ocr"), vendor));
        assertEquals(Bundle.INSTALLED, b.getState());
        Path lic = license("ocr.lic", issuer(vendor).plugin("ocr"));
        store.reload();        // what the watch does once the file stood still
        assertEquals(1, changes.get());
        assertEquals("resolved and started without a restart", Bundle.ACTIVE, b.getState());
        Files.delete(lic);
        store.reload();
        awaitState(b, Bundle.INSTALLED);
        assertTrue(reason(b), reason(b).startsWith("no license"));
        assertFalse(store.check("ocr", "1.0.0", System.currentTimeMillis()).entitled());
    }

    @Test
    public void aLicenseThatAllowsCodeLetsASignedPluginCarryCode() throws Exception {
        license("plain.lic", issuer(vendor).plugin("plain"));
        license("coder.lic", issuer(vendor).plugin("coder").allowCode(true));
        store.reload();
        Bundle plain = install(signed(codePlugin("plain"), vendor));
        assertEquals(Bundle.INSTALLED, plain.getState());
        assertTrue(reason(plain), reason(plain).startsWith("plugin carries code: Bundle-Activator"));
        assertEquals(io.tollgate.licensing.Refusal.CODE_NOT_ALLOWED,
                store.check("plain", "1.0.0", System.currentTimeMillis()).refusal().orElseThrow());
        Bundle unsignedCode = install(codePlugin("coder"));
        assertEquals("unsigned code never runs", Bundle.INSTALLED, unsignedCode.getState());
        Bundle coder = install(signed(codePlugin("coder2"), vendor));
        assertEquals(Bundle.INSTALLED, coder.getState());
        license("coder2.lic", issuer(vendor).plugin("coder2").allowCode(true));
        store.reload();
        assertEquals(reason(coder), Bundle.ACTIVE, coder.getState());
        assertNotNull(coder.loadClass("io.tollgate.guard.testing.MarkerActivator"));
    }

    private static void awaitState(Bundle b, int state) throws InterruptedException {
        long end = System.currentTimeMillis() + 10_000;
        while (b.getState() != state && System.currentTimeMillis() < end) {
            Thread.sleep(20);
        }
        assertEquals(state, b.getState());
    }
}
