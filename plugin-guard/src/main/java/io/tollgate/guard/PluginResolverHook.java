package io.tollgate.guard;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.WeakHashMap;
import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;
import org.osgi.framework.namespace.BundleNamespace;
import org.osgi.framework.namespace.HostNamespace;
import org.osgi.framework.namespace.IdentityNamespace;
import org.osgi.framework.hooks.resolver.ResolverHook;
import org.osgi.framework.hooks.resolver.ResolverHookFactory;
import org.osgi.framework.wiring.BundleCapability;
import org.osgi.framework.wiring.BundleRequirement;
import org.osgi.framework.wiring.BundleRevision;
import org.osgi.resource.Namespace;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps the framework from resolving a model plugin that carries code (issue 9), so it stays INSTALLED
 * (see {@link Hook} for how, and the Felix behaviour that shaped it). An
 * INSTALLED bundle has no class loader: its activator cannot start, SCR never sees it (SCR acts on
 * started bundles), and {@code Bundle.loadClass} on it fails, whoever calls it.
 *
 * <p>A plugin is a bundle that provides a {@code tollgate.model} capability, or any bundle installed from
 * the plugins folder (fileinstall installs every jar there, whatever it claims to be). Other bundles (the
 * system bundles, the test framework's) are not looked at. The verdict is {@link PluginCodeRule}'s, taken
 * once per bundle revision; a refusal is logged once, at WARN, naming the file.
 *
 * <p>Threads: the framework calls the hook on whichever thread resolves (fileinstall's, a bundle's
 * {@code start} caller); the verdicts are kept under one lock.
 *
 * @since 1.0
 */
public final class PluginResolverHook implements ResolverHookFactory {
    private static final Logger LOG = LoggerFactory.getLogger(PluginResolverHook.class);
    /** The verdict on a revision that is no plugin: it passes. */
    private static final PluginVerdict NOT_A_PLUGIN = new PluginVerdict(true, List.of(), List.of());

    /** Capabilities the framework gives every bundle itself (identity, the bundle and host wiring). */
    private static final Set<String> IMPLICIT_CAPABILITIES = Set.of(IdentityNamespace.IDENTITY_NAMESPACE,
            BundleNamespace.BUNDLE_NAMESPACE, HostNamespace.HOST_NAMESPACE);

    private final PluginFolder plugins;
    private final BundleContext framework;
    private final Map<BundleRevision, PluginVerdict> verdicts = new WeakHashMap<>();

    /**
     * A hook that judges each plugin on its own (it cannot see which names other bundles hold).
     *
     * @param pluginsFolder the folder plugins are installed from, or null when there is none
     */
    public PluginResolverHook(Path pluginsFolder) {
        this(pluginsFolder, null);
    }

    /**
     * @param pluginsFolder the folder plugins are installed from, or null when there is none
     * @param framework     the system bundle's context, to refuse a plugin named like another installed bundle;
     *                      null to skip that check
     * @since 1.1
     */
    public PluginResolverHook(Path pluginsFolder, BundleContext framework) {
        this.plugins = new PluginFolder(pluginsFolder);
        this.framework = framework;
    }

    /** The plugins folder this hook watches, if any. */
    Optional<Path> pluginsFolder() {
        return plugins.folder();
    }

    @Override
    public ResolverHook begin(Collection<BundleRevision> triggers) {
        return new Hook(triggers);
    }

    /**
     * The verdict a hook of this framework takes on {@code bundle}'s current revision — the rule, the framework's
     * reading of the manifest, and the names of the installed bundles — for whoever reports it (the serving
     * bundle's {@code /admin/plugins}). Neither kept nor logged.
     *
     * @param context a bundle context of the framework: its {@value PluginGuard#PLUGINS_PROPERTY} property and its
     *                installed bundles are read
     * @since 1.1
     */
    public static PluginVerdict verdict(Bundle bundle, BundleContext context) {
        String folder = context.getProperty(PluginGuard.PLUGINS_PROPERTY);
        PluginResolverHook hook = new PluginResolverHook(folder == null || folder.isBlank() ? null : Path.of(folder),
                context);
        BundleRevision revision = bundle.adapt(BundleRevision.class);
        if (revision == null) {
            throw new IllegalStateException("bundle " + bundle.getBundleId() + " was uninstalled");
        }
        return hook.judge(bundle, revision);
    }

    /** True when {@code revision} is a plugin that fails {@link PluginCodeRule}: it must never resolve. */
    boolean refuses(BundleRevision revision) {
        return !verdict(revision).passes();
    }

    /** The verdict on {@code revision}, taken once (and logged once when it refuses). */
    PluginVerdict verdict(BundleRevision revision) {
        Bundle bundle = revision.getBundle();
        if (bundle == null || bundle.getBundleId() == 0 || revision.getWiring() != null) {
            return NOT_A_PLUGIN;    // the framework itself, or resolved already (so it passed: we were here first)
        }
        synchronized (verdicts) {
            PluginVerdict verdict = verdicts.get(revision);
            if (verdict == null) {
                verdict = judge(bundle, revision);
                verdicts.put(revision, verdict);
                if (!verdict.passes()) {
                    LOG.warn("refused {} ({} {}, bundle {}): {}. The framework will not resolve it, so none of its"
                            + " code runs; replace it with a plugin made by 'bin/tollgate plugin pack'", file(bundle),
                            bundle.getSymbolicName(), bundle.getVersion(), bundle.getBundleId(), verdict.reason());
                }
            }
            return verdict;
        }
    }

    private PluginVerdict judge(Bundle bundle, BundleRevision revision) {
        boolean fromPluginsFolder = plugins.holds(bundle.getLocation());
        try {
            BundleContents contents = BundleContents.of(bundle);
            if (!fromPluginsFolder && !PluginCodeRule.declaresModel(contents.headers())
                    && !declaresModel(revision)) {
                return NOT_A_PLUGIN;
            }
            PluginVerdict verdict = contents.verdict(fromPluginsFolder);
            List<String> more = new ArrayList<>(verdict.declarations());
            if (verdict.passes()) {
                more.addAll(asTheFrameworkReadsIt(revision));
            }
            more.addAll(nameTakenBy(bundle));
            return new PluginVerdict(verdict.modelPlugin(), verdict.code(), more);
        } catch (RuntimeException e) {
            // Fail closed: a plugin we cannot read is a plugin we cannot vouch for.
            return new PluginVerdict(true, List.of(), List.of("contents that cannot be read (" + e + ")"));
        }
    }

    private static boolean declaresModel(BundleRevision revision) {
        return !revision.getDeclaredCapabilities(PluginCodeRule.MODEL_NAMESPACE).isEmpty();
    }

    /**
     * The requirements and capabilities the framework parsed from the manifest, judged again: the rule reads the
     * headers with its own parser, and where the two parsers disagree (a quirk of quoting, a header given twice)
     * the framework's reading is what would be wired. Asked only when the rule let the plugin pass, so a refusal's
     * reason names each finding once.
     */
    static List<String> asTheFrameworkReadsIt(BundleRevision revision) {
        List<String> findings = new ArrayList<>();
        for (BundleRequirement r : revision.getDeclaredRequirements(null)) {
            String filter = r.getDirectives().get(Namespace.REQUIREMENT_FILTER_DIRECTIVE);
            if (!PluginCodeRule.tollgatesOwn(r.getNamespace(), filter)) {
                findings.add("requirement " + r.getNamespace() + (filter == null ? "" : " " + filter)
                        + " (as the framework reads the manifest)");
            }
        }
        for (BundleCapability c : revision.getDeclaredCapabilities(null)) {
            if (!PluginCodeRule.MODEL_NAMESPACE.equals(c.getNamespace())
                    && !IMPLICIT_CAPABILITIES.contains(c.getNamespace())) {
                findings.add("capability " + c.getNamespace() + " (as the framework reads the manifest)");
            }
        }
        return findings;
    }

    /**
     * A bundle installed before this one that holds its name: any bundle that is no plugin (a Tollgate or
     * framework bundle, whatever its name), or a plugin with the same name and version (a second copy that would
     * stand in for the first). Another version of the same plugin is allowed: side-by-side versions
     * (docs/plugins.md). The earlier bundle keeps the name, so of two jars dropped at once the first installed is
     * judged on its own.
     */
    private List<String> nameTakenBy(Bundle bundle) {
        String name = bundle.getSymbolicName();
        if (framework == null || name == null) {
            return List.of();
        }
        for (Bundle other : framework.getBundles()) {
            if (other.getBundleId() >= bundle.getBundleId() || !name.equals(other.getSymbolicName())) {
                continue;
            }
            boolean plugin = plugins.holds(other.getLocation()) || declaresModel(other);
            if (!plugin) {
                return List.of("Bundle-SymbolicName " + name + " is the name of bundle " + other.getBundleId() + " ("
                        + file(other) + "), which is no plugin");
            }
            if (other.getVersion().equals(bundle.getVersion())) {
                return List.of("Bundle-SymbolicName " + name + " " + bundle.getVersion() + " is already installed"
                        + " from " + file(other) + " (bundle " + other.getBundleId() + "); to upgrade a plugin,"
                        + " replace its file");
            }
        }
        return List.of();
    }

    private static boolean declaresModel(Bundle bundle) {
        try {
            BundleRevision revision = bundle.adapt(BundleRevision.class);
            return revision != null && declaresModel(revision);
        } catch (RuntimeException e) {
            return false;
        }
    }

    private static String file(Bundle bundle) {
        return PluginFolder.path(bundle.getLocation()).map(Path::toString).orElse(bundle.getLocation());
    }

    /**
     * One resolve operation. A refused plugin is kept out three ways: it leaves the resolvable set when it is
     * one of the operation's triggers (its own start, {@code loadClass}, {@code resolveBundles}); none of its
     * requirements matches anything, so it cannot join an operation another bundle triggered (as an optional
     * resource or a fragment); and none of its capabilities matches, so nothing is wired to it.
     *
     * <p>Why not simply remove every refused plugin from every resolvable set: Felix 7.0.5 turns a resolvable
     * set that a hook shrank into a whitelist and then drops every capability of a revision outside it — the
     * set holds only unresolved revisions, so the system bundle's and every resolved bundle's capabilities go
     * too ({@code StatefulResolver.findProvidersInternal}). One refused jar in plugins/ would then keep every
     * other bundle from resolving, good plugins included ({@code PluginResolverHookTest
     * .aRefusedPluginDoesNotKeepOthersFromResolving}). Shrinking only operations a refused plugin triggered
     * confines that to operations that fail anyway.
     */
    private final class Hook implements ResolverHook {
        private final Collection<BundleRevision> triggers;

        Hook(Collection<BundleRevision> triggers) {
            this.triggers = triggers;
        }

        @Override
        public void filterResolvable(Collection<BundleRevision> candidates) {
            candidates.removeIf(r -> triggers.contains(r) && refuses(r));
        }

        @Override
        public void filterSingletonCollisions(BundleCapability singleton, Collection<BundleCapability> collisionCandidates) {
            // nothing: singletons are the framework's business
        }

        @Override
        public void filterMatches(BundleRequirement requirement, Collection<BundleCapability> candidates) {
            if (refuses(requirement.getRevision())) {
                candidates.clear();
            } else {
                candidates.removeIf(c -> refuses(c.getRevision()));
            }
        }

        @Override
        public void end() {
            // nothing held per resolve operation
        }
    }
}
