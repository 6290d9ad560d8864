package io.tollgate.runtime;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

import io.tollgate.tools.ExitCodes;
import java.io.ByteArrayOutputStream;
import java.io.ByteArrayInputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.jar.Attributes;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import java.util.jar.Manifest;
import org.junit.After;
import org.junit.Before;
import org.junit.Rule;
import org.junit.Test;
import org.junit.rules.TemporaryFolder;
import org.osgi.framework.Bundle;
import org.osgi.framework.BundleException;
import org.osgi.framework.Constants;
import org.osgi.framework.launch.Framework;

/** The framework the launcher makes: no extension bundles, and a stop nobody asked for is exit 1. */
public class ApplianceLauncherTest {
    @Rule
    public TemporaryFolder tmp = new TemporaryFolder();

    private Framework framework;

    @Before
    public void startFramework() throws Exception {
        Path root = tmp.getRoot().toPath();
        framework = ApplianceLauncher.newFramework(Map.of(Constants.FRAMEWORK_STORAGE, root.resolve("cache").toString(),
                Constants.FRAMEWORK_STORAGE_CLEAN, Constants.FRAMEWORK_STORAGE_CLEAN_ONFIRSTINIT));
        framework.start();
    }

    @After
    public void stopFramework() throws Exception {
        framework.stop();
        framework.waitForStop(10_000);
    }

    /**
     * Without the switch Felix 7.0.5 installs these RESOLVED, past every resolver hook, and runs their
     * {@code ExtensionBundle-Activator} at once. The log says the jar was refused, and why.
     */
    @Test
    public void frameworkExtensionBundlesCannotBeInstalled() throws Exception {
        PrintStream err = System.err;
        ByteArrayOutputStream log = new ByteArrayOutputStream();
        System.setErr(new PrintStream(log, true, StandardCharsets.UTF_8));       // slf4j-simple writes to System.err
        try {
            for (String host : new String[] {"system.bundle;extension:=framework", "system.bundle",
                    "org.apache.felix.framework;extension:=framework", "system.bundle;extension:=bootclasspath"}) {
                try {
                    Bundle b = framework.getBundleContext().installBundle("file:/plugins/ext.jar",
                            new ByteArrayInputStream(extension(host)));
                    fail(host + ": installed, state " + b.getState());
                } catch (BundleException expected) {
                    // "Could not create bundle object." (or "Unsupported Extension Bundle type: bootclasspath")
                }
            }
        } finally {
            System.setErr(err);
        }
        assertEquals("only the framework is installed", 1, framework.getBundleContext().getBundles().length);
        String text = log.toString(StandardCharsets.UTF_8);
        assertTrue(text, text.contains("WARN org.apache.felix.framework - refused file:/plugins/ext.jar (evil.extension):"
                + " not a model plugin"));
        assertTrue(text, text.contains("plugin carries code: ExtensionBundle-Activator com.evil.Activator, Fragment-Host"
                + " system.bundle;extension:=framework; model plugins are data only (docs/plugins.md)"));
        assertTrue(text, text.contains("Framework extension bundles are disabled, so the framework did not install it"
                + " and none of its code runs"));
        assertFalse(text, text.contains("add-opens"));
    }

    @Test
    public void aStopNobodyAskedForIsAnError() throws Exception {
        Thread bundle = new Thread(() -> {
            try {
                framework.getBundleContext().getBundle(0).stop();    // what a bundle's code could do
            } catch (BundleException e) {
                throw new IllegalStateException(e);
            }
        });
        bundle.start();
        try {
            ApplianceLauncher.awaitStop(framework, new AtomicBoolean(false));
            fail("an unrequested stop returned normally");
        } catch (CommandException e) {
            assertEquals(ExitCodes.FAILED, e.exitCode());
            assertTrue(e.getMessage(), e.getMessage().startsWith("the OSGi framework stopped although the appliance was"
                    + " not asked to stop (stopped)"));
        }
        bundle.join();
    }

    @Test
    public void aRequestedStopIsNot() throws Exception {
        AtomicBoolean requested = new AtomicBoolean(true);
        framework.stop();
        ApplianceLauncher.awaitStop(framework, requested);
        assertEquals("stopped, and no error", Bundle.RESOLVED, framework.getState());
    }

    private static byte[] extension(String host) throws Exception {
        Manifest m = new Manifest();
        Attributes a = m.getMainAttributes();
        a.put(Attributes.Name.MANIFEST_VERSION, "1.0");
        a.putValue("Bundle-ManifestVersion", "2");
        a.putValue("Bundle-SymbolicName", "evil.extension");
        a.putValue("Fragment-Host", host);
        a.putValue("ExtensionBundle-Activator", "com.evil.Activator");
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (JarOutputStream jar = new JarOutputStream(bytes, m)) {
            jar.putNextEntry(new JarEntry("data.txt"));
            jar.write(1);
        }
        return bytes.toByteArray();
    }

    @Test
    public void aNewDataFolderIsReadableByItsOwnerOnly() throws Exception {
        java.nio.file.Path data = java.nio.file.Files.createTempDirectory("tollgate-data").resolve("data");
        ApplianceLauncher.ownerOnly(data);
        org.junit.Assert.assertEquals("rwx------", java.nio.file.attribute.PosixFilePermissions.toString(
                java.nio.file.Files.getPosixFilePermissions(data)));
    }

    @Test
    public void anExistingDataFolderOpenToOthersIsMadeOwnerOnly() throws Exception {
        // what bin/tollgate's CDS step made under umask 022 before the appliance could (fix2 #2): rwxr-xr-x
        java.nio.file.Path data = java.nio.file.Files.createTempDirectory("tollgate-data").resolve("data");
        java.nio.file.Files.createDirectories(data.resolve("cds"));
        java.nio.file.Files.setPosixFilePermissions(data,
                java.nio.file.attribute.PosixFilePermissions.fromString("rwxr-xr-x"));
        ApplianceLauncher.ownerOnly(data);
        org.junit.Assert.assertEquals("rwx------", java.nio.file.attribute.PosixFilePermissions.toString(
                java.nio.file.Files.getPosixFilePermissions(data)));
    }
}
