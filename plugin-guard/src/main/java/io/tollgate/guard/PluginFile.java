package io.tollgate.guard;

/**
 * A file in the plugins folder that is not (or not yet) an installed bundle, as the launcher's plugin folder gate
 * sees it: being written, not a complete jar, not a model plugin, or refused by the framework at install. The
 * version installed from the same file before, if any, keeps serving.
 *
 * @param fileName     the file's name in the plugins folder ({@code ocr-2.0.0.jar})
 * @param location     its {@code file:} URI, the location the bundle has (or would have) once installed
 * @param symbolicName the {@code Bundle-SymbolicName} its manifest names, or "" when it cannot be read
 * @param version      the {@code Bundle-Version} its manifest names, or ""
 * @param copying      true while the file is still changing (the gate waits for it to settle); false when it is
 *                     settled and refused
 * @param reason       why it is not installed, one line for an operator
 * @since 1.2
 */
public record PluginFile(String fileName, String location, String symbolicName, String version, boolean copying,
                         String reason) {
}
