package io.tollgate.guard;

import io.tollgate.guard.testing.MarkerActivator;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.jar.Attributes;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import java.util.jar.Manifest;

/** Manifests and jars for the guard's tests: what {@code plugin pack} writes, and variations of it. */
final class TestJars {
    static final String ACTIVATOR_CLASS = MarkerActivator.class.getName().replace('.', '/') + ".class";

    private TestJars() {
    }

    /** The headers {@code bin/tollgate plugin pack} writes for model {@code name}. */
    static Map<String, String> pluginHeaders(String name) {
        Map<String, String> h = new LinkedHashMap<>();
        h.put("Manifest-Version", "1.0");
        h.put("Bundle-ManifestVersion", "2");
        h.put("Bundle-SymbolicName", "tollgate.plugin." + name);
        h.put("Bundle-Version", "1.0.0");
        h.put("Bundle-Name", "Tollgate model plugin " + name);
        h.put("Provide-Capability", "tollgate.model;tollgate.model=\"" + name + "\";version:Version=\"1.0.0\"");
        h.put("Require-Capability", "osgi.extender;filter:=\"(&(osgi.extender=tollgate.model)(version>=1.0)"
                + "(!(version>=2.0)))\",tollgate.engine;filter:=\"(tollgate.engine=onnx)\"");
        h.put("Tollgate-Model", "TOLLGATE-INF/model.json");
        return h;
    }

    /** The entries {@code plugin pack} writes. */
    static List<String> pluginEntries() {
        return new ArrayList<>(List.of("META-INF/", "META-INF/MANIFEST.MF", "TOLLGATE-INF/", "TOLLGATE-INF/model.json",
                "TOLLGATE-INF/model.onnx", "TOLLGATE-INF/labels.txt"));
    }

    /** A jar with these headers and entries ({@code null} content = a folder entry); folders are not added for files. */
    static byte[] jar(Map<String, String> headers, Map<String, byte[]> entries) throws IOException {
        Manifest m = new Manifest();
        Attributes a = m.getMainAttributes();
        a.put(Attributes.Name.MANIFEST_VERSION, "1.0");
        headers.forEach(a::putValue);
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (JarOutputStream jar = new JarOutputStream(bytes, m)) {
            for (Map.Entry<String, byte[]> e : entries.entrySet()) {
                jar.putNextEntry(new JarEntry(e.getKey()));
                if (e.getValue() != null) {
                    jar.write(e.getValue());
                }
                jar.closeEntry();
            }
        }
        return bytes.toByteArray();
    }

    /** A model plugin's entries: descriptor and a model file. */
    static Map<String, byte[]> dataEntries() {
        Map<String, byte[]> e = new LinkedHashMap<>();
        e.put("TOLLGATE-INF/", null);
        e.put("TOLLGATE-INF/model.json", "{\"name\":\"m\",\"version\":\"1.0.0\",\"file\":\"model.onnx\"}".getBytes());
        e.put("TOLLGATE-INF/model.onnx", new byte[] {8, 1});
        return e;
    }

    /** The activator's class file, copied from the test class path. */
    static byte[] activatorClass() throws IOException {
        try (InputStream in = TestJars.class.getResourceAsStream("/" + ACTIVATOR_CLASS)) {
            return in.readAllBytes();
        }
    }
}
