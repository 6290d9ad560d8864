package io.tollgate.guard;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.URL;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;
import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;
import org.osgi.framework.Constants;

/**
 * A jar file made of the entries an installed bundle holds, read with {@link Bundle#getEntry} (which does not
 * resolve the bundle), so that the JDK's jar verification can check the signature of exactly the bytes the
 * framework installed, whatever happened to the file it came from. The manifest comes first, then the other
 * {@code META-INF/} entries, then the rest; entry order and compression do not matter to a jar signature.
 */
final class BundleJar {
    private BundleJar() {
    }

    /** At most this many bytes are copied: a bigger plugin is checked only where the framework keeps its jar. */
    static final long MAX_COPY_BYTES = 1L << 30;

    /** True for a jar signature file ({@code META-INF/*.SF}). */
    static boolean signatureFile(String entry) {
        String u = entry.toUpperCase(java.util.Locale.ROOT);
        return u.startsWith("META-INF/") && u.endsWith(".SF") && u.indexOf('/', 9) < 0;
    }

    /**
     * The jar the framework installed the bundle's current revision from, where Felix keeps it: {@code
     * <org.osgi.framework.storage>/bundle<id>/version<refresh>.<revision>/bundle.jar} (the newest such folder). Empty
     * for another framework, a bundle installed by reference, or when it cannot be found: then {@link #copy} is used.
     */
    static Optional<Path> installed(Bundle bundle, BundleContext framework) {
        String storage = framework.getProperty(Constants.FRAMEWORK_STORAGE);
        if (storage == null || storage.isBlank() || bundle.getLocation().startsWith("reference:")) {
            return Optional.empty();
        }
        Path dir = Path.of(storage).resolve("bundle" + bundle.getBundleId());
        if (!Files.isDirectory(dir)) {
            return Optional.empty();
        }
        try (Stream<Path> s = Files.list(dir)) {
            return s.filter(p -> p.getFileName().toString().matches("version[0-9]+\\.[0-9]+"))
                    .max(Comparator.comparingLong((Path p) -> part(p, 0)).thenComparingLong(p -> part(p, 1)))
                    .map(p -> p.resolve("bundle.jar")).filter(Files::isRegularFile);
        } catch (IOException | RuntimeException e) {
            return Optional.empty();
        }
    }

    private static long part(Path versionDir, int index) {
        return Long.parseLong(versionDir.getFileName().toString().substring("version".length()).split("\\.")[index]);
    }

    /**
     * Writes the bundle's entries to a new temporary file; the caller deletes it.
     *
     * @param entries every entry path, directories with a trailing slash ({@link BundleContents#entries()})
     * @throws IOException when an entry cannot be read (the bundle was uninstalled meanwhile)
     */
    static Path copy(Bundle bundle, List<String> entries) throws IOException {
        List<String> ordered = new ArrayList<>();
        for (String e : entries) {
            if (e.equalsIgnoreCase("META-INF/MANIFEST.MF")) {
                ordered.add(0, e);
            }
        }
        for (String e : entries) {
            if (e.toUpperCase(java.util.Locale.ROOT).startsWith("META-INF/") && !ordered.contains(e)) {
                ordered.add(e);
            }
        }
        for (String e : entries) {
            if (!ordered.contains(e)) {
                ordered.add(e);
            }
        }
        Path jar = Files.createTempFile("tollgate-plugin-signature-", ".jar");
        boolean done = false;
        long total = 0;
        try (OutputStream file = Files.newOutputStream(jar); ZipOutputStream zip = new ZipOutputStream(file)) {
            for (String name : ordered) {
                zip.putNextEntry(new ZipEntry(name));
                if (!name.endsWith("/")) {
                    URL url = bundle.getEntry(name);
                    if (url == null) {
                        throw new IOException("entry " + name + " disappeared");
                    }
                    try (InputStream in = url.openStream()) {
                        byte[] buffer = new byte[64 * 1024];
                        for (int n; (n = in.read(buffer)) > 0; ) {
                            total += n;
                            if (total > MAX_COPY_BYTES) {
                                throw new IOException("its entries inflate to more than " + MAX_COPY_BYTES + " bytes");
                            }
                            zip.write(buffer, 0, n);
                        }
                    }
                }
                zip.closeEntry();
            }
            done = true;
        } finally {
            if (!done) {
                Files.deleteIfExists(jar);
            }
        }
        return jar;
    }
}
