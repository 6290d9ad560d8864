package io.tollgate.guard;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

import java.io.ByteArrayInputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.ServiceLoader;
import org.junit.After;
import org.junit.Before;
import org.junit.Rule;
import org.junit.Test;
import org.junit.rules.TemporaryFolder;
import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;
import org.osgi.framework.BundleException;
import org.osgi.framework.Constants;
import org.osgi.framework.launch.Framework;
import org.osgi.framework.launch.FrameworkFactory;
import org.osgi.framework.wiring.BundleRevision;
import org.osgi.framework.wiring.FrameworkWiring;

/**
 * The hook in a real Felix, registered the way the launcher does it (on the system bundle's context before
 * any bundle is installed): a plugin that carries code never resolves, so its activator never runs and its
 * classes cannot be loaded; a plugin that is data resolves; any bundle from the plugins folder must be a
 * code-free model plugin; bundles from elsewhere that are no plugins are left alone.
 */
public class PluginResolverHookTest {
    @Rule
    public TemporaryFolder tmp = new TemporaryFolder();

    private Framework framework;
    private BundleContext context;
    private Path plugins;
    private Path marker;

    private void start(boolean guarded) throws Exception {
        plugins = Files.createDirectories(tmp.getRoot().toPath().resolve("plugins"));
        marker = tmp.getRoot().toPath().resolve("activator-ran");
        System.setProperty("tollgate.guard.test.marker", marker.toString());
        FrameworkFactory factory = ServiceLoader.load(FrameworkFactory.class).iterator().next();
        framework = factory.newFramework(Map.of(
                Constants.FRAMEWORK_STORAGE, tmp.getRoot().toPath().resolve("cache").toString(),
                Constants.FRAMEWORK_STORAGE_CLEAN, Constants.FRAMEWORK_STORAGE_CLEAN_ONFIRSTINIT,
                PluginGuard.PLUGINS_PROPERTY, plugins.toString(),
                "felix.log.level", "0"));
        framework.init();
        if (guarded) {
            PluginGuard.register(framework.getBundleContext());
        }
        framework.start();
        context = framework.getBundleContext();
    }

    @Before
    public void guardedFramework() throws Exception {
        start(true);
    }

    @After
    public void stop() throws Exception {
        framework.stop();
        framework.waitForStop(10_000);
        System.clearProperty("tollgate.guard.test.marker");
    }

    private static byte[] activatorPlugin(String name, boolean withDirectories) throws Exception {
        Map<String, String> h = TestJars.pluginHeaders(name);
        h.remove("Require-Capability");     // no extender or engine in this framework: without the guard it resolves
        h.put("Bundle-Activator", "io.tollgate.guard.testing.MarkerActivator");
        h.put("Import-Package", "org.osgi.framework");
        Map<String, byte[]> e = new LinkedHashMap<>(TestJars.dataEntries());
        if (withDirectories) {
            e.put("io/", null);
            e.put("io/tollgate/", null);
            e.put("io/tollgate/guard/", null);
            e.put("io/tollgate/guard/testing/", null);
        } else {
            e.remove("TOLLGATE-INF/");
        }
        e.put(TestJars.ACTIVATOR_CLASS, TestJars.activatorClass());
        return TestJars.jar(h, e);
    }

    /** A data-only plugin; needs no extender or engine here (the test framework has none): no requirements. */
    private static byte[] dataPlugin(String name) throws Exception {
        Map<String, String> h = TestJars.pluginHeaders(name);
        h.remove("Require-Capability");
        return TestJars.jar(h, TestJars.dataEntries());
    }

    private Bundle install(String location, byte[] jar) throws Exception {
        return context.installBundle(location, new ByteArrayInputStream(jar));
    }

    private static void startRefused(Bundle b) {
        try {
            b.start();
            fail(b.getSymbolicName() + " started");
        } catch (BundleException expected) {
            // Felix: "Resolver hook prevented resolution."
        }
    }

    @Test
    public void withoutTheGuardAPluginsActivatorRuns() throws Exception {
        stop();
        start(false);
        Bundle b = install("file:/elsewhere/evil.jar", activatorPlugin("evil", true));
        b.start();
        assertTrue("the test plugin's activator is real code: it ran", Files.exists(marker));
    }

    @Test
    public void aPluginWithAnActivatorNeverResolvesSoItsActivatorNeverRuns() throws Exception {
        Bundle b = install("file:/elsewhere/evil.jar", activatorPlugin("evil", true));
        startRefused(b);
        assertFalse(framework.adapt(FrameworkWiring.class).resolveBundles(List.of(b)));
        assertEquals(Bundle.INSTALLED, b.getState());
        assertFalse("the activator ran", Files.exists(marker));
        try {
            b.loadClass("io.tollgate.guard.testing.MarkerActivator");
            fail("a class of a refused plugin was loaded");
        } catch (ClassNotFoundException expected) {
            // no class loader: the bundle is not resolved
        }
    }

