package io.tollgate.it;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;
import static org.ops4j.pax.exam.CoreOptions.systemProperty;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import javax.inject.Inject;
import org.junit.Before;
import org.junit.Test;
import org.junit.runner.RunWith;
import org.ops4j.pax.exam.Configuration;
import org.ops4j.pax.exam.Option;
import org.ops4j.pax.exam.junit.PaxExam;
import org.ops4j.pax.exam.spi.reactors.ExamReactorStrategy;
import org.ops4j.pax.exam.spi.reactors.PerClass;
import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;
import org.osgi.framework.BundleException;
import org.osgi.service.cm.ConfigurationAdmin;

/**
 * Plugins carry no code of their own (issue 9): in real Felix with the distribution's bundles, a plugin
 * with a {@code Bundle-Activator}, one with a Declarative Services component and one with only an extra
 * class and an {@code Import-Package} are each refused before any of their code can run. Each carries code
 * that would leave a file in the data folder; the file never appears, the bundle never leaves INSTALLED
 * (so not even a {@code loadClass} reaches its classes), {@code /admin/plugins} and
 * {@code POST /v2/repository/index} give the reason, and the example plugin serves on.
 */
@RunWith(PaxExam.class)
@ExamReactorStrategy(PerClass.class)
public class PluginCodeIT {
    private static final float[] ZEROS = new float[784];
    private static final String DATA_ONLY = "; model plugins are data only (docs/plugins.md)";

    @Inject
    private BundleContext context;
    @Inject
    private ConfigurationAdmin configAdmin;

    private Http http;
    private Path data;

    @Configuration
    public Option[] config() throws Exception {
        return TollgateExam.options(systemProperty(TestPlugins.DIR).value(TestPlugins.write().toString()));
    }

    @Before
    public void appliance() throws Exception {
        http = Appliance.start(context, configAdmin);
        data = Paths.get(System.getProperty(TollgateExam.DATA));
        Appliance.installOnce(context, System.getProperty(TollgateExam.PLUGINS) + "/fashion-mnist-1.0.0.jar");
        http.await("/v2/models/fashion-mnist/ready", 200, 60_000);
    }

    @Test
    public void aPluginWithAnActivatorIsRefusedAndItsActivatorNeverRuns() throws Exception {
        Bundle b = installAndTryToStart(CodePlugins.ACTIVATOR);
        assertCodeNeverRan(b, CodePlugins.activatorMarker(data, CodePlugins.ACTIVATOR),
                "io.tollgate.it.evil.MarkerActivator");
        assertRefused(CodePlugins.ACTIVATOR, "plugin carries code: Bundle-Activator io.tollgate.it.evil.MarkerActivator, "
                + "Import-Package org.osgi.framework, class io/tollgate/it/evil/MarkerActivator.class" + DATA_ONLY);
    }

    @Test
    public void aPluginWithADeclarativeServicesComponentIsRefusedAndTheComponentNeverActivates() throws Exception {
        Bundle b = installAndTryToStart(CodePlugins.COMPONENT);
        assertCodeNeverRan(b, CodePlugins.marker(data, "component"), "io.tollgate.it.evil.MarkerComponent");
        assertRefused(CodePlugins.COMPONENT, "plugin carries code: Service-Component OSGI-INF/evil.xml, "
                + "OSGi descriptor OSGI-INF/evil.xml, class io/tollgate/it/evil/MarkerComponent.class" + DATA_ONLY);
    }

    @Test
    public void aPluginWithOnlyAClassAndAnImportIsRefusedAndItsClassCannotBeLoaded() throws Exception {
        Bundle b = installAndTryToStart(CodePlugins.PAYLOAD);
        assertCodeNeverRan(b, CodePlugins.marker(data, "payload"), "io.tollgate.it.evil.Payload");
        assertRefused(CodePlugins.PAYLOAD, "plugin carries code: Import-Package org.osgi.framework, "
                + "class io/tollgate/it/evil/Payload.class" + DATA_ONLY);
    }

    /** Installs the plugin and starts it, as fileinstall does with a jar dropped into plugins/. */
    private Bundle installAndTryToStart(String name) throws Exception {
        Bundle b = context.installBundle(TestPlugins.dir().resolve(name + ".jar").toUri().toString());
        try {
            b.start();
        } catch (BundleException e) {
            System.out.println(name + ": start refused by the framework: " + e.getMessage());
        }
        return b;
    }

    /**
     * Gives the plugin's code every chance to run (its activator on start, SCR on the STARTED event, anyone
     * loading its class and making one), then checks it did not: no marker, bundle INSTALLED, class not found.
     */
    private void assertCodeNeverRan(Bundle b, Path marker, String className) throws Exception {
        try {
            Class<?> c = b.loadClass(className);
            c.getConstructor().newInstance();
            fail("the plugin's class " + className + " was loaded through its bundle (and made)");
        } catch (ClassNotFoundException expected) {
            // the bundle cannot resolve, so its class loader does not exist
        } catch (ReflectiveOperationException e) {
            System.out.println(className + " loaded but not made: " + e);     // an activator has no public use
        } finally {
            Thread.sleep(2_000);        // SCR activates components shortly after the STARTED event
            assertFalse("the plugin's code ran: " + marker + " exists", Files.exists(marker));
        }
        assertEquals("bundle state of " + b.getSymbolicName() + " (2 = INSTALLED)", Bundle.INSTALLED, b.getState());
    }

    /**
     * {@code /admin/plugins} reports the plugin FAILED with {@code reason}, the repository index UNAVAILABLE (Triton's
     * state) with the same reason; the example serves on.
     */
    private void assertRefused(String name, String reason) throws Exception {
        String expected = "plugin tollgate.plugin." + name + " 1.0.0 is refused: " + reason;
        JsonNode plugin = http.awaitPlugin("tollgate.plugin." + name, "FAILED", 30_000);
        assertEquals(expected, plugin.path("error").asText());
        JsonNode model = find(http.post("/v2/repository/index", "").json(), "name", name);
        assertTrue("the repository index lists " + name + ": " + model, model != null);
        assertEquals("Triton's repository index state of a model that cannot serve", "UNAVAILABLE",
                model.path("state").asText());
        assertEquals(expected, model.path("reason").asText());
        Http.Response ready = http.get("/v2/models/" + name + "/ready");
        assertTrue(ready.status() + " " + ready.body(), ready.status() != 200);
        Http.Response good = http.post("/v2/models/fashion-mnist/infer", Http.inferBody("image", new long[] {1, 1, 28, 28}, ZEROS));
        assertEquals(good.body(), 200, good.status());
    }

    private static JsonNode find(JsonNode array, String field, String value) {
        for (JsonNode n : array) {
            if (value.equals(n.path(field).asText())) {
                return n;
            }
        }
        return null;
    }
}
