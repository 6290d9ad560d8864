package io.tollgate.serving.internal;

import io.tollgate.guard.PluginResolverHook;
import io.tollgate.guard.PluginVerdict;
import java.io.IOException;
import java.io.InputStream;
import java.net.URL;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.osgi.framework.Bundle;
import org.osgi.framework.BundleException;
import org.osgi.framework.startlevel.BundleStartLevel;
import org.osgi.framework.wiring.BundleCapability;
import org.osgi.framework.wiring.BundleRequirement;
import org.osgi.framework.wiring.BundleRevision;
import org.osgi.framework.wiring.FrameworkWiring;
import org.osgi.resource.Namespace;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A model plugin bundle as a {@link PluginSource}: a snapshot of the revision's identity and
 * {@code tollgate.model} capability, taken when a bundle event was seen, plus access to its entries.
 */
final class PluginBundle implements PluginSource {
    private static final Logger LOG = LoggerFactory.getLogger(PluginBundle.class);

    /** The capability namespace a model plugin provides. */
    static final String NAMESPACE = "tollgate.model";
    /** Optional manifest header naming the descriptor entry. */
    static final String DESCRIPTOR_HEADER = "Tollgate-Model";

    private final Bundle bundle;
    private final FrameworkWiring wiring;
    private final long lastModified;
    private final String symbolicName;
    private final String version;
    private final String location;
    private final String declaredModel;
    private final String declaredModelVersion;
    private final String descriptorPath;
    private volatile Optional<String> refusal;
    private volatile boolean refusedByLicense;

    private PluginBundle(Bundle bundle, FrameworkWiring wiring, BundleCapability capability) {
        this.bundle = bundle;
        this.wiring = wiring;
        this.lastModified = bundle.getLastModified();
        this.symbolicName = String.valueOf(bundle.getSymbolicName());
        this.version = bundle.getVersion().toString();
        this.location = bundle.getLocation();
        Map<String, Object> attributes = capability.getAttributes();
        Object name = attributes.get(NAMESPACE);
        Object modelVersion = attributes.get("version");
        this.declaredModel = name == null ? null : name.toString();
        this.declaredModelVersion = modelVersion == null ? null : modelVersion.toString();
        String header = bundle.getHeaders("").get(DESCRIPTOR_HEADER);
        this.descriptorPath = header == null || header.isBlank() ? DEFAULT_DESCRIPTOR : stripSlash(header.trim());
    }

    /** The bundle as a plugin, or empty when its current revision declares no {@code tollgate.model} capability. */
    static Optional<PluginBundle> of(Bundle bundle, FrameworkWiring wiring) {
        BundleRevision revision = bundle.adapt(BundleRevision.class);
        if (revision == null) {
            return Optional.empty();
        }
        List<BundleCapability> capabilities = revision.getDeclaredCapabilities(NAMESPACE);
        if (capabilities.isEmpty()) {
            return Optional.empty();
        }
        if (capabilities.size() > 1) {
            LOG.warn("bundle {} {} declares {} tollgate.model capabilities; a plugin provides one model, the first is"
                    + " used", bundle.getSymbolicName(), bundle.getVersion(), capabilities.size());
        }
        return Optional.of(new PluginBundle(bundle, wiring, capabilities.get(0)));
    }

    @Override
    public long bundleId() {
        return bundle.getBundleId();
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
        return location;
    }

    @Override
    public String revisionKey() {
        return bundle.getBundleId() + "@" + lastModified;
    }

    @Override
    public String declaredModel() {
        return declaredModel;
    }

    @Override
    public String declaredModelVersion() {
        return declaredModelVersion;
    }

    @Override
    public String descriptorPath() {
        return descriptorPath;
    }

    @Override
    public byte[] read(String path) throws IOException {
        URL url = entry(path);
        if (url == null) {
            return null;
        }
        try (InputStream in = url.openStream()) {
            return in.readAllBytes();
        }
    }

    @Override
    public boolean exists(String path) throws IOException {
        return entry(path) != null;
    }

    @Override
    public Class<?> loadClass(String className) throws ClassNotFoundException {
        try {
            return bundle.loadClass(className);
        } catch (IllegalStateException e) {
            throw new ClassNotFoundException(className + " (the bundle was uninstalled)", e);
        }
    }

    private URL entry(String path) throws IOException {
        try {
            return bundle.getEntry(path);
        } catch (IllegalStateException e) {
            throw new IOException("the bundle was uninstalled", e);
        }
    }

