package io.tollgate.guard;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.Dictionary;
import java.util.Enumeration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.osgi.framework.Bundle;

/**
 * What {@link PluginCodeRule} reads from an installed bundle: its raw manifest headers and every entry
 * path, through {@link Bundle#getHeaders(String)} and {@link Bundle#getEntryPaths(String)} — neither resolves
 * the bundle (unlike {@code findEntries} or {@code getResource}), so they are safe inside a resolver hook and
 * on a bundle that must never resolve.
 *
 * @param headers the manifest's main attributes, not localized
 * @param entries every entry path, directories with a trailing slash
 * @since 1.0
 */
public record BundleContents(Map<String, String> headers, List<String> entries) {
    public BundleContents {
        headers = Map.copyOf(headers);
        entries = List.copyOf(entries);
    }

    /**
     * Reads the bundle's current revision.
     *
     * @throws IllegalStateException when the bundle was uninstalled
     */
    public static BundleContents of(Bundle bundle) {
        return of(bundle, headersOf(bundle));
    }

    /**
     * The bundle's raw manifest headers (cheap: no entry is listed), for deciding whether its entries need reading.
     *
     * @throws IllegalStateException when the bundle was uninstalled
     * @since 1.5
     */
    public static Map<String, String> headersOf(Bundle bundle) {
        Map<String, String> headers = new LinkedHashMap<>();
        Dictionary<String, String> raw = bundle.getHeaders("");
        for (Enumeration<String> keys = raw.keys(); keys.hasMoreElements(); ) {
            String key = keys.nextElement();
            headers.put(key, raw.get(key));
        }
        return headers;
    }

    /**
     * The bundle's entries with {@code headers} (from {@link #headersOf}): listing every entry of a large bundle
     * costs (Felix filters the whole entry list per folder), so callers that need the headers alone skip it.
     *
     * @since 1.5
     */
    public static BundleContents of(Bundle bundle, Map<String, String> headers) {
        List<String> entries = new ArrayList<>();
        Deque<String> folders = new ArrayDeque<>(List.of("/"));
        // The walk stops past the rule's limit: a plugin that big is refused anyway, and a walk without end
        // would hold the resolver up.
        while (!folders.isEmpty() && entries.size() <= PluginCodeRule.MAX_ENTRIES) {
            Enumeration<String> paths = bundle.getEntryPaths(folders.pop());
            while (paths != null && paths.hasMoreElements()) {
                String path = paths.nextElement();
                entries.add(path);
                if (path.endsWith("/")) {
                    folders.push(path);
                }
            }
        }
        return new BundleContents(headers, entries);
    }

    /** The rule's verdict on these contents. */
    public PluginVerdict verdict(boolean fromPluginsFolder) {
        return PluginCodeRule.check(headers, entries, fromPluginsFolder);
    }
}
