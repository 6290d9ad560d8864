package io.tollgate.serving.internal;

import static org.junit.Assert.assertArrayEquals;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertNotEquals;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.ServiceLoader;
import java.util.Set;
import java.util.jar.Attributes;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import java.util.jar.Manifest;
import java.util.stream.Stream;
import org.junit.After;
import org.junit.Before;
import org.junit.Test;
import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;
import org.osgi.framework.Constants;
import org.osgi.framework.launch.Framework;
import org.osgi.framework.launch.FrameworkFactory;

/**
 * The tracker and {@link PluginBundle} against a real, embedded Felix: which lifecycle calls a
 * plugin's install, start, update (as fileinstall does it), stop and uninstall produce, what a
 * plugin snapshot reads, and the reason given for a plugin that cannot resolve.
 */
public class ModelPluginTrackerTest {
    private Path dir;
    private Framework framework;
    private BundleContext context;
    private final Recorder recorder = new Recorder();
    private ModelPluginTracker tracker;

    @Before
    public void startFramework() throws Exception {
        dir = Files.createTempDirectory("tollgate-tracker-test");
        FrameworkFactory factory = ServiceLoader.load(FrameworkFactory.class).iterator().next();
        framework = factory.newFramework(Map.of(
                Constants.FRAMEWORK_STORAGE, dir.resolve("cache").toString(),
                Constants.FRAMEWORK_STORAGE_CLEAN, Constants.FRAMEWORK_STORAGE_CLEAN_ONFIRSTINIT,
                "felix.log.level", "0"));
        framework.start();
        context = framework.getBundleContext();
        context.installBundle("file:extender.jar", jar(Map.of(
                "Bundle-SymbolicName", "test.extender",
                "Provide-Capability", "osgi.extender; osgi.extender=tollgate.model; version:Version=1.0"), Map.of()))
                .start();
    }

