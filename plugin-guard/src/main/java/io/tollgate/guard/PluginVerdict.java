package io.tollgate.guard;

import java.util.ArrayList;
import java.util.List;

/**
 * What {@link PluginCodeRule} found in one plugin.
 *
 * @param modelPlugin  false when the bundle provides no {@code tollgate.model} capability although it came
 *                     from the plugins folder (only model plugins belong there)
 * @param code         the code it carries or asks to be wired to, in the words of the reason
 *                     ({@code Bundle-Activator com.acme.Activator}, {@code class com/acme/A.class}, ...)
 * @param declarations other headers and capabilities a model plugin may not declare
 *                     ({@code Require-Capability osgi.service}, {@code header X-Extender}, ...)
 * @param licensing    why the plugin is not entitled (issue 10: signature and license), in the words of
 *                     {@code Entitlement.reason()} ("no license: ...", "tampered entry: ..."); {@code ""} when it is
 *                     entitled or licensing was not asked
 * @param codeLicensed true when the plugin is vendor-signed and its license allows code: then {@link #code} is
 *                     allowed
 * @since 1.0
 */
public record PluginVerdict(boolean modelPlugin, List<String> code, List<String> declarations, String licensing,
                            boolean codeLicensed) {
    /** How many findings of each kind the reason lists before "and N more". */
    static final int LISTED = 8;

    public PluginVerdict {
        code = List.copyOf(code);
        declarations = List.copyOf(declarations);
        licensing = licensing == null ? "" : licensing;
    }

    /** The rule's findings alone (no licensing decision). */
    public PluginVerdict(boolean modelPlugin, List<String> code, List<String> declarations) {
        this(modelPlugin, code, declarations, "", false);
    }

    /** The same findings with a licensing decision. @since 1.3 */
    public PluginVerdict licensed(String licensingRefusal, boolean codeAllowed) {
        return new PluginVerdict(modelPlugin, code, declarations, licensingRefusal, codeAllowed);
    }

    /**
     * True when the plugin may be resolved: a model plugin that is data only (or whose code its license allows),
     * declares nothing else, and is entitled.
     */
    public boolean passes() {
        return modelPlugin && (code.isEmpty() || codeLicensed) && declarations.isEmpty() && licensing.isEmpty();
    }

    /**
     * Why the plugin is refused, for the log, {@code /admin/plugins} and {@code plugin inspect}, e.g.
     * "plugin carries code: Bundle-Activator com.acme.Activator; model plugins are data only (docs/plugins.md)";
     * "" when it {@link #passes()}.
     */
    public String reason() {
        if (passes()) {
            return "";
        }
        List<String> parts = new ArrayList<>();
        if (!licensing.isEmpty()) {
            parts.add(licensing);
        }
        boolean rule = !modelPlugin || (!code.isEmpty() && !codeLicensed) || !declarations.isEmpty();
        if (!rule) {
            return String.join("; ", parts);
        }
        if (!modelPlugin) {
            parts.add("not a model plugin: it provides no " + PluginCodeRule.MODEL_NAMESPACE + " capability, and only "
                    + "model plugins may be installed from the plugins folder");
        }
        if (!code.isEmpty() && !codeLicensed) {
            parts.add("plugin carries code: " + list(code));
        }
        if (!declarations.isEmpty()) {
            parts.add("plugin declares what a model plugin may not: " + list(declarations));
        }
        return String.join("; ", parts) + "; model plugins are data only (" + PluginCodeRule.DOCS + ")";
    }

    private static String list(List<String> findings) {
        if (findings.size() <= LISTED) {
            return String.join(", ", findings);
        }
        return String.join(", ", findings.subList(0, LISTED)) + " and " + (findings.size() - LISTED) + " more";
    }
}
