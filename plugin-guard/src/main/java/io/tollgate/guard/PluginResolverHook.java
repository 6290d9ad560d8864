package io.tollgate.guard;

import io.tollgate.licensing.Entitlement;
import io.tollgate.licensing.License;
import io.tollgate.licensing.LicenseException;
import io.tollgate.licensing.PluginSignatures;
import io.tollgate.licensing.Refusal;
import java.io.IOException;
import java.nio.file.Files;
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
import org.osgi.framework.BundleException;
import org.osgi.framework.startlevel.BundleStartLevel;
import org.osgi.framework.wiring.FrameworkWiring;
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
 * Keeps the framework from resolving a model plugin that carries code (issue 9), or that is not entitled
 * (issue 10: its signature verifies against a trusted vendor and a license on this box covers it, decided by the
 * {@link LicenseStore}; a license that allows code lets a vendor-signed plugin carry code), so it stays INSTALLED
 * (see {@link Hook} for how, and the Felix behaviour that shaped it). An
 * INSTALLED bundle has no class loader: its activator cannot start, SCR never sees it (SCR acts on
 * started bundles), and {@code Bundle.loadClass} on it fails, whoever calls it.
 *
 * <p>A plugin is a bundle that provides a {@code tollgate.model} capability, or any bundle installed from
 * the plugins folder (fileinstall installs every jar there, whatever it claims to be). Other bundles (the
 * system bundles, the test framework's) are not looked at. The verdict is {@link PluginCodeRule}'s and the
 * license store's, taken once per bundle revision (again after the licenses changed: {@link #reconcile}); a
 * refusal is logged once per reason, at WARN, naming the file.
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
    private final LicenseStore licenses;
    private final Map<BundleRevision, PluginVerdict> verdicts = new WeakHashMap<>();
    /** The reason last logged for a revision, so a refusal is logged once (again only when its reason changes). */
    private final Map<BundleRevision, String> logged = new WeakHashMap<>();
    /** Signature evidence per revision: the jar is read once per revision. */
    private final Map<BundleRevision, Signed> signatures = new WeakHashMap<>();

    /** What the plugin's signature verification found: the signer's fingerprint, or why it failed. */
    private record Signed(String signer, LicenseException failure) {
    }

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
        this(pluginsFolder, framework, null);
    }

    /**
     * A hook that also resolves a plugin only when it is entitled (issue 10): its jar's signature verifies
     * ({@link PluginSignatures}) and {@code licenses} decides that a license covers it on this device; a plugin
     * that carries code then passes the rule only when that license allows code.
     *
     * @param pluginsFolder the folder plugins are installed from, or null when there is none
     * @param framework     the system bundle's context (names of installed bundles, and {@link #reconcile}); null to
     *                      skip the name check
     * @param licenses      the box's licenses; null to judge by the code rule alone (tests of the rule)
     * @since 1.3
     */
    public PluginResolverHook(Path pluginsFolder, BundleContext framework, LicenseStore licenses) {
        this.plugins = new PluginFolder(pluginsFolder);
        this.framework = framework;
        this.licenses = licenses;
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
                context, PluginGuard.store(context));
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
                if (!verdict.passes() && !verdict.reason().equals(logged.get(revision))) {
                    logged.put(revision, verdict.reason());
                    boolean ruleOnly = verdict.licensing().isEmpty();
                    LOG.warn("refused {} ({} {}, bundle {}): {}. The framework will not resolve it, so none of it is"
                            + " used{}", file(bundle), bundle.getSymbolicName(), bundle.getVersion(),
                            bundle.getBundleId(), verdict.reason(), ruleOnly
                                    ? "; replace it with a plugin made by 'bin/tollgate plugin pack'"
                                    : " (docs/licensing.md, \"On the appliance\")");
                }
            }
            return verdict;
        }
    }

    private PluginVerdict judge(Bundle bundle, BundleRevision revision) {
        boolean fromPluginsFolder = plugins.holds(bundle.getLocation());
        try {
            // the headers first: the framework asks about every unresolved bundle, and listing the entries of the
            // system bundles (ONNX Runtime's 54 MB jar, BouncyCastle's) was a tenth of a start's CPU (issue 11)
            Map<String, String> headers = BundleContents.headersOf(bundle);
            if (!fromPluginsFolder && !PluginCodeRule.declaresModel(headers) && !declaresModel(revision)) {
                return NOT_A_PLUGIN;
            }
            BundleContents contents = BundleContents.of(bundle, headers);
            PluginVerdict verdict = contents.verdict(fromPluginsFolder);
            List<String> more = new ArrayList<>(verdict.declarations());
            if (verdict.passes()) {
                more.addAll(asTheFrameworkReadsIt(revision));
            }
            more.addAll(nameTakenBy(bundle));
            PluginVerdict judged = new PluginVerdict(verdict.modelPlugin(), verdict.code(), more);
            if (licenses == null || !verdict.modelPlugin()) {
                return judged;
            }
            Entitlement e = entitlement(bundle, revision, contents, !verdict.code().isEmpty());
            // "code not allowed" is what the rule's "plugin carries code: ..." says already: the reason names it once
            boolean onlyTheCode = e.refusal().filter(r -> r == Refusal.CODE_NOT_ALLOWED).isPresent();
            return judged.licensed(onlyTheCode ? "" : e.reason(), e.license().map(License::allowCode).orElse(false));
        } catch (RuntimeException e) {
            // Fail closed: a plugin we cannot read is a plugin we cannot vouch for.
            return new PluginVerdict(true, List.of(), List.of("contents that cannot be read (" + e + ")"));
        }
    }

    private static boolean declaresModel(BundleRevision revision) {
        return !revision.getDeclaredCapabilities(PluginCodeRule.MODEL_NAMESPACE).isEmpty();
    }

    /**
     * The licensing decision on a plugin revision: its signature (verified once per revision on a copy of its
     * entries, read without resolving it) and the store's decision for its model name and version.
     */
    private Entitlement entitlement(Bundle bundle, BundleRevision revision, BundleContents contents,
                                    boolean carriesCode) {
        String[] id = identity(bundle, revision);
        Signed signed;
        synchronized (signatures) {
            signed = signatures.get(revision);
        }
        if (signed == null) {
            signed = verifySignature(bundle, contents, shown(bundle, id));
            synchronized (signatures) {
                signatures.put(revision, signed);
            }
        }
        return licenses.decide(id[0], id[1], carriesCode, signed.signer(), signed.failure());
    }

    /** The model name and version the plugin's {@code tollgate.model} capability declares (else its bundle's). */
    static String[] identity(Bundle bundle, BundleRevision revision) {
        for (BundleCapability c : revision.getDeclaredCapabilities(PluginCodeRule.MODEL_NAMESPACE)) {
            Object name = c.getAttributes().get(PluginCodeRule.MODEL_NAMESPACE);
            Object version = c.getAttributes().get("version");
            if (name != null) {
                return new String[] {name.toString(), version == null ? bundle.getVersion().toString()
                        : version.toString()};
            }
        }
        return new String[] {String.valueOf(bundle.getSymbolicName()), bundle.getVersion().toString()};
    }

    /**
     * How refusals name a plugin: its model name and version and the file the operator put in the plugins folder (or
     * the location it was installed from), never the framework's copy of the jar ({@code bundle.jar}).
     */
    String shown(Bundle bundle, String[] id) {
        String location = bundle.getLocation();
        Optional<Path> file = PluginFolder.path(location);
        String from = file.isPresent() && plugins.holds(location) ? "file " + file.get().getFileName() + " in plugins/"
                : "installed from " + file.map(Path::toString).orElse(location);
        return id[0] + " " + id[1] + " (" + from + ")";
    }

    private Signed verifySignature(Bundle bundle, BundleContents contents, String shown) {
        Optional<Path> installed = framework == null ? Optional.empty() : BundleJar.installed(bundle, framework);
        if (installed.isPresent()) {
            try {
                return new Signed(PluginSignatures.verify(installed.get(), shown), null);
            } catch (LicenseException e) {
                return new Signed(null, e);
            } catch (RuntimeException e) {
                return new Signed(null, new LicenseException(Refusal.TAMPERED, "the installed jar of plugin " + shown
                        + " cannot be verified (" + e + ")"));
            }
        }
        if (contents.entries().stream().noneMatch(BundleJar::signatureFile)) {
            return new Signed(null, new LicenseException(Refusal.UNSIGNED, Refusal.UNSIGNED.words() + ": plugin "
                    + shown + " carries no signature (no META-INF/*.SF); a vendor signs it with tollgate-vendor"
                    + " sign-plugin"));
        }
        Path copy = null;
        try {
            copy = BundleJar.copy(bundle, contents.entries());
            return new Signed(PluginSignatures.verify(copy, shown), null);
        } catch (LicenseException e) {
            return new Signed(null, e);
        } catch (IOException | RuntimeException e) {
            return new Signed(null, new LicenseException(Refusal.TAMPERED, "the entries of plugin " + shown
                    + " cannot be read back from the framework (" + e + ")"));
        } finally {
            if (copy != null) {
                try {
                    Files.deleteIfExists(copy);
                } catch (IOException e) {
                    LOG.debug("cannot delete {}: {}", copy, e.toString());
                }
            }
        }
    }

    /**
     * Brings the framework in line with the licenses after they changed (a {@link LicenseStore} listener): the
     * verdicts on unresolved plugins are taken again and the ones now entitled are resolved and started; a resolved
     * plugin no longer entitled is stopped (transiently: it starts again once entitled) and refreshed, so it
     * unresolves (the serving bundle drains its requests and unloads it).
     *
     * @since 1.3
     */
    public void reconcile() {
        if (framework == null) {
            return;
        }
        synchronized (verdicts) {
            verdicts.clear();
        }
        try {
            int state = framework.getBundle(0).getState();
            if (state != Bundle.ACTIVE && state != Bundle.STARTING) {
                return;         // stopping: its bundles stay as they are
            }
            reconcileNow();
        } catch (IllegalStateException e) {
            LOG.debug("the framework is gone: {}", e.toString());
        }
    }

    private void reconcileNow() {
        List<Bundle> refresh = new ArrayList<>();
        List<Bundle> resolve = new ArrayList<>();
        for (Bundle b : framework.getBundles()) {
            BundleRevision r = b.adapt(BundleRevision.class);
            if (b.getBundleId() == 0 || r == null || b.getState() == Bundle.UNINSTALLED) {
                continue;
            }
            if (!plugins.holds(b.getLocation()) && !declaresModel(r)) {
                continue;
            }
            if (r.getWiring() != null) {
                PluginVerdict v = judge(b, r);
                if (!v.passes()) {
                    LOG.warn("plugin {} ({} {}, bundle {}) is no longer entitled: {}. Stopping it: requests in flight"
                            + " finish, new ones are refused", file(b), b.getSymbolicName(), b.getVersion(),
                            b.getBundleId(), v.reason());
                    refresh.add(b);
                }
            } else if (verdict(r).passes()) {
                resolve.add(b);     // only those that pass: a refused trigger shrinks the set (the Felix trap)
            }
        }
        for (Bundle b : refresh) {
            try {
                b.stop(Bundle.STOP_TRANSIENT);
            } catch (BundleException | IllegalStateException e) {
                LOG.debug("stopping {} failed: {}", b.getLocation(), e.toString());
            }
        }
        FrameworkWiring wiring = framework.getBundle(0).adapt(FrameworkWiring.class);
        if (!refresh.isEmpty()) {
            wiring.refreshBundles(refresh);
        }
        if (resolve.isEmpty()) {
            return;
        }
        for (Bundle b : resolve) {
            wiring.resolveBundles(List.of(b));      // one at a time: one that fails keeps no other from resolving
        }
        for (Bundle b : resolve) {
            BundleStartLevel level = b.adapt(BundleStartLevel.class);
            if (b.getState() == Bundle.RESOLVED && level != null && level.isPersistentlyStarted()) {
                try {
                    b.start();
                    LOG.info("plugin {} ({} {}, bundle {}) is entitled now: started", file(b), b.getSymbolicName(),
                            b.getVersion(), b.getBundleId());
                } catch (BundleException | IllegalStateException e) {
                    LOG.warn("starting {} failed: {}", file(b), e.getMessage());
                }
            }
        }
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
