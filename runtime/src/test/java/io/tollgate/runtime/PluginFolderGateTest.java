package io.tollgate.runtime;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertNotNull;
import static org.junit.Assert.assertNull;
import static org.junit.Assert.assertTrue;

import io.tollgate.guard.PluginFile;
import io.tollgate.guard.PluginFileReport;
import io.tollgate.tools.plugin.PluginJar;
import java.io.ByteArrayOutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import java.util.jar.Attributes;
import java.util.jar.JarOutputStream;
import java.util.jar.Manifest;
import org.junit.After;
import org.junit.Before;
import org.junit.Rule;
import org.junit.Test;
import org.junit.rules.TemporaryFolder;
import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;
import org.osgi.framework.Constants;
import org.osgi.framework.launch.Framework;

/**
 * The plugin folder gate in a real Felix, on real files, with its clock in the test's hand: a jar is taken only
 * once it is settled and complete, an incomplete one never unloads the version that serves, and every file that is
 * not installed is reported with the reason.
 */
public class PluginFolderGateTest {
    @Rule
    public TemporaryFolder tmp = new TemporaryFolder();

    private final AtomicLong now = new AtomicLong(1_000_000);
    private Framework framework;
    private BundleContext context;
    private Path plugins;
    private PluginFolderGate gate;

    @Before
    public void startFramework() throws Exception {
        Path root = tmp.getRoot().toPath();
        plugins = Files.createDirectories(root.resolve("plugins"));
        framework = ApplianceLauncher.newFramework(Map.of(Constants.FRAMEWORK_STORAGE, root.resolve("cache").toString(),
                Constants.FRAMEWORK_STORAGE_CLEAN, Constants.FRAMEWORK_STORAGE_CLEAN_ONFIRSTINIT));
        framework.start();
        context = framework.getBundleContext();
        gate = new PluginFolderGate(context, plugins, root.resolve("copies"), now::get);
    }

    @After
    public void stopFramework() throws Exception {
        gate.close();
        framework.stop();
        framework.waitForStop(10_000);
    }

    private static byte[] plugin(String version) throws Exception {
        return new PluginJar("fm", version).model("model.onnx", new byte[] {1, 2, 3}).toBytes();
    }

    /** Writes {@code bytes} over {@code file} in place, with a modification time of its own (as a copy in progress). */
    private void write(Path file, byte[] bytes, long mtime) throws Exception {
        Files.write(file, bytes);
        Files.setLastModifiedTime(file, FileTime.fromMillis(mtime));
    }

    private Bundle installed(Path file) {
        return context.getBundle(PluginFolderGate.location(file));
    }

    private PluginFile reported(String fileName) {
        return gate.files().stream().filter(f -> f.fileName().equals(fileName)).findFirst().orElse(null);
    }

    /** Polls, {@code ms} later. */
    private void pollAfter(long ms) throws Exception {
        now.addAndGet(ms);
        gate.poll();
    }

    /**
     * The framework stopping ends the watch without a word: the system bundle's context is invalid then (Felix throws
     * "Invalid BundleContext"), which main logged as a WARN "reading the plugins folder failed" after every stop.
     */
    @Test
    public void aTickAfterTheFrameworkStoppedEndsTheWatchQuietly() throws Exception {
        gate.installPresent();
        gate.watch();
        assertEquals(PluginFolderGate.Tick.POLLED, gate.tick());
        assertTrue(gate.watching());
        framework.stop();
        framework.waitForStop(10_000);
        assertEquals(PluginFolderGate.Tick.CLOSED, gate.tick());
        assertFalse("the watch ended with the framework", gate.watching());
    }

