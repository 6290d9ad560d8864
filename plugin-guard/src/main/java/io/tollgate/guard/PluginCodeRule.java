package io.tollgate.guard;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.jar.JarEntry;
import java.util.jar.JarFile;
import java.util.jar.Manifest;
import java.util.regex.Pattern;

/**
 * The one rule of what a model plugin may be (issue 9, docs/plugins.md, "A plugin is data"): a bundle
 * whose manifest names no code ({@code Bundle-Activator}, {@code Service-Component}, {@code Bundle-NativeCode},
 * {@code Import-Package}, {@code DynamicImport-Package}, {@code Require-Bundle}, {@code Fragment-Host},
 * {@code Export-Package}, {@code Bundle-ClassPath}, ...), that requires nothing beyond Tollgate's own
 * capabilities ({@code osgi.extender=tollgate.model}, {@code tollgate.engine}, {@code osgi.ee}), provides
 * nothing but {@code tollgate.model}, carries only headers from a short list, and holds no class, native
 * library, nested jar, {@code OSGI-INF/} descriptor or {@code META-INF/services/} file.
 *
 * <p>It looks at headers and entry names only: the same verdict whether the framework's resolver hook
 * ({@link PluginResolverHook}), the serving bundle or {@code bin/tollgate plugin inspect} asks. Issue 10
 * lets vendor-signed plugins carry code: that relaxation belongs here, and only here.
 *
 * <p>Threads: stateless, any thread.
 *
 * @since 1.0
 */
public final class PluginCodeRule {
    /** The capability namespace every model plugin provides. */
    public static final String MODEL_NAMESPACE = "tollgate.model";
    /** Where plugin authors read the rule. */
    public static final String DOCS = "docs/plugins.md";

    /** Headers that make the framework, an extender or the JVM load or wire code: each is reported as code. */
    private static final List<String> CODE_HEADERS = List.of(
            "Bundle-Activator", "ExtensionBundle-Activator", "Service-Component", "Bundle-Blueprint",
            "Bundle-NativeCode", "Bundle-ClassPath", "Import-Package", "DynamicImport-Package", "Require-Bundle",
            "Fragment-Host", "Export-Package", "Bundle-ActivationPolicy", "SPI-Provider", "SPI-Consumer",
            "Meta-Persistence", "Web-ContextPath", "Main-Class", "Launcher-Agent-Class", "Premain-Class",
            "Agent-Class", "Class-Path");
    /** Headers a model plugin may carry besides {@link #ALLOWED_PREFIXES}: identity, documentation, build metadata. */
    private static final Set<String> ALLOWED_HEADERS = caseInsensitive(List.of(
            "Manifest-Version", "Created-By", "Built-By", "Build-Jdk", "Build-Jdk-Spec", "Tool", "Bnd-LastModified",
            "Private-Package", "Include-Resource",
            "Bundle-ManifestVersion", "Bundle-SymbolicName", "Bundle-Version", "Bundle-Name", "Bundle-Description",
            "Bundle-Vendor", "Bundle-Copyright", "Bundle-DocURL", "Bundle-License", "Bundle-ContactAddress",
            "Bundle-Category", "Bundle-Developers", "Bundle-SCM", "Bundle-Icon", "Bundle-RequiredExecutionEnvironment",
            "Provide-Capability", "Require-Capability"));
    private static final List<String> ALLOWED_PREFIXES = List.of("tollgate-", "implementation-", "specification-");
    private static final Pattern NATIVE_LIBRARY = Pattern.compile(".*\\.(so(\\.[0-9]+)*|dll|dylib|jnilib)");
    private static final int SHOWN_VALUE_CHARS = 80;
    /** The prefix of Tollgate's own bundle symbolic names. */
    static final String TOLLGATE_NAMES = "io.tollgate";
    /** More entries than any model plugin has (a model, a descriptor, labels, a few engines). */
    static final int MAX_ENTRIES = 100_000;

    private PluginCodeRule() {
    }

    /** True when the headers provide a {@code tollgate.model} capability: the framework treats such a bundle as a plugin. */
    public static boolean declaresModel(Map<String, String> headers) {
        String provided = caseInsensitive(headers).get("Provide-Capability");
        if (provided == null) {
            return false;
        }
        try {
            return HeaderClause.parse(provided).stream().anyMatch(c -> c.paths().contains(MODEL_NAMESPACE));
        } catch (IllegalArgumentException e) {
            return false;
        }
    }

