package io.tollgate.it.evil;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The code a hostile plugin would have Declarative Services run: an immediate component whose activation
 * leaves {@code plugin-code-ran-component} in the appliance's data folder. Needs nothing but java.*, so
 * the plugin that carries it imports nothing.
 */
public final class MarkerComponent {
    public void activate() throws IOException {
        Files.writeString(Path.of(System.getProperty("tollgate.data")).resolve("plugin-code-ran-component"), "component");
    }
}