    /**
     * A jar that cannot be taken because the gate's private copy folder is unusable (here: a file) is reported with the
     * reason and tried again on every poll, then installed once the folder is usable; main marked it judged before the
     * copy, so it stayed in the folder, never installed and never reported, after one WARN.
     */
    @Test
    public void aJarThatCannotBeCopiedIsReportedAndTakenOnceTheCopyFolderIsBack() throws Exception {
        gate.installPresent();     // (no watch thread: this test's ticks are the only ones, on its clock)
        Path copies = tmp.getRoot().toPath().resolve("copies");
        deleteTree(copies);
        Files.writeString(copies, "not a folder");
        Path jar = plugins.resolve("fm.jar");
        write(jar, plugin("1.0.0"), 10_000);
        pollAfter(1_000);
        now.addAndGet(PluginFolderGate.STABLE_MS + 1_000);
        assertEquals("a file's failure is the file's, not the watch's", PluginFolderGate.Tick.POLLED, gate.tick());
        assertNull(installed(jar));
        PluginFile problem = reported("fm.jar");
        assertNotNull("reported, not silently left in the folder", problem);
        assertFalse(problem.copying());
        assertTrue(problem.reason(), problem.reason().startsWith("plugins folder: fm.jar is not installed yet: taking "
                + "it failed ("));
        assertTrue(problem.reason(), problem.reason().contains("); it is tried again in 1 s (each failure doubles the "
                + "wait, up to 60 s; a change of the file at once)"));
        now.addAndGet(1_000);
        assertEquals(PluginFolderGate.Tick.POLLED, gate.tick());
        assertNull("still failing", installed(jar));
        assertTrue(reported("fm.jar").reason(), reported("fm.jar").reason().contains("tried again in 2 s"));
        now.addAndGet(1_000);
        gate.tick();
        assertTrue("no attempt before the wait is over", reported("fm.jar").reason().contains("tried again in 2 s"));
        now.addAndGet(1_000);
        gate.tick();
        assertTrue(reported("fm.jar").reason(), reported("fm.jar").reason().contains("tried again in 4 s"));
        // the folder is usable again: the next poll takes the unchanged jar, and the report clears
        Files.delete(copies);
        Files.createDirectories(copies);
        now.addAndGet(3_000);
        gate.tick();
        assertNull("not before its wait is over", installed(jar));
        now.addAndGet(1_000);
        assertEquals(PluginFolderGate.Tick.POLLED, gate.tick());
        assertNotNull("installed once the copy folder is back", installed(jar));
        assertNull(reported("fm.jar"));
    }

