package io.tollgate.guard.testing;

import java.nio.file.Files;
import java.nio.file.Path;
import org.osgi.framework.BundleActivator;
import org.osgi.framework.BundleContext;

/**
 * A plugin's code in {@code PluginResolverHookTest}: copied into test bundles as their activator, it
 * creates the file named by the system property {@code tollgate.guard.test.marker} when it runs.
 */
public final class MarkerActivator implements BundleActivator {
    @Override
    public void start(BundleContext context) throws Exception {
        Files.writeString(Path.of(System.getProperty("tollgate.guard.test.marker")), context.getBundle().getSymbolicName());
    }

    @Override
    public void stop(BundleContext context) {
    }
}
