package io.tollgate.it.evil;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * A class a plugin carries beside its model, for anyone to load through the plugin's class loader: making
 * one leaves {@code plugin-code-ran-payload} in the appliance's data folder.
 */
public final class Payload {
    public Payload() {
        try {
            Files.writeString(Path.of(System.getProperty("tollgate.data")).resolve("plugin-code-ran-payload"), "payload");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