    /**
     * Checks one plugin.
     *
     * @param headers             the manifest's main attributes (names in any case)
     * @param entries             every entry path in the plugin as the jar names it (directories may be included,
     *                            with or without a trailing slash); a name that starts with a slash is absolute,
     *                            and refused as such
     * @param fromPluginsFolder   true when the bundle came from the plugins folder, where only model plugins belong
     */
    public static PluginVerdict check(Map<String, String> headers, Collection<String> entries, boolean fromPluginsFolder) {
        Map<String, String> h = caseInsensitive(headers);
        List<String> code = new ArrayList<>();
        List<String> declarations = new ArrayList<>();
        for (String name : CODE_HEADERS) {
            String value = h.get(name);
            if (value != null) {
                code.add(name + " " + shown(value));
            }
        }
        for (String name : headers.keySet()) {
            String lower = name.toLowerCase(Locale.ROOT);
            if (!ALLOWED_HEADERS.contains(name) && ALLOWED_PREFIXES.stream().noneMatch(lower::startsWith)
                    && CODE_HEADERS.stream().noneMatch(name::equalsIgnoreCase)) {
                declarations.add("header " + name);
            }
        }
        symbolicName(h.get("Bundle-SymbolicName"), declarations);
        capabilities(h.get("Provide-Capability"), declarations);
        requirements(h.get("Require-Capability"), declarations);
        if (entries.size() > MAX_ENTRIES) {
            declarations.add("more than " + MAX_ENTRIES + " entries");
        }
        for (String path : new TreeSet<>(entries)) {
            String unsafe = unsafeName(path);
            if (unsafe != null) {
                declarations.add(unsafe);
            }
            String finding = entry(path.startsWith("/") ? path.substring(1) : path);
            if (finding != null) {
                code.add(finding);
            }
        }
        boolean modelPlugin = declaresModel(h) || !fromPluginsFolder;
        return new PluginVerdict(modelPlugin, code, declarations);
    }

    /** Checks a plugin jar as if it were dropped into the plugins folder (what {@code plugin inspect} shows). */
    public static PluginVerdict check(JarFile jar) throws IOException {
        Map<String, String> headers = new LinkedHashMap<>();
        Manifest manifest = jar.getManifest();
        if (manifest != null) {
            manifest.getMainAttributes().forEach((name, value) -> headers.put(name.toString(), String.valueOf(value)));
        }
        List<String> entries = jar.stream().map(JarEntry::getName).toList();
        return check(headers, entries, true);
    }

    private static void capabilities(String header, List<String> declarations) {
        if (header == null) {
            return;
        }
        try {
            for (HeaderClause c : HeaderClause.parse(header)) {
                for (String namespace : c.paths()) {
                    if (!MODEL_NAMESPACE.equals(namespace)) {
                        declarations.add("Provide-Capability " + namespace);
                    }
                }
            }
        } catch (IllegalArgumentException e) {
            declarations.add("Provide-Capability that cannot be parsed (" + e.getMessage() + ")");
        }
    }

    private static void requirements(String header, List<String> declarations) {
        if (header == null) {
            return;
        }
        try {
            for (HeaderClause c : HeaderClause.parse(header)) {
                String filter = c.parameters().get("filter");
                for (String namespace : c.paths()) {
                    if (!tollgatesOwn(namespace, filter)) {
                        declarations.add("Require-Capability " + namespace + (filter == null ? "" : " " + shown(filter)));
                    }
                }
            }
        } catch (IllegalArgumentException e) {
            declarations.add("Require-Capability that cannot be parsed (" + e.getMessage() + ")");
        }
    }

    /**
     * The model extender, an engine, or the Java version: nothing that wires code to the plugin. Also asked by the
     * resolver hook about the requirements the framework itself parsed from the manifest.
     *
     * @param filter the requirement's {@code filter} directive, or null
     */
    static boolean tollgatesOwn(String namespace, String filter) {
        switch (namespace) {
            case "tollgate.engine":
            case "osgi.ee":
                return true;
            case "osgi.extender":
                return onlyTheModelExtender(filter == null ? "" : filter);
            default:
                return false;
        }
    }

    /**
     * True when {@code filter} can match the {@code tollgate.model} extender only: it is
     * {@code (osgi.extender=tollgate.model)}, or an {@code (&...)} with that term among its top-level operands
     * (a version range beside it, say). Any other shape — an {@code (|...)} naming SCR's {@code osgi.component}
     * too, a negation, a wildcard — could ask another extender to act on the plugin. Plain text, no OSGi classes:
     * {@code plugin inspect} runs without a framework.
     */
    private static boolean onlyTheModelExtender(String filter) {
        String f = filter.replaceAll("\\s+", "");
        String ours = "(osgi.extender=" + MODEL_NAMESPACE + ")";
        if (f.equals(ours)) {
            return true;
        }
        if (!f.startsWith("(&") || !f.endsWith(")")) {
            return false;
        }
        int depth = 0;
        int operand = -1;
        for (int i = 2; i < f.length() - 1; i++) {
            char c = f.charAt(i);
            if (c == '\\') {
                i++;
            } else if (c == '(') {
                if (depth++ == 0) {
                    operand = i;
                }
            } else if (c == ')' && --depth == 0 && f.substring(operand, i + 1).equals(ours)) {
                return true;
            }
        }
        return false;
    }

