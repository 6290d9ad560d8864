package io.tollgate.serving;

/**
 * A plugin bundle the serving extender has seen.
 *
 * @param bundleId      OSGi bundle id
 * @param symbolicName  bundle symbolic name
 * @param version       bundle version
 * @param location      where it was installed from
 * @param model         model name it provides ("" if its descriptor could not be read)
 * @param modelVersion  model version it provides
 * @param state         state of its model
 * @param error         why it does not serve: refused, failed, unloaded... ("" when it serves)
 */
public record PluginStatus(long bundleId, String symbolicName, String version, String location, String model,
                           String modelVersion, ModelState state, String error) {
}