    @Test
    public void aClassInAJarWithoutFolderEntriesIsSeenToo() throws Exception {
        Bundle b = install("file:/elsewhere/flat.jar", activatorPlugin("flat", false));
        startRefused(b);
        assertFalse(Files.exists(marker));
        assertEquals(List.of("class " + TestJars.ACTIVATOR_CLASS),
                BundleContents.of(b).verdict(false).code().subList(2, 3));
    }

    @Test
    public void aPluginThatIsDataResolvesAndStarts() throws Exception {
        Bundle b = install("file:/elsewhere/good.jar", dataPlugin("good"));
        b.start();
        assertEquals(Bundle.ACTIVE, b.getState());
    }

    @Test
    public void anythingInThePluginsFolderMustBeACodeFreeModelPlugin() throws Exception {
        Map<String, String> h = new LinkedHashMap<>();
        h.put("Bundle-ManifestVersion", "2");
        h.put("Bundle-SymbolicName", "io.tollgate.serving.extras");
        h.put("Bundle-Activator", "io.tollgate.guard.testing.MarkerActivator");
        h.put("Import-Package", "org.osgi.framework");
        Map<String, byte[]> e = new LinkedHashMap<>();
        e.put(TestJars.ACTIVATOR_CLASS, TestJars.activatorClass());
        byte[] impostor = TestJars.jar(h, e);

        Path dropped = plugins.resolve("impostor.jar");
        Files.write(dropped, impostor);
        Bundle fromPlugins = context.installBundle(dropped.toUri().toString());
        startRefused(fromPlugins);
        assertFalse(Files.exists(marker));
        Bundle data = context.installBundle("reference:" + plugins.resolve("data.jar").toUri(),
                new ByteArrayInputStream(TestJars.jar(Map.of("Bundle-ManifestVersion", "2", "Bundle-SymbolicName", "x.data"),
                        Map.of("readme.txt", new byte[] {'x'}))));
        startRefused(data);     // code-free, but no model plugin: it has no business in plugins/

        // The same bundle from anywhere else is not a plugin: the guard leaves it alone (system bundles live there).
        h.put("Bundle-Version", "2.0.0");
        Bundle elsewhere = install("file:/opt/tollgate/system/extras.jar", TestJars.jar(h, e));
        elsewhere.start();
        assertTrue(Files.exists(marker));
    }

    @Test
    public void aRefusedPluginDoesNotKeepOthersFromResolving() throws Exception {
        Bundle refused = install("file:/elsewhere/evil.jar", activatorPlugin("evil", true));
        startRefused(refused);
        // Both import org.osgi.framework from the system bundle, which a careless hook would take from them.
        Bundle good = install("file:/elsewhere/good.jar", dataPlugin("good"));
        Bundle system = install("file:/opt/tollgate/system/importer.jar", TestJars.jar(
                Map.of("Bundle-ManifestVersion", "2", "Bundle-SymbolicName", "x.importer", "Import-Package", "org.osgi.framework"),
                Map.of()));
        good.start();
        system.start();
        assertEquals(Bundle.ACTIVE, good.getState());
        assertEquals(Bundle.ACTIVE, system.getState());
        // Resolving everything at once resolves all but the refused plugin.
        Bundle later = install("file:/elsewhere/later.jar", dataPlugin("later"));
        framework.adapt(FrameworkWiring.class).resolveBundles(null);
        assertEquals(Bundle.INSTALLED, refused.getState());
        assertFalse(Files.exists(marker));
        assertEquals(Bundle.INSTALLED, refused.getState());
        later.start();
        assertEquals(Bundle.ACTIVE, later.getState());
    }

    @Test
    public void aPluginWithNoRequirementsCannotSlipIntoAnotherBundlesResolve() throws Exception {
        Map<String, String> h = TestJars.pluginHeaders("bare");
        h.remove("Require-Capability");
        h.put("DynamicImport-Package", "*");       // no resolve-time requirement at all
        h.put("Bundle-Activator", "io.tollgate.guard.testing.MarkerActivator");
        Map<String, byte[]> e = new LinkedHashMap<>(TestJars.dataEntries());
        e.put(TestJars.ACTIVATOR_CLASS, TestJars.activatorClass());
        Bundle bare = install("file:/elsewhere/bare.jar", TestJars.jar(h, e));
        Bundle other = install("file:/elsewhere/other.jar", dataPlugin("other"));
        assertTrue(framework.adapt(FrameworkWiring.class).resolveBundles(List.of(other)));
        assertEquals(Bundle.INSTALLED, bare.getState());
        framework.adapt(FrameworkWiring.class).resolveBundles(null);
        assertEquals(Bundle.INSTALLED, bare.getState());
        startRefused(bare);
        assertFalse(Files.exists(marker));
    }

