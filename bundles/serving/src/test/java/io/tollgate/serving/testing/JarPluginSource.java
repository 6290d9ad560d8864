package io.tollgate.serving.testing;

import io.tollgate.serving.internal.PluginSource;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Path;
import java.util.Optional;
import java.util.jar.Attributes;
import java.util.jar.JarEntry;
import java.util.jar.JarFile;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A plugin jar read directly, as bundle 1: what the OSGi tracker's {@code PluginBundle} sees of an ACTIVE plugin
 * inside the framework (its manifest's identity and {@code tollgate.model} capability, its entries).
 */
final class JarPluginSource implements PluginSource, AutoCloseable {
    private static final Pattern MODEL = Pattern.compile("tollgate\\.model\\s*=\\s*\"?([^;\",]+)\"?");
    private static final Pattern VERSION = Pattern.compile("version(?::Version)?\\s*=\\s*\"?([^;\",]+)\"?");
    private final JarFile jar;
    private final Path path;
    private final String symbolicName;
    private final String version;
    private final String model;
    private final String modelVersion;
    private final String descriptorPath;

    JarPluginSource(Path path) throws IOException {
        this.path = path;
        this.jar = new JarFile(path.toFile());
        Attributes main = jar.getManifest().getMainAttributes();
        this.symbolicName = main.getValue("Bundle-SymbolicName").split(";")[0].trim();
        this.version = main.getValue("Bundle-Version").trim();
        String provide = main.getValue("Provide-Capability");
        Matcher m = MODEL.matcher(provide);
        this.model = m.find() ? m.group(1).trim() : null;
        Matcher v = VERSION.matcher(provide);
        this.modelVersion = v.find() ? v.group(1).trim() : null;
        String header = main.getValue("Tollgate-Model");
        this.descriptorPath = header == null ? DEFAULT_DESCRIPTOR : header.trim();
    }

    /** The code rule is the framework's (the launcher's resolver hook); benchmarks load data-only plugins. */
    @Override
    public Optional<String> refusal() {
        return Optional.empty();
    }

    @Override
    public long bundleId() {
        return 1;
    }

    @Override
    public String symbolicName() {
        return symbolicName;
    }

    @Override
    public String version() {
        return version;
    }

    @Override
    public String location() {
        return path.toUri().toString();
    }

    @Override
    public String revisionKey() {
        return "1";
    }

    @Override
    public String declaredModel() {
        return model;
    }

    @Override
    public String declaredModelVersion() {
        return modelVersion;
    }

    @Override
    public String descriptorPath() {
        return descriptorPath;
    }

    @Override
    public synchronized byte[] read(String entry) throws IOException {
        JarEntry e = jar.getJarEntry(entry);
        if (e == null) {
            return null;
        }
        try (InputStream in = jar.getInputStream(e)) {
            return in.readAllBytes();
        }
    }

    @Override
    public Optional<String> resolveProblem() {
        return Optional.empty();
    }

    @Override
    public void close() throws IOException {
        jar.close();
    }
}
