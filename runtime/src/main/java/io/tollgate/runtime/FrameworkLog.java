package io.tollgate.runtime;

import io.tollgate.guard.BundleContents;
import io.tollgate.guard.PluginCodeRule;
import java.util.Locale;
import org.osgi.framework.Bundle;
import org.osgi.framework.Constants;
import org.osgi.framework.ServiceReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Felix's own messages (framework property {@code felix.log.logger}), into the appliance's log under
 * {@code org.apache.felix.framework} instead of bare lines on stdout. One message is rewritten: Felix refuses to
 * install a framework extension bundle ({@code Fragment-Host: system.bundle}) when extensions are disabled
 * ({@link ApplianceLauncher#newFramework}), with a hint about {@code --add-opens} that would mislead an operator;
 * the log says instead that the jar was refused and why, in the plugin guard's words.
 *
 * <p>Threads: whichever thread Felix logs on; stateless.
 */
final class FrameworkLog extends org.apache.felix.framework.Logger {
    private static final Logger LOG = LoggerFactory.getLogger("org.apache.felix.framework");

    @Override
    protected void doLog(Bundle bundle, ServiceReference sr, int level, String msg, Throwable throwable) {
        if (bundle != null && level <= LOG_WARNING && isExtension(bundle)) {
            LOG.warn("refused {} ({}): {}. Framework extension bundles are disabled, so the framework did not install"
                    + " it and none of its code runs", bundle.getLocation(), bundle.getSymbolicName(), reason(bundle));
            return;
        }
        String text = (bundle == null ? "" : bundle + ": ") + msg + (sr == null ? "" : " (" + sr + ")");
        switch (level) {
            case LOG_ERROR -> LOG.error(text, throwable);
            case LOG_WARNING -> LOG.warn(text, throwable);
            case LOG_INFO -> LOG.info(text, throwable);
            default -> LOG.debug(text, throwable);
        }
    }

    /** True when the bundle is a fragment of the framework itself: an extension bundle. */
    static boolean isExtension(Bundle bundle) {
        String host;
        try {
            host = bundle.getHeaders("").get(Constants.FRAGMENT_HOST);
        } catch (RuntimeException e) {
            return false;
        }
        if (host == null) {
            return false;
        }
        String name = host.split("[;,]", 2)[0].trim().toLowerCase(Locale.ROOT);
        return name.equals(Constants.SYSTEM_BUNDLE_SYMBOLICNAME) || name.equals("org.apache.felix.framework")
                || host.contains(Constants.EXTENSION_DIRECTIVE);
    }

    private static String reason(Bundle bundle) {
        try {
            return BundleContents.of(bundle).verdict(true).reason();
        } catch (RuntimeException e) {
            // a bundle Felix is half-way through making: its headers are all there is
            return "plugin carries code: Fragment-Host " + bundle.getHeaders("").get(Constants.FRAGMENT_HOST) + "; model"
                    + " plugins are data only (" + PluginCodeRule.DOCS + ")";
        }
    }
}
