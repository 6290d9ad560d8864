package io.tollgate.it;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

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
 * A jar that extends the framework itself ({@code Fragment-Host: system.bundle;extension:=framework}) dropped into
 * {@code plugins/} of a running appliance. Felix 7.0.5 resolves such a bundle at install, past the plugin guard's
 * resolver hook, and runs its {@code ExtensionBundle-Activator} at once; the launcher disables extension bundles, so
 * the install fails: the log says it was refused and why, its code never runs (it would leave
 * {@code plugin-code-ran-*} in the data folder), and the appliance keeps serving. For a plugin that is a fragment of the
 * serving bundle the plugin folder gate does not refresh (restart) serving: the example plugin is not loaded again.
 */
public class FrameworkExtensionDropIT {
    private static final float[] ZEROS = new float[784];

    private Path tmp;
    private Path log;
    private ApplianceProcess appliance;

    @Before
    public void setUp() throws IOException {
        tmp = Files.createTempDirectory("tollgate-extension-it");
        log = tmp.resolve("appliance.log");
        appliance = new ApplianceProcess(log);
    }

    @After
    public void tearDown() {
        appliance.killAll();
        ApplianceProcess.keepLogs(tmp, Path.of("target", "extension-it-logs"));
        ApplianceProcess.deleteTree(tmp);
    }

    @Test
    public void aFrameworkExtensionDroppedIntoPluginsIsRefusedAndNeverRuns() throws Exception {
        Path plugins = tmp.resolve("plugins");
        Path data = tmp.resolve("data");
        Path stash = Files.createDirectories(tmp.resolve("stash"));
        appliance.copyExamplePlugin(plugins);
        CodePlugins.frameworkExtension().writeTo(stash.resolve("extension.jar"));
        List<String> labels = List.of("a", "b", "c", "d", "e", "f", "g", "h", "i", "j");
        CodePlugins.servingFragment(TestPlugins.exampleEntry("TOLLGATE-INF/model.onnx"), labels)
                .writeTo(stash.resolve("fragment.jar"));

        int port = TollgateExam.freePort();
        Process p = appliance.run(port, data, plugins, null);
        appliance.awaitReady(p, port, 90_000);
        Http http = new Http(port);
        assertEquals(1, loads(Files.readString(log)));

        ApplianceProcess.drop(stash.resolve("extension.jar"), plugins);
        // It declares no model, so the plugin folder gate never hands it to the framework (an extension that
        // declared one would be refused by the framework itself: FrameworkLog's "refused file:..." line).
        String refused = appliance.awaitLogLine(" WARN ", "extension.jar", 30_000);
        assertTrue(refused, refused.contains("plugins folder: extension.jar is not installed: "));
        assertTrue(refused, refused.contains("plugin carries code: ExtensionBundle-Activator "
                + "io.tollgate.it.evil.MarkerActivator, Fragment-Host system.bundle;extension:=framework"));
        assertTrue(refused, refused.contains("it was not installed, so none of its code runs"));

        ApplianceProcess.drop(stash.resolve("fragment.jar"), plugins);
        appliance.awaitLogLine("", "installed fragment.jar (tollgate.plugin.fragment", 30_000);
        Thread.sleep(3_000);        // a refresh of serving would follow the install within the gate's poll cycle

        try (Stream<Path> files = Files.list(data)) {
            List<String> ran = files.map(f -> f.getFileName().toString()).filter(f -> f.startsWith("plugin-code-ran"))
                    .collect(Collectors.toList());
            assertEquals("extension code ran (files it left in " + data + ")", List.of(), ran);
        }
        assertTrue("the appliance is still running", p.isAlive());
        Http.Response good = http.post("/v2/models/fashion-mnist/infer",
                Http.inferBody("image", new long[] {1, 1, 28, 28}, ZEROS));
        assertEquals(good.body(), 200, good.status());
        assertEquals("serving was not refreshed (so the example plugin was not loaded again)", 1,
                loads(Files.readString(log)));
        assertEquals("/admin/plugins lists only the example plugin as READY", "READY",
                http.awaitPlugin("tollgate.plugin.fashion-mnist", "READY", 5_000).path("state").asText());
    }

    /** How many times the example plugin's model was loaded. */
    private static long loads(String output) {
        return output.lines().filter(l -> l.contains("loaded model plugin tollgate.plugin.fashion-mnist")).count();
    }

}
