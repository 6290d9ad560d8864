package io.tollgate.guard;

import io.tollgate.licensing.Entitlements;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Dictionary;
import java.util.Hashtable;
import java.util.List;
import org.osgi.framework.BundleActivator;
import org.osgi.framework.BundleContext;
import org.osgi.framework.Constants;
import org.osgi.framework.ServiceReference;
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
    /** Framework property: the trusted vendors' folder ({@code conf/vendors}). @since 1.3 */
    public static final String VENDORS_PROPERTY = "tollgate.vendors";
    /** Framework property: the licenses folders, separated by the path separator ({@code licenses}). @since 1.3 */
    public static final String LICENSES_PROPERTY = "tollgate.licenses";
    /** Framework property: the data folder; its {@code device/} holds the device id and key. */
    public static final String DATA_PROPERTY = "tollgate.data";
    private static final Logger LOG = LoggerFactory.getLogger(PluginGuard.class);

    private ServiceRegistration<ResolverHookFactory> registration;
    private LicenseStore store;

    /**
     * The license store the framework properties describe ({@value #VENDORS_PROPERTY}, {@value #LICENSES_PROPERTY},
     * {@value #DATA_PROPERTY}), read once; without them no vendor is trusted and no plugin is entitled.
     * @since 1.3
     */
    public static LicenseStore storeOf(BundleContext context) {
        String vendors = context.getProperty(VENDORS_PROPERTY);
        String folders = context.getProperty(LICENSES_PROPERTY);
        String data = context.getProperty(DATA_PROPERTY);
        List<Path> licenses = new ArrayList<>();
        if (folders != null) {
            for (String f : folders.split(java.io.File.pathSeparator)) {
                if (!f.isBlank()) {
                    licenses.add(Path.of(f.trim()));
                }
            }
        }
        LicenseStore s = new LicenseStore(vendors == null || vendors.isBlank() ? null : Path.of(vendors), licenses,
                data == null || data.isBlank() ? null : Path.of(data).resolve("device"), Clock.systemUTC());
        s.reload();
        return s;
    }

    /** The framework's license store (the registered {@link Entitlements} service), or null when there is none. */
    static LicenseStore store(BundleContext context) {
        ServiceReference<Entitlements> ref = context.getServiceReference(Entitlements.class);
        if (ref == null) {
            return null;
        }
        Entitlements e = context.getService(ref);
        try {
            return e instanceof LicenseStore ? (LicenseStore) e : null;
        } finally {
            context.ungetService(ref);
        }
    }

    /**
     * Registers a new hook on {@code context} that applies {@link PluginCodeRule} alone, without licensing (tests of
     * the rule); it works until the registration (or the framework) ends. The appliance uses
     * {@link #register(BundleContext, LicenseStore)}.
     */
    public static ServiceRegistration<ResolverHookFactory> register(BundleContext context) {
        String folder = context.getProperty(PLUGINS_PROPERTY);
        return registerHook(context, new PluginResolverHook(folder == null || folder.isBlank() ? null
                : Path.of(folder), context, null));
    }

    /**
     * Registers {@code store} as the framework's one {@link Entitlements} service and a hook that consults it; the
     * hook reconciles the framework ({@link PluginResolverHook#reconcile}) whenever the store changes. The caller
     * starts and stops the store's watch.
     *
     * @since 1.3
     */
    public static ServiceRegistration<ResolverHookFactory> register(BundleContext context, LicenseStore store) {
        String folder = context.getProperty(PLUGINS_PROPERTY);
        PluginResolverHook hook = new PluginResolverHook(folder == null || folder.isBlank() ? null : Path.of(folder),
                context, store);
        Dictionary<String, Object> described = new Hashtable<>();
        described.put(Constants.SERVICE_DESCRIPTION, "Tollgate: licenses, trusted vendors and entitlements"
                + " (docs/licensing.md)");
        context.registerService(Entitlements.class, store, described);
        store.addListener(hook::reconcile);
        return registerHook(context, hook);
    }

    private static ServiceRegistration<ResolverHookFactory> registerHook(BundleContext context, PluginResolverHook hook) {
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
        store = storeOf(context);
        registration = register(context, store);
        store.watch();
    }

    @Override
    public void stop(BundleContext context) {
        if (store != null) {
            store.close();
            store = null;
        }
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