    private static void deleteTree(Path root) throws Exception {
        if (!Files.exists(root)) {
            return;
        }
        try (var s = Files.walk(root)) {
            for (Path p : s.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        }
    }

    @Test
    public void aSlowInPlaceOverwriteNeverUnloadsTheServingVersionAndUpgradesOnceComplete() throws Exception {
        Path jar = plugins.resolve("fm.jar");
        write(jar, plugin("1.0.0"), 10_000);
        gate.installPresent();
        Bundle b = installed(jar);
        assertNotNull("installed at start-up", b);
        assertEquals("1.0.0", b.getVersion().toString());
        // (it stays INSTALLED: this bare framework has no serving extender and no engine to resolve against)
        assertEquals(List.of(), gate.files());

        byte[] next = plugin("1.1.0");
        // The copy writes half, then stalls longer than the stability time (a slow link): the file is truncated.
        write(jar, Arrays.copyOf(next, next.length / 2), 20_000);
        pollAfter(1_000);
        PluginFile copying = reported("fm.jar");
        assertTrue("reported while it changes: " + copying, copying.copying());
        pollAfter(PluginFolderGate.STABLE_MS);
        PluginFile refused = reported("fm.jar");
        assertFalse(refused.copying());
        assertTrue(refused.reason(), refused.reason().startsWith("plugins folder: fm.jar is not installed: it is not"
                + " a complete jar ("));
        assertTrue(refused.reason(), refused.reason().endsWith("the version installed from it before serves on"));
        assertEquals("the serving version is untouched", b, installed(jar));
        assertEquals(Bundle.INSTALLED, b.getState());
        assertEquals("1.0.0", installed(jar).getVersion().toString());

        // The copy completes: taken once settled, as an update of the same bundle.
        write(jar, next, 30_000);
        pollAfter(1_000);
        assertEquals("not before it settled", "1.0.0", installed(jar).getVersion().toString());
        pollAfter(PluginFolderGate.STABLE_MS);
        assertEquals("1.1.0", installed(jar).getVersion().toString());
        assertEquals(b.getBundleId(), installed(jar).getBundleId());
        assertNull("nothing left to report", reported("fm.jar"));
    }

    @Test
    public void emptyTruncatedAndNonPluginFilesAreReportedAndNeverInstalled() throws Exception {
        byte[] good = plugin("1.0.0");
        write(plugins.resolve("empty.jar"), new byte[0], 10_000);
        write(plugins.resolve("truncated.jar"), Arrays.copyOf(good, good.length - 30), 10_000);
        write(plugins.resolve("library.jar"), library(), 10_000);
        write(plugins.resolve(".hidden.jar"), new byte[0], 10_000);
        gate.installPresent();

        assertEquals(List.of("empty.jar", "library.jar", "truncated.jar"),
                gate.files().stream().map(PluginFile::fileName).toList());
        assertEquals("plugins folder: empty.jar is not installed: the file is empty (0 bytes): a copy that has not"
                + " started or failed; copy the plugin again", reported("empty.jar").reason());
        assertTrue(reported("truncated.jar").reason(), reported("truncated.jar").reason().contains("it is not a"
                + " complete jar"));
        PluginFile library = reported("library.jar");
        assertEquals("com.acme.library", library.symbolicName());
        assertEquals("2.0.0", library.version());
        assertTrue(library.reason(), library.reason().contains("com.acme.library 2.0.0 is refused: not a model"
                + " plugin: it provides no tollgate.model capability"));
        assertTrue(library.reason(), library.reason().contains("Bundle-Activator com.acme.Activator"));
        assertTrue(library.reason(), library.reason().endsWith("it was not installed, so none of its code runs"));
        for (String name : List.of("empty.jar", "truncated.jar", "library.jar", ".hidden.jar")) {
            assertNull(name + " is never installed", installed(plugins.resolve(name)));
        }
        assertEquals("only the framework itself", 1, context.getBundles().length);

        // Published as the service the serving bundle reads for /admin/plugins.
        PluginFileReport report = context.getService(context.getServiceReference(PluginFileReport.class));
        assertEquals(3, report.files().size());

        // Repaired in place: installed once settled, and no longer reported.
        write(plugins.resolve("truncated.jar"), good, 20_000);
        pollAfter(100);
        assertNull(installed(plugins.resolve("truncated.jar")));
        pollAfter(PluginFolderGate.STABLE_MS);
        assertNotNull(installed(plugins.resolve("truncated.jar")));
        assertNull(reported("truncated.jar"));
    }

    @Test
    public void aDroppedJarWaitsUntilSettledAndADeletedOneIsUninstalled() throws Exception {
        gate.installPresent();
        Path jar = plugins.resolve("fm.jar");
        write(jar, plugin("1.0.0"), 10_000);
        pollAfter(1_000);
        assertNull("not while it may still be written", installed(jar));
        assertTrue(reported("fm.jar").copying());
        pollAfter(PluginFolderGate.STABLE_MS);
        Bundle b = installed(jar);
        assertNotNull(b);
        Files.delete(jar);
        pollAfter(1_000);
        assertEquals(Bundle.UNINSTALLED, b.getState());
        assertEquals(List.of(), gate.files());
    }

    /** A bundle with code that is no model plugin (a library, or something worse). */
    private static byte[] library() throws Exception {
        Manifest m = new Manifest();
        Attributes a = m.getMainAttributes();
        a.put(Attributes.Name.MANIFEST_VERSION, "1.0");
        a.putValue("Bundle-ManifestVersion", "2");
        a.putValue("Bundle-SymbolicName", "com.acme.library");
        a.putValue("Bundle-Version", "2.0.0");
        a.putValue("Bundle-Activator", "com.acme.Activator");
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (JarOutputStream jar = new JarOutputStream(out, m)) {
            jar.flush();
        }
        return out.toByteArray();
    }
}