    /**
     * Counts the entry's inflated bytes first, reading nothing into memory, and stops past {@code maxBytes}: a zip
     * bomb (a few megabytes that inflate to gigabytes) is refused after inflating at most the limit, never held. Only
     * then is the entry read, into one array of its size.
     */
    @Override
    public byte[] read(String path, long maxBytes) throws IOException {
        URL url = entry(path);
        if (url == null) {
            return null;
        }
        long size = 0;
        try (InputStream in = url.openStream()) {
            byte[] buffer = new byte[64 * 1024];
            for (int n; (n = in.read(buffer)) >= 0; ) {
                size += n;
                if (size > maxBytes) {
                    throw new TooLargeException(maxBytes);
                }
            }
        }
        long heap = Runtime.getRuntime().maxMemory();
        if (size > heap / 2) {
            throw new IOException("it inflates to " + size + " bytes, more than half of the JVM's largest heap ("
                    + heap + " bytes): give the appliance more memory (TOLLGATE_JAVA_OPTS=-Xmx...)");
        }
        byte[] bytes;
        try {
            bytes = new byte[(int) size];
        } catch (OutOfMemoryError e) {
            throw new IOException("there is not enough heap free to hold its " + size + " bytes", e);
        }
        try (InputStream in = url.openStream()) {
            int read = in.readNBytes(bytes, 0, bytes.length);
            if (read != bytes.length || in.read() >= 0) {
                throw new IOException("it changed while it was read");
            }
        }
        return bytes;
    }

    /**
     * The plugin guard's verdict, the one the framework's resolver hook takes (the bundle's headers and entry
     * names, read without resolving it, and its name against the installed bundles); taken once per snapshot.
     */
    @Override
    public Optional<String> refusal() {
        Optional<String> r = refusal;
        if (r == null) {
            try {
                PluginVerdict verdict = PluginResolverHook.verdict(bundle, wiring.getBundle().getBundleContext());
                r = verdict.passes() ? Optional.empty() : Optional.of(verdict.reason());
                refusedByLicense = !verdict.licensing().isEmpty();
            } catch (IllegalStateException e) {
                r = Optional.empty();       // uninstalled meanwhile: the UNINSTALLED event follows
            }
            refusal = r;
        }
        return r;
    }

    @Override
    public boolean refusedByLicense() {
        refusal();
        return refusedByLicense;
    }

    /**
     * Tries once to resolve the bundle; when that fails, names the mandatory requirements no
     * installed bundle provides (usually the engine), else falls back to the framework's own
     * message from a start attempt the bundle's owner asked for anyway.
     */
    @Override
    public Optional<String> resolveProblem() {
        if (bundle.getState() != Bundle.INSTALLED || bundle.getLastModified() != lastModified) {
            return Optional.empty();
        }
        if (wiring.resolveBundles(List.of(bundle))) {
            return Optional.empty();
        }
        BundleRevision revision = bundle.adapt(BundleRevision.class);
        List<String> missing = new ArrayList<>();
        if (revision != null) {
            for (BundleRequirement requirement : revision.getDeclaredRequirements(null)) {
                Map<String, String> directives = requirement.getDirectives();
                String effective = directives.getOrDefault(Namespace.REQUIREMENT_EFFECTIVE_DIRECTIVE,
                        Namespace.EFFECTIVE_RESOLVE);
                if (Namespace.RESOLUTION_OPTIONAL.equals(directives.get(Namespace.REQUIREMENT_RESOLUTION_DIRECTIVE))
                        || !Namespace.EFFECTIVE_RESOLVE.equals(effective)) {
                    continue;
                }
                if (wiring.findProviders(requirement).isEmpty()) {
                    String filter = directives.get(Namespace.REQUIREMENT_FILTER_DIRECTIVE);
                    missing.add(requirement.getNamespace() + (filter == null ? "" : " " + filter));
                }
            }
        }
        if (!missing.isEmpty()) {
            return Optional.of("nothing installed provides " + String.join(", ", missing)
                    + "; install the bundle that provides " + (missing.size() == 1 ? "it" : "them")
                    + " (for tollgate.engine, the engine bundle)");
        }
        BundleStartLevel startLevel = bundle.adapt(BundleStartLevel.class);
        if (startLevel != null && startLevel.isPersistentlyStarted()) {
            try {
                bundle.start(Bundle.START_TRANSIENT);
                return Optional.empty();
            } catch (BundleException | IllegalStateException e) {
                return Optional.of(e.getMessage());
            }
        }
        return Optional.of("the framework cannot resolve it although every requirement has a provider (a uses"
                + " constraint or a provider that cannot resolve itself); see the framework log");
    }

    private static String stripSlash(String path) {
        return path.startsWith("/") ? path.substring(1) : path;
    }

    @Override
    public String toString() {
        return label() + " (bundle " + bundleId() + ")";
    }
}
