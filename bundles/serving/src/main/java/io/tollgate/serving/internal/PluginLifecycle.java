package io.tollgate.serving.internal;

import java.util.Set;

/**
 * Where {@link ModelPluginTracker} reports what happens to model plugin bundles. Implemented by
 * {@link ServingService} and registered as a service private to this bundle (its package is not
 * exported), so the OSGi-facing tracker stays thin and the logic behind it is testable without a
 * framework. Every method returns at once: the work happens on the serving bundle's own threads,
 * never on the framework's event thread.
 */
public interface PluginLifecycle {
    /**
     * Every plugin present when the tracker opened has been reported; {@code awaitedBundleIds} are
     * those the appliance must process before it calls itself ready.
     */
    void trackerOpened(Set<Long> awaitedBundleIds);

    void trackerClosed();

    /** The plugin revision is ACTIVE. */
    void pluginStarted(PluginSource plugin);

    /** The plugin revision is RESOLVED, STARTING or STOPPING. */
    void pluginResolved(PluginSource plugin);

    /** The plugin revision is INSTALLED, i.e. not (yet) resolved. */
    void pluginInstalled(PluginSource plugin);

    /** The plugin stopped (also the first step of an update). */
    void pluginStopped(long bundleId);

    /** The plugin was uninstalled, or its new revision no longer declares a model. */
    void pluginUninstalled(long bundleId);
}