    /**
     * Tollgate's own bundles are {@code io.tollgate.*}, and the framework is {@code system.bundle}: a plugin named
     * like them would collide with (or, as a singleton, push out) the real one. Another plugin's name is the
     * resolver hook's business: only the framework knows what else is installed.
     */
    private static void symbolicName(String header, List<String> declarations) {
        if (header == null) {
            return;
        }
        String name;
        try {
            List<HeaderClause> clauses = HeaderClause.parse(header);
            name = clauses.isEmpty() ? "" : clauses.get(0).paths().get(0);
            if (!clauses.isEmpty() && "true".equalsIgnoreCase(clauses.get(0).parameters().get("singleton"))) {
                // a singleton plugin would keep another version (the legitimate one) from resolving
                declarations.add("Bundle-SymbolicName " + shown(name) + " as a singleton (versions of a plugin sit"
                        + " side by side)");
            }
        } catch (IllegalArgumentException e) {
            declarations.add("Bundle-SymbolicName that cannot be parsed (" + e.getMessage() + ")");
            return;
        }
        String lower = name.toLowerCase(Locale.ROOT);
        if (lower.equals(TOLLGATE_NAMES) || lower.startsWith(TOLLGATE_NAMES + ".")) {
            declarations.add("Bundle-SymbolicName " + shown(name) + " (" + TOLLGATE_NAMES + ".* names Tollgate's own"
                    + " bundles)");
        } else if (lower.equals("system.bundle") || lower.startsWith("org.apache.felix.")) {
            declarations.add("Bundle-SymbolicName " + shown(name) + " (the name of a framework bundle)");
        }
    }

    /**
     * Why an entry's name is unsafe, in the words of the reason, or null: it climbs out of the plugin
     * ({@code ..}), is absolute ({@code /x}, {@code C:x}), uses a backslash (a separator on Windows) or holds a
     * control character. No Tollgate code unpacks a plugin, but a tool that did would write outside its folder.
     */
    static String unsafeName(String path) {
        if (path.startsWith("/") || path.matches("(?s)[A-Za-z]:.*")) {
            return "absolute entry name " + shown(path);
        }
        if (path.indexOf('\\') >= 0) {
            return "entry name with a backslash " + shown(path);
        }
        if (path.chars().anyMatch(c -> c < 0x20 || c == 0x7F)) {
            return "entry name with a control character " + shown(path.replaceAll("\\p{Cntrl}", "?"));
        }
        for (String segment : path.split("/")) {
            if (segment.equals("..")) {
                return "entry name that climbs out of the plugin " + shown(path);
            }
        }
        return null;
    }

    /** What an entry is, in the words of the reason, when it is code; null when it is data. */
    private static String entry(String path) {
        if (path.isEmpty() || path.endsWith("/")) {
            return null;
        }
        String lower = path.toLowerCase(Locale.ROOT);
        if (lower.endsWith(".class")) {
            return "class " + path;
        }
        if (NATIVE_LIBRARY.matcher(lower).matches()) {
            return "native library " + path;
        }
        if (lower.endsWith(".jar")) {
            return "nested jar " + path;
        }
        if (lower.startsWith("osgi-inf/")) {
            return "OSGi descriptor " + path;
        }
        if (lower.startsWith("meta-inf/services/")) {
            return "service provider file " + path;
        }
        return null;
    }

    private static String shown(String value) {
        String v = value.trim().replaceAll("\\s+", " ");
        return v.length() <= SHOWN_VALUE_CHARS ? v : v.substring(0, SHOWN_VALUE_CHARS - 3) + "...";
    }

    private static Map<String, String> caseInsensitive(Map<String, String> headers) {
        Map<String, String> m = new TreeMap<>(String.CASE_INSENSITIVE_ORDER);
        m.putAll(headers);
        return m;
    }

    private static Set<String> caseInsensitive(Collection<String> names) {
        Set<String> s = new TreeSet<>(String.CASE_INSENSITIVE_ORDER);
        s.addAll(names);
        return s;
    }
}
