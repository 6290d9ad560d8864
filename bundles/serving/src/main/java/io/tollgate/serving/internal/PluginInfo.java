package io.tollgate.serving.internal;

/** Which plugin revision a model version came from. */
record PluginInfo(long bundleId, String symbolicName, String version, String location, String revisionKey) {
    String label() {
        return "plugin " + symbolicName + " " + version;
    }
}
