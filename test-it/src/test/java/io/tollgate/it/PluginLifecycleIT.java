package io.tollgate.it;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;
import static org.ops4j.pax.exam.CoreOptions.systemProperty;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.InputStream;
import java.nio.file.Files;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import javax.inject.Inject;
import io.tollgate.serving.ModelRegistry;
import io.tollgate.serving.ModelState;
import io.tollgate.serving.ModelStatus;
import org.junit.After;
import org.junit.Before;
import org.junit.Test;
import org.junit.runner.RunWith;
import org.ops4j.pax.exam.Configuration;
import org.ops4j.pax.exam.Option;
import org.ops4j.pax.exam.junit.PaxExam;
import org.ops4j.pax.exam.spi.reactors.ExamReactorStrategy;
import org.ops4j.pax.exam.spi.reactors.PerMethod;
import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;
import org.osgi.service.cm.ConfigurationAdmin;

/**
 * Install, upgrade under load, side-by-side versions, uninstall and broken plugins, in real Felix
 * with the distribution's bundles. A fresh framework per test, so each starts from nothing.
 */
@RunWith(PaxExam.class)
@ExamReactorStrategy(PerMethod.class)
public class PluginLifecycleIT {
    private static final float[] ZEROS = new float[784];

    @Inject
    private BundleContext context;
    @Inject
    private ConfigurationAdmin configAdmin;
    @Inject
    private ModelRegistry registry;

    private Http http;

    @Configuration
    public Option[] config() throws Exception {
        return TollgateExam.options(systemProperty(TestPlugins.DIR).value(TestPlugins.write().toString()));
    }

    @Before
    public void appliance() throws Exception {
        http = Appliance.start(context, configAdmin);
    }

    private Bundle installExample() throws Exception {
        Bundle b = Appliance.installOnce(context, System.getProperty(TollgateExam.PLUGINS) + "/fashion-mnist-1.0.0.jar");
        http.await("/v2/models/fashion-mnist/ready", 200, 60_000);
        return b;
    }

    private Http.Response infer(String path) throws Exception {
        return http.post(path, Http.inferBody("image", new long[] {1, 1, 28, 28}, ZEROS));
    }

    @Test
    public void upgradeUnderLoadFailsNoRequest() throws Exception {
        Bundle plugin = installExample();
        VersionedLoad load = new VersionedLoad(4, () -> infer("/v2/models/fashion-mnist/infer"));
        try {
            Thread.sleep(500);
            // What fileinstall does when the jar in plugins/ is replaced.
            try (InputStream in = Files.newInputStream(TestPlugins.dir().resolve("fashion-mnist-1.1.0.jar"))) {
                plugin.update(in);
            }
            load.awaitVersion("1.1.0", 60_000, 500);
        } finally {
            load.close();
        }
        Map<String, AtomicInteger> byVersion = load.byVersion();
        List<String> failures = load.failures();
        System.out.println("upgrade under load: " + load.ok() + " ok, " + failures.size() + " failed, by version " + byVersion);
        assertEquals("failed requests during the upgrade: " + failures, 0, failures.size());
        assertTrue("1.0.0 served before the upgrade: " + byVersion, byVersion.containsKey("1.0.0"));
        assertTrue("1.1.0 served after the upgrade: " + byVersion, byVersion.containsKey("1.1.0"));
        // The old version is gone for good once drained.
        awaitState("fashion-mnist", "1.0.0", null, 30_000);
        assertEquals("1.1.0", infer("/v2/models/fashion-mnist/infer").json().get("model_version").asText());
    }

    @Test
    public void sideBySideVersionsRouteByVersion() throws Exception {
        installExample();
        Appliance.installOnce(context, TestPlugins.dir().resolve("fashion-mnist-1.2.0.jar").toString());
        http.await("/v2/models/fashion-mnist/versions/1.2.0/ready", 200, 60_000);
        assertEquals("1.2.0", infer("/v2/models/fashion-mnist/infer").json().get("model_version").asText());
        assertEquals("1.0.0", infer("/v2/models/fashion-mnist/versions/1.0.0/infer").json().get("model_version").asText());
        JsonNode meta = http.get("/v2/models/fashion-mnist").json();
        assertTrue(meta.toString(), meta.get("versions").toString().contains("1.0.0")
                && meta.get("versions").toString().contains("1.2.0"));
    }

