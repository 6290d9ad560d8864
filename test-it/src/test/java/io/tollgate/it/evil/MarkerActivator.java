package io.tollgate.it.evil;

import java.nio.file.Files;
import java.nio.file.Path;
import org.osgi.framework.BundleActivator;
import org.osgi.framework.BundleContext;

/**
 * The code a hostile plugin would run: as its {@code Bundle-Activator}, it leaves the file
 * {@code plugin-code-ran-<symbolic name>} in the appliance's data folder (where the device key and the
 * journal live). Its class file is copied into test plugins ({@link io.tollgate.it.CodePlugins}); the tests
 * prove the file never appears.
 */
public final class MarkerActivator implements BundleActivator {
    @Override
    public void start(BundleContext context) throws Exception {
        Path data = Path.of(context.getProperty("tollgate.data"));
        Files.writeString(data.resolve("plugin-code-ran-" + context.getBundle().getSymbolicName()), "activator");
    }

    @Override
    public void stop(BundleContext context) {
    }
}