    @After
    public void stopFramework() throws Exception {
        if (tracker != null) {
            tracker.deactivate();
        }
        framework.stop();
        framework.waitForStop(10_000);
        try (Stream<Path> files = Files.walk(dir)) {
            files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
    }

    private static InputStream plugin(String version, String engine) throws IOException {
        return jar(Map.of(
                "Bundle-SymbolicName", "io.acme.fm",
                "Bundle-Version", version,
                "Provide-Capability", "tollgate.model; tollgate.model=fm; version:Version=" + version,
                "Require-Capability", "osgi.extender; filter:=\"(&(osgi.extender=tollgate.model)(version>=1.0)"
                        + "(!(version>=2.0)))\", tollgate.engine; filter:=\"(tollgate.engine=" + engine + ")\""),
                Map.of("TOLLGATE-INF/model.json", "{\"name\":\"fm\",\"version\":\"" + version + "\",\"platform\":"
                        + "\"onnx\",\"file\":\"model.onnx\"}", "TOLLGATE-INF/model.onnx", "model " + version));
    }

    private static InputStream jar(Map<String, String> headers, Map<String, String> entries) throws IOException {
        Manifest manifest = new Manifest();
        Attributes main = manifest.getMainAttributes();
        main.put(Attributes.Name.MANIFEST_VERSION, "1.0");
        main.putValue("Bundle-ManifestVersion", "2");
        headers.forEach(main::putValue);
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (JarOutputStream out = new JarOutputStream(bytes, manifest)) {
            for (Map.Entry<String, String> e : entries.entrySet()) {
                out.putNextEntry(new JarEntry(e.getKey()));
                out.write(e.getValue().getBytes(StandardCharsets.UTF_8));
                out.closeEntry();
            }
        }
        return new java.io.ByteArrayInputStream(bytes.toByteArray());
    }

    @Test
    public void turnsTheBundleLifecycleOfAPluginIntoLifecycleCalls() throws Exception {
        Bundle engine = context.installBundle("file:engine.jar", jar(Map.of("Bundle-SymbolicName", "test.engine",
                "Provide-Capability", "tollgate.engine; tollgate.engine=onnx"), Map.of()));
        engine.start();
        Bundle other = context.installBundle("file:other.jar", jar(Map.of("Bundle-SymbolicName", "test.other"), Map.of()));
        other.start();
        Bundle plugin = context.installBundle("file:fm.jar", plugin("1.0.0", "onnx"));
        plugin.start();
        long id = plugin.getBundleId();

        tracker = new ModelPluginTracker(context, recorder);
        assertEquals(List.of("started 1.0.0", "opened [" + id + "]"), recorder.events);
        PluginSource started = recorder.sources.get(0);
        assertEquals(id, started.bundleId());
        assertEquals("io.acme.fm", started.symbolicName());
        assertEquals("1.0.0", started.version());
        assertEquals("file:fm.jar", started.location());
        assertEquals("fm", started.declaredModel());
        assertEquals("1.0.0", started.declaredModelVersion());
        assertEquals(PluginSource.DEFAULT_DESCRIPTOR, started.descriptorPath());
        assertEquals("fm", DescriptorReader.read(started).name());
        assertArrayEquals("model 1.0.0".getBytes(StandardCharsets.UTF_8), started.read("TOLLGATE-INF/model.onnx"));
        assertEquals(null, started.read("TOLLGATE-INF/missing.onnx"));

        recorder.clear();
        plugin.update(plugin("1.1.0", "onnx"));             // what fileinstall does when the jar changes
        assertEquals(List.of("stopped", "installed 1.1.0", "installed 1.1.0", "resolved 1.1.0", "started 1.1.0"),
                recorder.events);
        PluginSource upgraded = recorder.sources.get(recorder.sources.size() - 1);
        assertEquals("1.1.0", upgraded.declaredModelVersion());
        assertNotEquals(started.revisionKey(), upgraded.revisionKey());
        assertArrayEquals("model 1.1.0".getBytes(StandardCharsets.UTF_8), upgraded.read("TOLLGATE-INF/model.onnx"));

        recorder.clear();
        plugin.stop();
        plugin.start();
        assertEquals(List.of("stopped", "started 1.1.0"), recorder.events);
        assertEquals(upgraded.revisionKey(), recorder.sources.get(0).revisionKey());   // same revision: resumable

        recorder.clear();
        plugin.uninstall();                                 // STOPPED, UNRESOLVED, UNINSTALLED
        assertEquals(List.of("stopped", "installed 1.1.0", "uninstalled"), recorder.events);

        recorder.clear();
        tracker.deactivate();
        tracker = null;
        assertEquals("closing the tracker is not an uninstall", List.of("closed"), recorder.events);
    }

    @Test
    public void explainsWhyAPluginCannotResolveWithoutStartingIt() throws Exception {
        tracker = new ModelPluginTracker(context, recorder);
        Bundle plugin = context.installBundle("file:fm.jar", plugin("1.0.0", "tensorrt"));
        assertEquals(List.of("opened []", "installed 1.0.0"), recorder.events);
        PluginSource source = recorder.sources.get(0);
        Optional<String> problem = source.resolveProblem();
        assertEquals(Optional.of("nothing installed provides tollgate.engine (tollgate.engine=tensorrt); install the"
                + " bundle that provides it (for tollgate.engine, the engine bundle)"), problem);
        assertEquals(Bundle.INSTALLED, plugin.getState());

        context.installBundle("file:trt.jar", jar(Map.of("Bundle-SymbolicName", "test.trt",
                "Provide-Capability", "tollgate.engine; tollgate.engine=tensorrt"), Map.of()));
        recorder.clear();
        assertEquals("it resolves once the engine is there", Optional.empty(), source.resolveProblem());
        assertEquals(Bundle.RESOLVED, plugin.getState());
        assertEquals(List.of("resolved 1.0.0"), recorder.events);
    }

    @Test
    public void aPluginThatCarriesCodeStaysInstalledAndItsSnapshotSaysWhy() throws Exception {
        io.tollgate.guard.PluginGuard.register(context);      // as the launcher does, in this framework
        context.installBundle("file:engine.jar", jar(Map.of("Bundle-SymbolicName", "test.engine",
                "Provide-Capability", "tollgate.engine; tollgate.engine=onnx"), Map.of())).start();
        tracker = new ModelPluginTracker(context, recorder);
        Map<String, String> headers = new java.util.HashMap<>(Map.of(
                "Bundle-SymbolicName", "io.acme.evil",
                "Bundle-Version", "1.0.0",
                "Bundle-Activator", "com.evil.Activator",
                "Provide-Capability", "tollgate.model; tollgate.model=evil; version:Version=1.0.0",
                "Require-Capability", "osgi.extender; filter:=\"(osgi.extender=tollgate.model)\""));
        Bundle plugin = context.installBundle("file:evil.jar", jar(headers, Map.of(
                "TOLLGATE-INF/model.json", "{}", "com/evil/Activator.class", "not even a class")));
        try {
            plugin.start();
            fail("a plugin with an activator started");
        } catch (org.osgi.framework.BundleException expected) {
            // the resolver hook keeps it INSTALLED
        }
        assertEquals(Bundle.INSTALLED, plugin.getState());
        assertEquals(List.of("opened []", "installed 1.0.0"), recorder.events);
        PluginSource source = recorder.sources.get(0);
        assertEquals(Optional.of("plugin carries code: Bundle-Activator com.evil.Activator, class com/evil/Activator.class;"
                + " model plugins are data only (docs/plugins.md)"), source.refusal());
        assertEquals(Bundle.INSTALLED, plugin.getState());
        assertEquals(Optional.empty(), PluginBundle.of(context.installBundle("file:fm.jar", plugin("1.0.0", "onnx")),
                context.getBundle(0).adapt(org.osgi.framework.wiring.FrameworkWiring.class)).orElseThrow().refusal());
    }

    @Test
    public void awaitsUnresolvedAndPersistentlyStartedPluginsPresentAtOpen() throws Exception {
        Bundle unresolved = context.installBundle("file:fm.jar", plugin("1.0.0", "onnx"));
        tracker = new ModelPluginTracker(context, recorder);
        assertEquals(List.of("installed 1.0.0", "opened [" + unresolved.getBundleId() + "]"), recorder.events);
        assertTrue(recorder.sources.get(0).toString().contains("io.acme.fm 1.0.0"));
    }

    /** Records the calls the tracker makes. */
    private static final class Recorder implements PluginLifecycle {
        final List<String> events = new ArrayList<>();
        final List<PluginSource> sources = new ArrayList<>();

        void clear() {
            events.clear();
            sources.clear();
        }

        @Override
        public void trackerOpened(Set<Long> awaitedBundleIds) {
            events.add("opened " + new java.util.TreeSet<>(awaitedBundleIds));
        }

        @Override
        public void trackerClosed() {
            events.add("closed");
        }

        @Override
        public void pluginStarted(PluginSource plugin) {
            events.add("started " + plugin.version());
            sources.add(plugin);
        }

        @Override
        public void pluginResolved(PluginSource plugin) {
            events.add("resolved " + plugin.version());
            sources.add(plugin);
        }

        @Override
        public void pluginInstalled(PluginSource plugin) {
            events.add("installed " + plugin.version());
            sources.add(plugin);
        }

        @Override
        public void pluginStopped(long bundleId) {
            events.add("stopped");
        }

        @Override
        public void pluginUninstalled(long bundleId) {
            events.add("uninstalled");
        }
    }
}
