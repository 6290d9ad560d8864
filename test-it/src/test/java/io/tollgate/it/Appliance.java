package io.tollgate.it;

import java.io.File;
import java.util.Dictionary;
import java.util.Hashtable;
import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;
import org.osgi.service.cm.Configuration;
import org.osgi.service.cm.ConfigurationAdmin;

/** Brings the appliance inside the test framework up the way the launcher does: configuration, then plugins. */
final class Appliance {
    private Appliance() {
    }

    /** Configures the endpoint on the test's free port (once per framework) and waits until it listens. */
    static Http start(BundleContext context, ConfigurationAdmin configAdmin) throws Exception {
        int port = Integer.getInteger(TollgateExam.PORT);
        Configuration c = configAdmin.getConfiguration("io.tollgate.endpoint", "?");
        if (c.getProperties() == null) {
            Dictionary<String, Object> p = new Hashtable<>();
            p.put("port", port);
            p.put("host", "127.0.0.1");
            p.put("drain.timeout.ms", 5000);
            c.update(p);
        }
        Http http = new Http(port);
        http.await("/v2/health/live", 200, 30_000);
        return http;
    }

    /** Installs and starts the plugin at {@code file} unless a bundle from there is installed already. */
    static Bundle installOnce(BundleContext context, String file) throws Exception {
        String location = new File(file).toURI().toString();
        Bundle b = context.getBundle(location);
        if (b == null) {
            b = context.installBundle(location);
        }
        if (b.getState() != Bundle.ACTIVE) {
            b.start();
        }
        return b;
    }
}
