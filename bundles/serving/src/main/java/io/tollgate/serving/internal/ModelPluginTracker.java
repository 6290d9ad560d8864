package io.tollgate.serving.internal;

import io.tollgate.licensing.Entitlements;
import java.util.HashSet;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;
import org.osgi.framework.BundleEvent;
import org.osgi.framework.Constants;
import org.osgi.framework.ServiceReference;
import org.osgi.framework.startlevel.BundleStartLevel;
import org.osgi.framework.startlevel.FrameworkStartLevel;
import org.osgi.framework.wiring.FrameworkWiring;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Reference;
import org.osgi.util.tracker.BundleTracker;
import org.osgi.util.tracker.BundleTrackerCustomizer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The {@code tollgate.model} extender's eye on the framework: a {@link BundleTracker} over bundles
 * whose current revision declares a {@code tollgate.model} capability. It only translates bundle
 * events into {@link PluginLifecycle} calls, which return at once; everything else happens on the
 * serving bundle's threads.
 */
@Component(immediate = true, service = {})
public final class ModelPluginTracker {
    private static final Logger LOG = LoggerFactory.getLogger(ModelPluginTracker.class);
    private static final int STATES = Bundle.INSTALLED | Bundle.RESOLVED | Bundle.STARTING | Bundle.ACTIVE
            | Bundle.STOPPING;

    private final BundleContext context;
    private final PluginLifecycle lifecycle;
    private final FrameworkWiring wiring;
    private final BundleTracker<Long> tracker;
    private volatile boolean closing;
    /** The framework's licensing state (issue 10), when there is one: its changes re-report refused plugins. */
    private final ServiceReference<Entitlements> entitlementsRef;
    private final Entitlements entitlements;
    private final Runnable relicensed = this::relicensed;

    @Activate
    public ModelPluginTracker(BundleContext context, @Reference(name = "lifecycle") PluginLifecycle lifecycle) {
        this.context = context;
        this.lifecycle = lifecycle;
        this.wiring = context.getBundle(Constants.SYSTEM_BUNDLE_LOCATION).adapt(FrameworkWiring.class);
        this.tracker = new BundleTracker<>(context, STATES, new Customizer());
        tracker.open();
        Set<Long> awaited = new HashSet<>();
        for (Map.Entry<Bundle, Long> e : tracker.getTracked().entrySet()) {
            if (awaitedAtStart(e.getKey())) {
                awaited.add(e.getValue());
            }
        }
        LOG.info("tracking model plugins: {} present, {} to process before serving is ready", tracker.size(),
                awaited.size());
        lifecycle.trackerOpened(awaited);
        // The system bundle's Entitlements service (the launcher registers it before any bundle starts): when licenses
        // change, a plugin that stays unresolved may be refused for another reason (a license arrived but it carries
        // code; a license for another device...), and /admin/plugins must say the current one.
        entitlementsRef = context.getServiceReference(Entitlements.class);
        entitlements = entitlementsRef == null ? null : context.getService(entitlementsRef);
        if (entitlements != null) {
            entitlements.addListener(relicensed);
        }
    }

    /** Licenses changed (the licensing thread): every plugin still INSTALLED is reported again, with a fresh verdict. */
    private void relicensed() {
        if (closing) {
            return;
        }
        for (Bundle bundle : tracker.getBundles() == null ? new Bundle[0] : tracker.getBundles()) {
            if (bundle.getState() == Bundle.INSTALLED) {
                PluginBundle.of(bundle, wiring).ifPresent(lifecycle::pluginInstalled);
            }
        }
    }

    @Deactivate
    void deactivate() {
        closing = true;     // closing the tracker reports every bundle as removed: not an uninstall
        if (entitlements != null) {
            entitlements.removeListener(relicensed);
            try {
                context.ungetService(entitlementsRef);
            } catch (IllegalStateException e) {
                // the framework is stopping
            }
        }
        tracker.close();
        lifecycle.trackerClosed();
    }

    /** Started or about to be started by the framework, or unresolved (to be diagnosed). */
    private boolean awaitedAtStart(Bundle bundle) {
        int state = bundle.getState();
        if (state == Bundle.ACTIVE || state == Bundle.STARTING || state == Bundle.INSTALLED) {
            return true;
        }
        BundleStartLevel level = bundle.adapt(BundleStartLevel.class);
        if (state != Bundle.RESOLVED || level == null || !level.isPersistentlyStarted()) {
            return false;
        }
        FrameworkStartLevel framework = context.getBundle(Constants.SYSTEM_BUNDLE_LOCATION)
                .adapt(FrameworkStartLevel.class);
        int target = framework == null ? Integer.MAX_VALUE : framework.getStartLevel();
        try {
            String beginning = context.getProperty(Constants.FRAMEWORK_BEGINNING_STARTLEVEL);
            if (beginning != null) {
                target = Math.max(target, Integer.parseInt(beginning.trim()));
            }
        } catch (NumberFormatException e) {
            LOG.debug("ignoring a malformed {}", Constants.FRAMEWORK_BEGINNING_STARTLEVEL);
        }
        return level.getStartLevel() <= target;
    }

    private void report(Bundle bundle, BundleEvent event, PluginBundle plugin) {
        if (event == null) {
            switch (bundle.getState()) {
                case Bundle.ACTIVE:
                    lifecycle.pluginStarted(plugin);
                    break;
                case Bundle.INSTALLED:
                    lifecycle.pluginInstalled(plugin);
                    break;
                default:
                    lifecycle.pluginResolved(plugin);
            }
            return;
        }
        switch (event.getType()) {
            case BundleEvent.STARTED:
                lifecycle.pluginStarted(plugin);
                break;
            case BundleEvent.STOPPED:
                lifecycle.pluginStopped(plugin.bundleId());
                break;
            case BundleEvent.INSTALLED:
            case BundleEvent.UPDATED:
            case BundleEvent.UNRESOLVED:
                lifecycle.pluginInstalled(plugin);
                break;
            case BundleEvent.RESOLVED:
                lifecycle.pluginResolved(plugin);
                break;
            default:
                break;      // STARTING, STOPPING, LAZY_ACTIVATION: the next event says where it went
        }
    }

    private final class Customizer implements BundleTrackerCustomizer<Long> {
        @Override
        public Long addingBundle(Bundle bundle, BundleEvent event) {
            Optional<PluginBundle> plugin = PluginBundle.of(bundle, wiring);
            if (plugin.isEmpty()) {
                return null;
            }
            report(bundle, event, plugin.get());
            return bundle.getBundleId();
        }

        @Override
        public void modifiedBundle(Bundle bundle, BundleEvent event, Long bundleId) {
            Optional<PluginBundle> plugin = PluginBundle.of(bundle, wiring);
            if (plugin.isEmpty()) {
                if (event != null && event.getType() == BundleEvent.STOPPED) {
                    lifecycle.pluginStopped(bundleId);
                } else {
                    lifecycle.pluginUninstalled(bundleId);   // its new revision is no model plugin
                }
                return;
            }
            report(bundle, event, plugin.get());
        }

        @Override
        public void removedBundle(Bundle bundle, BundleEvent event, Long bundleId) {
            if (!closing) {
                lifecycle.pluginUninstalled(bundleId);
            }
        }
    }
}