    @Test
    public void aRefusedFragmentDoesNotAttachToAPlugin() throws Exception {
        Bundle host = install("file:/elsewhere/host.jar", dataPlugin("host"));
        Map<String, String> h = new LinkedHashMap<>();
        h.put("Bundle-ManifestVersion", "2");
        h.put("Bundle-SymbolicName", "x.fragment");
        h.put("Fragment-Host", "tollgate.plugin.host");
        Path jar = plugins.resolve("fragment.jar");
        Files.write(jar, TestJars.jar(h, Map.of(TestJars.ACTIVATOR_CLASS, TestJars.activatorClass())));
        Bundle fragment = context.installBundle(jar.toUri().toString());
        host.start();
        assertEquals(Bundle.ACTIVE, host.getState());
        assertEquals(Bundle.INSTALLED, fragment.getState());
        try {
            host.loadClass("io.tollgate.guard.testing.MarkerActivator");
            fail("a refused fragment's class loaded through its host");
        } catch (ClassNotFoundException expected) {
            // the fragment never attached
        }
    }

    @Test
    public void nothingIsWiredToARefusedPlugin() throws Exception {
        Map<String, String> h = TestJars.pluginHeaders("exporter");
        h.remove("Require-Capability");
        h.put("Export-Package", "com.evil.api");
        Map<String, byte[]> e = new LinkedHashMap<>(TestJars.dataEntries());
        e.put("com/evil/api/readme.txt", new byte[] {'x'});
        Bundle exporter = install("file:/elsewhere/exporter.jar", TestJars.jar(h, e));
        Bundle importer = install("file:/opt/tollgate/system/importer.jar", TestJars.jar(
                Map.of("Bundle-ManifestVersion", "2", "Bundle-SymbolicName", "x.importer", "Import-Package", "com.evil.api"),
                Map.of()));
        assertFalse(framework.adapt(FrameworkWiring.class).resolveBundles(List.of(importer)));
        assertEquals(Bundle.INSTALLED, exporter.getState());
        assertEquals(Bundle.INSTALLED, importer.getState());
    }

    /**
     * A plugin never takes the name of a bundle that is no plugin, nor the name and version of another plugin;
     * another version of a plugin sits beside it (side-by-side versions).
     */
    @Test
    public void aPluginNamedLikeAnInstalledBundleIsRefused() throws Exception {
        Bundle system = install("file:/opt/tollgate/system/acme-lib.jar",
                TestJars.jar(Map.of("Bundle-ManifestVersion", "2", "Bundle-SymbolicName", "com.acme.lib"), Map.of()));
        PluginResolverHook hook = new PluginResolverHook(plugins, context);
        Bundle named = install(plugins.resolve("named.jar").toUri().toString(), named("com.acme.lib", "1.0.0"));
        assertFalse(framework.adapt(FrameworkWiring.class).resolveBundles(List.of(named)));
        assertEquals("plugin declares what a model plugin may not: Bundle-SymbolicName com.acme.lib is the name of bundle "
                + system.getBundleId() + " (/opt/tollgate/system/acme-lib.jar), which is no plugin; model plugins are data"
                + " only (docs/plugins.md)", hook.verdict(named.adapt(BundleRevision.class)).reason());
        Bundle framed = install(plugins.resolve("framed.jar").toUri().toString(), named("org.apache.felix.framework", "1.0.0"));
        assertFalse(framework.adapt(FrameworkWiring.class).resolveBundles(List.of(framed)));
        assertTrue(hook.verdict(framed.adapt(BundleRevision.class)).declarations().toString(),
                hook.verdict(framed.adapt(BundleRevision.class)).declarations().contains("Bundle-SymbolicName "
                        + "org.apache.felix.framework is the name of bundle 0 (System Bundle), which is no plugin"));

        Bundle first = install(plugins.resolve("first.jar").toUri().toString(), named("tollgate.plugin.same", "1.0.0"));
        Bundle beside = install(plugins.resolve("beside.jar").toUri().toString(), named("tollgate.plugin.same", "2.0.0"));
        assertTrue("side by side", framework.adapt(FrameworkWiring.class).resolveBundles(List.of(first, beside)));
    }

