package io.tollgate.guard;

import java.nio.file.Path;
import java.util.Dictionary;
import java.util.Hashtable;
import org.osgi.framework.BundleActivator;
import org.osgi.framework.BundleContext;
import org.osgi.framework.Constants;
import org.osgi.framework.ServiceRegistration;
import org.osgi.framework.hooks.resolver.ResolverHookFactory;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Puts the {@link PluginResolverHook} into a framework. The launcher calls {@link #register} on the system
 * bundle's context right after {@code Framework.init()}, before any bundle is installed, so the hook lives
 * exactly as long as the framework and no bundle can stop it (docs/decisions.md, 2026-11-30). Where the
 * framework is made by someone else (Pax Exam), a bundle with no classes of its own names this class as
 * its {@code Bundle-Activator} and imports this package from the system bundle, so the same class does the
 * same registration.
 *
 * <p>The plugins folder comes from the framework property {@value #PLUGINS_PROPERTY}; without it only
 * bundles that provide {@code tollgate.model} are checked.
 *
 * @since 1.0
 */
public final class PluginGuard implements BundleActivator {
    /** Framework property: the folder fileinstall installs plugins from. */
    public static final String PLUGINS_PROPERTY = "tollgate.plugins";
    private static final Logger LOG = LoggerFactory.getLogger(PluginGuard.class);

    private ServiceRegistration<ResolverHookFactory> registration;

    /** Registers a new hook on {@code context}; it works until the registration (or the framework) ends. */
    public static ServiceRegistration<ResolverHookFactory> register(BundleContext context) {
        String folder = context.getProperty(PLUGINS_PROPERTY);
        PluginResolverHook hook = new PluginResolverHook(folder == null || folder.isBlank() ? null : Path.of(folder),
                context);
        Dictionary<String, Object> properties = new Hashtable<>();
        properties.put(Constants.SERVICE_DESCRIPTION, "Tollgate: model plugins are data only (" + PluginCodeRule.DOCS + ")");
        ServiceRegistration<ResolverHookFactory> registration =
                context.registerService(ResolverHookFactory.class, hook, properties);
        LOG.debug("plugin guard registered: plugins that carry code will not resolve (plugins folder: {})",
                hook.pluginsFolder().map(Path::toString).orElse("none"));
        return registration;
    }

    @Override
    public void start(BundleContext context) {
        registration = register(context);
    }

    @Override
    public void stop(BundleContext context) {
        if (registration != null) {
            try {
                registration.unregister();
            } catch (IllegalStateException e) {
                // already gone with the framework
            }
            registration = null;
        }
    }
}
