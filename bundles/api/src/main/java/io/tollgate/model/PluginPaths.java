package io.tollgate.model;

import java.util.Arrays;

/**
 * The rule for the paths a plugin's descriptor names (field {@code file}, {@code labels_file}): they stay inside
 * the plugin, relative to the descriptor's folder. The appliance refuses a plugin that breaks it when it loads it;
 * {@code tollgate plugin inspect} applies the same rule offline.
 */
public final class PluginPaths {
    private PluginPaths() {
    }

    /** True when {@code value} is a non-blank relative path with no {@code ..} segment, no leading '/' and no '\'. */
    public static boolean isInside(String value) {
        return value != null && !value.isBlank() && !value.startsWith("/") && !value.contains("\\")
                && !Arrays.asList(value.split("/")).contains("..");
    }

    /**
     * What a refusal says is expected, e.g. "a path inside the plugin relative to TOLLGATE-INF/ (no '..', no leading
     * '/')".
     *
     * @param folder the descriptor's folder as an entry path ("TOLLGATE-INF/"), or "" for the bundle root
     */
    public static String expected(String folder) {
        return "a path inside the plugin relative to " + (folder.isEmpty() ? "the bundle root" : folder)
                + " (no '..', no leading '/')";
    }
}