    @Test
    public void aPluginWithAnotherSymbolicNameCannotTakeOverAModel() throws Exception {
        Bundle genuine = installExample();
        Bundle impostor = Appliance.installOnce(context, TestPlugins.dir().resolve("evil-impostor.jar").toString());
        String error = null;
        long deadline = System.currentTimeMillis() + 60_000;
        while (error == null && System.currentTimeMillis() < deadline) {
            for (JsonNode p : http.get("/admin/plugins").json()) {
                if (TestPlugins.IMPOSTOR.equals(p.path("symbolic_name").asText())
                        && "FAILED".equals(p.path("state").asText())) {
                    error = p.path("error").asText();
                }
            }
            if (error == null) {
                Thread.sleep(200);
            }
        }
        assertEquals("plugin evil.impostor 9.0.0: model 'fashion-mnist' is already served by plugin "
                + genuine.getSymbolicName() + "; a model's versions must come from the plugin that owns its name", error);
        JsonNode answer = infer("/v2/models/fashion-mnist/infer").json();
        assertEquals(answer.toString(), "1.0.0", answer.get("model_version").asText());
        assertEquals(404, infer("/v2/models/fashion-mnist/versions/9.0.0/infer").status());

        genuine.uninstall();                            // the owner is gone: the name is free again
        http.await("/v2/models/fashion-mnist/ready", 404, 30_000);
        awaitState("fashion-mnist", "1.0.0", null, 30_000);
        impostor.stop();
        impostor.start();
        http.await("/v2/models/fashion-mnist/versions/9.0.0/ready", 200, 60_000);
    }

    @Test
    public void uninstallUnloadsTheModel() throws Exception {
        Bundle plugin = installExample();
        assertEquals(200, infer("/v2/models/fashion-mnist/infer").status());
        plugin.uninstall();
        http.await("/v2/models/fashion-mnist/ready", 404, 30_000);
        Http.Response r = infer("/v2/models/fashion-mnist/infer");
        assertEquals(r.body(), 404, r.status());
        awaitState("fashion-mnist", "1.0.0", null, 30_000);
    }

    @Test
    public void brokenPluginsAreRefusedWhileAGoodOneServes() throws Exception {
        installExample();
        Map<String, String> expected = Map.of(
                "broken-corrupt", "onnx",
                "broken-missing", "model.onnx",
                "broken-descriptor", "model.json",
                "broken-engine", "tensorflow",
                "broken-shape", "[-1,3,28,28]");
        for (String name : expected.keySet()) {
            Bundle b = context.installBundle(TestPlugins.dir().resolve(name + ".jar").toUri().toString());
            try {
                b.start();
            } catch (org.osgi.framework.BundleException e) {
                // broken-engine cannot resolve: the framework refuses it; serving must still report it.
                System.out.println(name + ": start refused by the framework: " + e.getMessage());
            }
        }
        Map<String, String> errors = new java.util.HashMap<>();
        long deadline = System.currentTimeMillis() + 60_000;
        while (errors.size() < expected.size() && System.currentTimeMillis() < deadline) {
            errors.clear();
            for (JsonNode p : http.get("/admin/plugins").json()) {
                String bsn = p.path("symbolic_name").asText();
                String name = bsn.replace("tollgate.plugin.", "");
                if (expected.containsKey(name) && "FAILED".equals(p.path("state").asText())) {
                    errors.put(name, p.path("error").asText());
                }
            }
            Thread.sleep(200);
        }
        System.out.println("refused plugins: " + errors);
        for (Map.Entry<String, String> e : expected.entrySet()) {
            String error = errors.get(e.getKey());
            assertTrue(e.getKey() + " is reported FAILED: " + errors, error != null);
            assertTrue(e.getKey() + "'s error names the plugin: " + error, error.contains(e.getKey()));
            assertTrue(e.getKey() + "'s error names the fault (" + e.getValue() + "): " + error,
                    error.toLowerCase().contains(e.getValue().toLowerCase()));
        }
        assertEquals(200, infer("/v2/models/fashion-mnist/infer").status());
        assertEquals(200, http.get("/v2/health/live").status());
    }

    /** Waits until the version is in {@code state}, or gone from the registry when {@code state} is null. */
    private void awaitState(String model, String version, ModelState state, long timeoutMs) throws Exception {
        long deadline = System.currentTimeMillis() + timeoutMs;
        AtomicReference<List<ModelStatus>> last = new AtomicReference<>();
        while (System.currentTimeMillis() < deadline) {
            last.set(registry.models());
            ModelStatus found = last.get().stream()
                    .filter(m -> m.name().equals(model) && m.version().equals(version)
                            && m.state() != ModelState.UNLOADED)
                    .findFirst().orElse(null);
            if (state == null ? found == null : found != null && found.state() == state) {
                return;
            }
            Thread.sleep(100);
        }
        throw new AssertionError(model + " " + version + " did not reach " + (state == null ? "unloaded" : state)
                + " in " + timeoutMs + " ms: " + last.get());
    }
}
