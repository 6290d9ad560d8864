package io.tollgate.licensing;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Enumeration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.UnaryOperator;
import java.util.jar.Attributes;
import java.util.jar.JarOutputStream;
import java.util.jar.Manifest;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;
import java.util.zip.ZipOutputStream;

/** Plugin-shaped jars for the tests, and rewrites of jars entry by entry (flip, add, remove). */
public final class TestJars {
    private TestJars() {
    }

    /** A jar shaped like a data-only plugin: OSGi manifest, descriptor, model bytes, a folder, maven metadata. */
    public static Path plugin(Path file) throws IOException {
        Manifest mf = new Manifest();
        Attributes main = mf.getMainAttributes();
        main.put(Attributes.Name.MANIFEST_VERSION, "1.0");
        main.putValue("Bundle-ManifestVersion", "2");
        main.putValue("Bundle-SymbolicName", "io.tollgate.plugin.test");
        main.putValue("Bundle-Version", "1.0.0");
        try (JarOutputStream out = new JarOutputStream(Files.newOutputStream(file), mf)) {
            out.putNextEntry(new ZipEntry("META-INF/tollgate/"));
            out.closeEntry();
            put(out, "META-INF/tollgate/plugin.json",
                    "{\"name\":\"test-model\",\"version\":\"1.0.0\"}".getBytes(StandardCharsets.UTF_8));
            byte[] model = new byte[300];
            for (int i = 0; i < model.length; i++) {
                model[i] = (byte) (i * 31 + 7);
            }
            put(out, "model/model.onnx", model);
            put(out, "META-INF/maven/io.tollgate/test/pom.properties", "version=1.0.0\n".getBytes(StandardCharsets.UTF_8));
        }
        return file;
    }

    private static void put(ZipOutputStream out, String name, byte[] bytes) throws IOException {
        out.putNextEntry(new ZipEntry(name));
        out.write(bytes);
        out.closeEntry();
    }

    /** The jar's entries (name -> bytes) in order. */
    public static LinkedHashMap<String, byte[]> entries(Path jar) throws IOException {
        LinkedHashMap<String, byte[]> map = new LinkedHashMap<>();
        try (ZipFile zip = new ZipFile(jar.toFile())) {
            for (Enumeration<? extends ZipEntry> e = zip.entries(); e.hasMoreElements(); ) {
                ZipEntry entry = e.nextElement();
                try (InputStream in = zip.getInputStream(entry)) {
                    map.put(entry.getName(), in.readAllBytes());
                }
            }
        }
        return map;
    }

    /** Writes entries (name -> bytes; a name ending in / is a folder) as a zip in the given order. */
    public static Path write(Path file, Map<String, byte[]> entries) throws IOException {
        try (OutputStream os = Files.newOutputStream(file); ZipOutputStream out = new ZipOutputStream(os)) {
            for (Map.Entry<String, byte[]> e : entries.entrySet()) {
                out.putNextEntry(new ZipEntry(e.getKey()));
                out.write(e.getValue());
                out.closeEntry();
            }
        }
        return file;
    }

    /** A copy of the jar with one entry's bytes replaced. */
    public static Path rewrite(Path jar, Path out, String entry, UnaryOperator<byte[]> change) throws IOException {
        LinkedHashMap<String, byte[]> map = entries(jar);
        map.put(entry, change.apply(map.get(entry)));
        return write(out, map);
    }

    /** Names of the file entries (not folders). */
    public static List<String> files(Path jar) throws IOException {
        List<String> names = new ArrayList<>();
        for (String n : entries(jar).keySet()) {
            if (!n.endsWith("/")) {
                names.add(n);
            }
        }
        return names;
    }

    public static byte[] flip(byte[] bytes, int bit) {
        byte[] copy = bytes.clone();
        copy[bit / 8] ^= (byte) (1 << (bit % 8));
        return copy;
    }

    public static byte[] concat(byte[] a, byte[] b) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes(a);
        out.writeBytes(b);
        return out.toByteArray();
    }
}
