package io.tollgate.it;

import io.tollgate.it.evil.MarkerActivator;
import io.tollgate.it.evil.MarkerComponent;
import io.tollgate.it.evil.Payload;
import io.tollgate.tools.plugin.PluginJar;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;

/**
 * Plugins that carry code (issue 9): each is the real Fashion-MNIST model under another name plus code
 * that would leave a {@code plugin-code-ran-*} file in the appliance's data folder if it ever ran. The
 * classes are this module's own ({@code io.tollgate.it.evil}), compiled with the tests and copied in.
 */
final class CodePlugins {
    /** A {@code Bundle-Activator} (and the {@code Import-Package} it needs). */
    static final String ACTIVATOR = "code-activator";
    /** A Declarative Services component: {@code Service-Component} and its XML, no imports. */
    static final String COMPONENT = "code-component";
    /** Only an extra class and an {@code Import-Package}. */
    static final String PAYLOAD = "code-payload";
    /** Claims to be something else (no {@code tollgate.model} capability) and has an activator. */
    static final String IMPOSTOR = "io.tollgate.serving.extras";

    private static final String COMPONENT_XML = """
            <?xml version="1.0" encoding="UTF-8"?>
            <scr:component xmlns:scr="http://www.osgi.org/xmlns/scr/v1.1.0" name="evil" immediate="true"
                           activate="activate">
              <implementation class="io.tollgate.it.evil.MarkerComponent"/>
            </scr:component>
            """;

    private CodePlugins() {
    }

    /** The file a plugin's code leaves in {@code data} when it runs: {@code plugin-code-ran-<what>}. */
    static Path marker(Path data, String what) {
        return data.resolve("plugin-code-ran-" + what);
    }

    /** The marker of a plugin's activator (named after the bundle), of the component, of the payload class. */
    static Path activatorMarker(Path data, String name) {
        return marker(data, "tollgate.plugin." + name);
    }

    static PluginJar activator(String name, byte[] model, List<String> labels) throws IOException {
        return plugin(name, model, labels)
                .header("Bundle-Activator", MarkerActivator.class.getName())
                .header("Import-Package", "org.osgi.framework")
                .entry(classFile(MarkerActivator.class), classBytes(MarkerActivator.class));
    }

    static PluginJar component(String name, byte[] model, List<String> labels) throws IOException {
        return plugin(name, model, labels)
                .header("Service-Component", "OSGI-INF/evil.xml")
                .entry("OSGI-INF/evil.xml", COMPONENT_XML.getBytes(StandardCharsets.UTF_8))
                .entry(classFile(MarkerComponent.class), classBytes(MarkerComponent.class));
    }

    static PluginJar payload(String name, byte[] model, List<String> labels) throws IOException {
        return plugin(name, model, labels)
                .header("Import-Package", "org.osgi.framework")
                .entry(classFile(Payload.class), classBytes(Payload.class));
    }

    /** A bundle with an activator that declares no model at all: it only got in by being in plugins/. */
    static PluginJar impostor() throws IOException {
        return new PluginJar("impostor", "9.9.9")
                .header("Bundle-SymbolicName", IMPOSTOR)
                .header("Provide-Capability", null)
                .header("Require-Capability", null)
                .header("Tollgate-Model", null)
                .header("Bundle-Activator", MarkerActivator.class.getName())
                .header("Import-Package", "org.osgi.framework")
                .entry(classFile(MarkerActivator.class), classBytes(MarkerActivator.class));
    }

    /**
     * A framework extension bundle ({@code Fragment-Host: system.bundle;extension:=framework}) whose
     * {@code ExtensionBundle-Activator} would leave {@code plugin-code-ran-org.apache.felix.framework}: Felix 7.0.5
     * resolves such a bundle at install, past every resolver hook, and runs that activator at once.
     */
    static PluginJar frameworkExtension() throws IOException {
        return new PluginJar("extension", "1.0.0")
                .header("Provide-Capability", null)
                .header("Require-Capability", null)
                .header("Tollgate-Model", null)
                .header("Fragment-Host", "system.bundle;extension:=framework")
                .header("ExtensionBundle-Activator", MarkerActivator.class.getName())
                .entry(classFile(MarkerActivator.class), classBytes(MarkerActivator.class));
    }

    /** A model plugin that is also a fragment of the serving bundle, to get its classes into serving's class loader. */
    static PluginJar servingFragment(byte[] model, List<String> labels) throws IOException {
        return plugin("fragment", model, labels)
                .header("Fragment-Host", "io.tollgate.serving")
                .entry(classFile(Payload.class), classBytes(Payload.class));
    }

    /** Writes the three code plugins into {@code dir} as {@code <name>.jar}. */
    static void writeAll(Path dir, byte[] model, List<String> labels) throws IOException {
        activator(ACTIVATOR, model, labels).writeTo(dir.resolve(ACTIVATOR + ".jar"));
        component(COMPONENT, model, labels).writeTo(dir.resolve(COMPONENT + ".jar"));
        payload(PAYLOAD, model, labels).writeTo(dir.resolve(PAYLOAD + ".jar"));
    }

    private static PluginJar plugin(String name, byte[] model, List<String> labels) {
        return new PluginJar(name, "1.0.0").model("model.onnx", model).labels(labels).maxBatchSize(256);
    }

    private static String classFile(Class<?> c) {
        return c.getName().replace('.', '/') + ".class";
    }

    private static byte[] classBytes(Class<?> c) throws IOException {
        try (InputStream in = c.getResourceAsStream("/" + classFile(c))) {
            if (in == null) {
                throw new IOException(classFile(c) + " is not on the test class path");
            }
            return in.readAllBytes();
        }
    }
}
