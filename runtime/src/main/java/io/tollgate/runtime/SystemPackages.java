package io.tollgate.runtime;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.stream.Collectors;

/**
 * Packages the launcher's class path provides to bundles through the system bundle (logging API,
 * ConfigAdmin API, Chronicle): listed with versions in {@code system-packages.txt}.
 */
public final class SystemPackages {
    private SystemPackages() {
    }

    /** Each package clause, e.g. {@code org.slf4j;version="2.0.17"}. */
    public static List<String> list() throws IOException {
        try (InputStream in = SystemPackages.class.getResourceAsStream("system-packages.txt")) {
            if (in == null) {
                throw new IOException("system-packages.txt is missing from the launcher jar");
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8).lines()
                    .map(String::trim)
                    .filter(l -> !l.isEmpty() && !l.startsWith("#"))
                    .collect(Collectors.toList());
        }
    }
}
