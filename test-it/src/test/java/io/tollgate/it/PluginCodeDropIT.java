package io.tollgate.it;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.After;
import org.junit.Before;
import org.junit.Test;

/**
 * Issue 9, "plugins carry no code of their own", on the built distribution: {@code bin/tollgate run} with a
 * plugin that has an activator already in {@code plugins/} at start-up, then two more jars dropped into
 * {@code plugins/} of the running box (another plugin with an activator, and a bundle that declares no model
 * at all but has an activator). The plugin folder gate installs and starts each plugin and never installs the
 * bundle that declares no model; none of their code may ever run (their
 * activators would leave {@code plugin-code-ran-*} in the data folder, where the device key lives), the
 * appliance gets ready and serves the example plugin, {@code /admin/plugins} says why each plugin was
 * refused, and the log names each refused file once, at WARN.
 */
public class PluginCodeDropIT {
    private static final float[] ZEROS = new float[784];

    private Path tmp;
    private Path log;
    private ApplianceProcess appliance;

    @Before
    public void setUp() throws IOException {
        tmp = Files.createTempDirectory("tollgate-plugin-code-it");
        log = tmp.resolve("appliance.log");
        appliance = new ApplianceProcess(log);
    }

    @After
    public void tearDown() {
        appliance.killAll();
        ApplianceProcess.keepLogs(tmp, Path.of("target", "plugin-code-it-logs"));
        ApplianceProcess.deleteTree(tmp);
    }

    @Test
    public void codeDroppedIntoPluginsNeverRuns() throws Exception {
        Path plugins = tmp.resolve("plugins");
        Path data = tmp.resolve("data");
        Path stash = Files.createDirectories(tmp.resolve("stash"));
        appliance.copyExamplePlugin(plugins);
        byte[] model = TestPlugins.exampleEntry("TOLLGATE-INF/model.onnx");
        List<String> labels = List.of("a", "b", "c", "d", "e", "f", "g", "h", "i", "j");
        CodePlugins.activator("at-start", model, labels).writeTo(plugins.resolve("at-start.jar"));
        TestVendor.get().sign(plugins.resolve("at-start.jar"));   // signed and licensed, but its license allows no code
        CodePlugins.activator("dropped", model, labels).writeTo(stash.resolve("dropped.jar"));
        CodePlugins.impostor().writeTo(stash.resolve("impostor.jar"));

        int port = TollgateExam.freePort();
        Process p = appliance.run(port, data, plugins, null);
        appliance.awaitReady(p, port, 90_000);      // the refused plugin does not hold readiness up
        Http http = new Http(port);
        assertRefused(http, "at-start");

        ApplianceProcess.drop(stash.resolve("dropped.jar"), plugins);
        ApplianceProcess.drop(stash.resolve("impostor.jar"), plugins);
        assertRefused(http, "dropped");
        appliance.awaitLogLine(" WARN ", "impostor.jar", 30_000);
        Thread.sleep(3_000);        // the gate polls every second

        try (Stream<Path> files = Files.list(data)) {
            List<String> ran = files.map(f -> f.getFileName().toString()).filter(f -> f.startsWith("plugin-code-ran"))
                    .collect(Collectors.toList());
            assertEquals("plugin code ran (files it left in " + data + ")", List.of(), ran);
        }
        Http.Response good = http.post("/v2/models/fashion-mnist/infer", Http.inferBody("image", new long[] {1, 1, 28, 28}, ZEROS));
        assertEquals(good.body(), 200, good.status());

        String output = Files.readString(log);
        for (String file : List.of("at-start.jar", "dropped.jar")) {
            List<String> warnings = warnings(output, file);
            assertEquals("one WARN line names " + file + ": " + warnings, 1, warnings.size());
            assertTrue(warnings.get(0), warnings.get(0).contains("plugin carries code: Bundle-Activator "
                    + "io.tollgate.it.evil.MarkerActivator"));
        }
        List<String> impostor = warnings(output, "impostor.jar");
        assertEquals("one WARN line names impostor.jar: " + impostor, 1, impostor.size());
        assertTrue(impostor.get(0), impostor.get(0).contains("not a model plugin"));
        assertTrue(impostor.get(0), impostor.get(0).contains("Bundle-Activator io.tollgate.it.evil.MarkerActivator"));
    }

    private void assertRefused(Http http, String name) throws Exception {
        String bsn = "tollgate.plugin." + name;
        JsonNode found = http.awaitPlugin(bsn, "FAILED", 30_000);
        assertEquals("plugin " + bsn + " 1.0.0 is refused: plugin carries code: Bundle-Activator "
                + "io.tollgate.it.evil.MarkerActivator, Import-Package org.osgi.framework, class "
                + "io/tollgate/it/evil/MarkerActivator.class; model plugins are data only (docs/plugins.md)",
                found.path("error").asText());
    }

    private static List<String> warnings(String output, String text) {
        return output.lines().filter(l -> l.contains(" WARN ") && l.contains(text)).collect(Collectors.toList());
    }
}
