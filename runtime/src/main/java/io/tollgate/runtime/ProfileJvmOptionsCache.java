package io.tollgate.runtime;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code DATA/profile.jvm-options}: the chosen firmware profile's JVM options, kept for {@code bin/tollgate run} so
 * that a warm start does not pay a second JVM ({@code tollgate profile jvm-options}, ~2 s) to learn them
 * (docs/hardware.md, "Profiles"). The launcher writes it (0644, atomically) after it chose the profile in-process;
 * the script computes a key from what the choice depends on that bash can check cheaply (run --profile,
 * TOLLGATE_PROFILE, the conf folder, size/mtime/inode of conf/io.tollgate.profile.cfg and of profiles/*.profile) and
 * passes it as the system property {@value #KEY_PROPERTY}; the file is used only while its key is the same. What bash
 * cannot check (the box's hardware: detection) is checked here: when the options this start took from the file are not
 * the chosen profile's, the file is rewritten and one WARN says they apply from the next start.
 *
 * <p>Format, one entry a line: {@code key=<sha-256 hex>}, {@code profile=<name>}, {@code option=<one JVM option>}...
 */
final class ProfileJvmOptionsCache {
    private static final Logger LOG = LoggerFactory.getLogger(ProfileJvmOptionsCache.class);

    /** The file's name in the data folder. */
    static final String FILE = "profile.jvm-options";
    /** System property: bin/tollgate's key of the choice's inputs; absent when not started by bin/tollgate. */
    static final String KEY_PROPERTY = "tollgate.profile.jvm.key";
    /** System property: where bin/tollgate took the JVM options from, {@code cache} or {@code tools}. */
    static final String SOURCE_PROPERTY = "tollgate.profile.jvm.source";

    /** What the file holds; {@code options} in command-line order. */
    record Entry(String key, String profile, List<String> options) {
        String text() {
            StringBuilder b = new StringBuilder("# the firmware profile's JVM options for bin/tollgate run, written by "
                    + "the appliance (docs/hardware.md, \"Profiles\")\n");
            b.append("key=").append(key).append('\n').append("profile=").append(profile).append('\n');
            options.forEach(o -> b.append("option=").append(o).append('\n'));
            return b.toString();
        }
    }

    private ProfileJvmOptionsCache() {
    }

    /** The file in {@code data}, or null when absent or unreadable (then bin/tollgate runs its profile step). */
    static Entry read(Path data) {
        Path f = data.resolve(FILE);
        if (!Files.isRegularFile(f)) {
            return null;
        }
        String key = null;
        String profile = null;
        List<String> options = new ArrayList<>();
        try {
            for (String line : Files.readAllLines(f, StandardCharsets.UTF_8)) {
                if (line.startsWith("key=")) {
                    key = line.substring(4);
                } else if (line.startsWith("profile=")) {
                    profile = line.substring(8);
                } else if (line.startsWith("option=")) {
                    options.add(line.substring(7));
                }
            }
        } catch (IOException e) {
            return null;
        }
        return key == null ? null : new Entry(key, profile, List.copyOf(options));
    }

    /**
     * After the profile was chosen in-process: logs where this start's JVM options came from and makes the file hold
     * the chosen profile's options under {@code key}. Nothing when {@code key} is null (not started by bin/tollgate).
     * A file that cannot be written is a WARN, never a failed start: it only makes the next start slower.
     *
     * @param source  {@code cache} when bin/tollgate took the options from the file, else its profile step's
     * @param profile the chosen profile's name
     * @param options the chosen profile's JVM options
     * @return true when this start ran with other options than the chosen profile's (the WARN was logged)
     */
    static boolean update(Path data, String key, String source, String profile, List<String> options) {
        if (key == null || key.isBlank()) {
            return false;
        }
        Entry old = read(data);
        Path f = data.resolve(FILE);
        boolean fromCache = "cache".equals(source) && old != null && old.key().equals(key);
        boolean stale = fromCache && !old.options().equals(options);
        if (stale) {
            LOG.warn("the JVM options of firmware profile {} ({}) apply from the next start: this start used {}, kept in {} "
                    + "for profile {} (the box changed since)", profile, String.join(" ", options),
                    String.join(" ", old.options()), f, old.profile());
        } else if (fromCache) {
            LOG.info("JVM options of firmware profile {}: {} (from {}; bin/tollgate skipped its profile step)", profile,
                    String.join(" ", options), f);
        } else {
            LOG.info("JVM options of firmware profile {}: {} (from bin/tollgate's profile step; kept in {} for the next "
                    + "start)", profile, String.join(" ", options), f);
        }
        Entry now = new Entry(key, profile, List.copyOf(options));
        if (now.equals(old)) {
            return stale;
        }
        try {
            Path tmp = data.resolve("." + FILE + ".part");
            Files.writeString(tmp, now.text(), StandardCharsets.UTF_8);
            try {
                Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rw-r--r--"));
            } catch (UnsupportedOperationException notPosix) {
                // the default mode then
            }
            try {
                Files.move(tmp, f, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(tmp, f, StandardCopyOption.REPLACE_EXISTING);
            }
        } catch (IOException e) {
            LOG.warn("cannot write {} ({}); bin/tollgate will run its profile step (~2 s) at the next start too", f,
                    e.getMessage());
        }
        return stale;
    }
}
