package io.tollgate.guard;

import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The folder fileinstall installs plugins from, and whether a bundle location points into it. Locations
 * are {@code file:} URIs ({@code file:/opt/tollgate/plugins/x.jar}), possibly behind {@code reference:} or
 * fileinstall's {@code jardir:}; symbolic links are compared both ways.
 */
final class PluginFolder {
    private static final List<String> WRAPPERS = List.of("reference:", "jardir:");

    private final List<Path> roots = new ArrayList<>();

    /** @param folder the plugins folder, or null when bundles are never installed from one */
    PluginFolder(Path folder) {
        if (folder != null) {
            Path absolute = folder.toAbsolutePath().normalize();
            roots.add(absolute);
            real(absolute).filter(r -> !r.equals(absolute)).ifPresent(roots::add);
        }
    }

    /** The folder as configured, or empty. */
    Optional<Path> folder() {
        return roots.isEmpty() ? Optional.empty() : Optional.of(roots.get(0));
    }

    /** True when {@code location} names a file in the plugins folder (or below it). */
    boolean holds(String location) {
        if (roots.isEmpty() || location == null) {
            return false;
        }
        Optional<Path> path = path(location);
        if (path.isEmpty()) {
            return false;
        }
        Path p = path.get();
        Optional<Path> real = real(p);
        return roots.stream().anyMatch(root -> p.startsWith(root) || real.map(r -> r.startsWith(root)).orElse(false));
    }

    /** The file a location names, or empty when it names none (an {@code http:} URL, a test's made-up name). */
    static Optional<Path> path(String location) {
        String l = location.trim();
        for (boolean unwrapped = true; unwrapped; ) {
            unwrapped = false;
            for (String wrapper : WRAPPERS) {
                if (l.startsWith(wrapper)) {
                    l = l.substring(wrapper.length());
                    unwrapped = true;
                }
            }
        }
        try {
            if (l.startsWith("file:")) {
                try {
                    return Optional.of(Path.of(URI.create(l)).toAbsolutePath().normalize());
                } catch (IllegalArgumentException e) {
                    return Optional.of(Path.of(l.substring("file:".length())).toAbsolutePath().normalize());
                }
            }
            if (l.startsWith("/")) {
                return Optional.of(Path.of(l).normalize());
            }
        } catch (InvalidPathException e) {
            return Optional.empty();
        }
        return Optional.empty();
    }

    private static Optional<Path> real(Path p) {
        try {
            return Files.exists(p) ? Optional.of(p.toRealPath()) : Optional.empty();
        } catch (IOException | SecurityException e) {
            return Optional.empty();
        }
    }
}
