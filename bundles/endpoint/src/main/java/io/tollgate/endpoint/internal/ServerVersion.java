package io.tollgate.endpoint.internal;

import java.io.IOException;
import java.io.InputStream;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.jar.JarFile;
import java.util.jar.Manifest;
import org.osgi.framework.Bundle;
import org.osgi.framework.FrameworkUtil;

/**
 * The product version {@code GET /v2} reports: the {@code Tollgate-Version} manifest header, which the parent pom's
 * bnd instructions set to the Maven project version for every bundle. {@code bin/tollgate version} and
 * {@code tollgate-billing version} print the same string (Bundle-Version would say {@code 0.1.0.SNAPSHOT}).
 */
final class ServerVersion {
    static final String HEADER = "Tollgate-Version";
    static final String UNKNOWN = "0.0.0-unbundled";

    private ServerVersion() {
    }

    /** The version of the bundle (or, outside a framework, of the jar or classes folder) holding {@code type}. */
    static String of(Class<?> type) {
        Bundle bundle = FrameworkUtil.getBundle(type);
        if (bundle != null) {
            String v = bundle.getHeaders().get(HEADER);
            return v != null ? v : bundle.getVersion().toString();
        }
        try {
            Path where = Paths.get(type.getProtectionDomain().getCodeSource().getLocation().toURI());
            String v = manifest(where).getMainAttributes().getValue(HEADER);
            return v != null ? v : UNKNOWN;
        } catch (IOException | URISyntaxException | RuntimeException e) {
            return UNKNOWN;
        }
    }

    /** The manifest of a jar, or of a classes folder (where bnd writes it before the jar is made, as in unit tests). */
    private static Manifest manifest(Path jarOrFolder) throws IOException {
        if (Files.isDirectory(jarOrFolder)) {
            try (InputStream in = Files.newInputStream(jarOrFolder.resolve("META-INF/MANIFEST.MF"))) {
                return new Manifest(in);
            }
        }
        try (JarFile jar = new JarFile(jarOrFolder.toFile())) {
            Manifest m = jar.getManifest();
            return m != null ? m : new Manifest();
        }
    }
}