    /** Felix refuses a second install of a name and version itself; the hook says why if one gets that far. */
    @Test
    public void aSecondCopyOfAPluginIsRefused() throws Exception {
        stop();
        plugins = Files.createDirectories(tmp.getRoot().toPath().resolve("plugins"));
        framework = ServiceLoader.load(FrameworkFactory.class).iterator().next().newFramework(Map.of(
                Constants.FRAMEWORK_STORAGE, tmp.getRoot().toPath().resolve("cache2").toString(),
                Constants.FRAMEWORK_STORAGE_CLEAN, Constants.FRAMEWORK_STORAGE_CLEAN_ONFIRSTINIT,
                Constants.FRAMEWORK_BSNVERSION, Constants.FRAMEWORK_BSNVERSION_MULTIPLE,
                PluginGuard.PLUGINS_PROPERTY, plugins.toString(), "felix.log.level", "0"));
        framework.init();
        PluginGuard.register(framework.getBundleContext());
        framework.start();
        context = framework.getBundleContext();
        Bundle first = install(plugins.resolve("first.jar").toUri().toString(), named("tollgate.plugin.same", "1.0.0"));
        assertTrue(framework.adapt(FrameworkWiring.class).resolveBundles(List.of(first)));
        Bundle copy = install(plugins.resolve("copy.jar").toUri().toString(), named("tollgate.plugin.same", "1.0.0"));
        assertFalse(framework.adapt(FrameworkWiring.class).resolveBundles(List.of(copy)));
        assertEquals(List.of("Bundle-SymbolicName tollgate.plugin.same 1.0.0 is already installed from "
                + plugins.resolve("first.jar") + " (bundle " + first.getBundleId() + "); to upgrade a plugin, replace its"
                + " file"), new PluginResolverHook(plugins, context).verdict(copy.adapt(BundleRevision.class)).declarations());
    }

    private static byte[] named(String symbolicName, String version) throws Exception {
        Map<String, String> h = TestJars.pluginHeaders("same");
        h.remove("Require-Capability");
        h.put("Bundle-SymbolicName", symbolicName);
        h.put("Bundle-Version", version);
        h.put("Provide-Capability", "tollgate.model;tollgate.model=\"same\";version:Version=\"" + version + "\"");
        return TestJars.jar(h, TestJars.dataEntries());
    }

    /** Entry names as the framework lists them are judged too: a jar with ../ or absolute names never resolves. */
    @Test
    public void entriesThatLeaveThePluginKeepItFromResolving() throws Exception {
        for (String name : List.of("../../escape.txt", "TOLLGATE-INF/../../../escape.txt")) {
            Map<String, byte[]> e = new LinkedHashMap<>(TestJars.dataEntries());
            e.put(name, new byte[] {1});
            Map<String, String> h = TestJars.pluginHeaders("slip");
            h.remove("Require-Capability");
            Bundle b = install(plugins.resolve("slip-" + name.length() + ".jar").toUri().toString(), TestJars.jar(h, e));
            assertFalse(name, framework.adapt(FrameworkWiring.class).resolveBundles(List.of(b)));
            b.uninstall();
        }
    }

    /** The requirements the framework itself parsed are judged with the same rule as the headers. */
    @Test
    public void theFrameworksReadingOfTheManifestIsJudgedToo() throws Exception {
        Bundle data = install("file:/elsewhere/data.jar", dataPlugin("data"));
        assertEquals(List.of(), PluginResolverHook.asTheFrameworkReadsIt(data.adapt(BundleRevision.class)));
        Map<String, String> h = TestJars.pluginHeaders("wired");
        h.put("Import-Package", "org.osgi.framework");
        h.put("Provide-Capability", h.get("Provide-Capability") + ",osgi.service;objectClass:List<String>=\"x.Y\"");
        Bundle wired = install("file:/elsewhere/wired.jar", TestJars.jar(h, TestJars.dataEntries()));
        List<String> findings = PluginResolverHook.asTheFrameworkReadsIt(wired.adapt(BundleRevision.class));
        assertTrue(findings.toString(), findings.contains("requirement osgi.wiring.package "
                + "(osgi.wiring.package=org.osgi.framework) (as the framework reads the manifest)"));
        assertTrue(findings.toString(), findings.contains("capability osgi.service (as the framework reads the manifest)"));
        assertFalse(findings.toString(), findings.stream().anyMatch(f -> f.contains("osgi.extender")
                || f.contains("tollgate.engine") || f.contains("osgi.identity")));
    }

    @Test
    public void anUpdateIsJudgedAgain() throws Exception {
        Bundle b = install("file:/elsewhere/p.jar", dataPlugin("p"));
        b.start();
        try {
            b.update(new ByteArrayInputStream(activatorPlugin("p", true)));     // what fileinstall does on a replaced jar
            fail("the updated plugin restarted");
        } catch (BundleException expected) {
            // updated, but it cannot start again
        }
        assertEquals(Bundle.INSTALLED, b.getState());
        assertFalse(Files.exists(marker));
        b.update(new ByteArrayInputStream(dataPlugin("p")));
        b.start();      // fileinstall starts it again
        assertEquals(Bundle.ACTIVE, b.getState());
    }
}
