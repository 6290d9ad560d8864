package io.tollgate.tools.profile;

import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;

/**
 * The configuration a box runs with, key by key, and where each value comes from: the firmware profile's value is the
 * default, a key in the owner's {@code conf/PID.cfg} wins over it (docs/hardware.md, "Profiles"). The launcher pushes
 * the same layering through ConfigAdmin (runtime's {@code ConfigFiles}); this is what {@code profile show} prints.
 * Values are shown as written ({@code ${tollgate.data}} placeholders are not expanded).
 */
public final class EffectiveConfiguration {
    /**
     * One key's value.
     *
     * @param source        {@code profile NAME} or the conf file that set it
     * @param profileValue  the profile's value a conf file overrode; null when the profile does not set the key or
     *                      set the value shown
     */
    public record Entry(String pid, String key, String value, String source, String profileValue) {
    }

    private EffectiveConfiguration() {
    }

    /** The owner's {@code conf/*.cfg} files (without the launcher's own {@code io.tollgate.profile.cfg}): PID → values. */
    public static Map<String, Map<String, String>> ownerFiles(Path confDir) throws IOException {
        Map<String, Map<String, String>> all = new TreeMap<>();
        if (!Files.isDirectory(confDir)) {
            return all;
        }
        try (DirectoryStream<Path> files = Files.newDirectoryStream(confDir, "*.cfg")) {
            for (Path f : files) {
                String name = f.getFileName().toString();
                String pid = name.substring(0, name.length() - ".cfg".length());
                if (pid.equals(FirmwareProfiles.PROFILE_PID)) {
                    continue;
                }
                Properties p = new Properties();
                try (Reader r = Files.newBufferedReader(f, StandardCharsets.UTF_8)) {
                    p.load(r);
                }
                Map<String, String> values = new HashMap<>();
                p.stringPropertyNames().forEach(k -> values.put(k, p.getProperty(k).trim()));
                all.put(pid, values);
            }
        }
        return all;
    }

    /** Every key of every PID, sorted by PID and key, with its source. */
    public static List<Entry> of(FirmwareProfile profile, Path confDir) throws IOException {
        Map<String, Map<String, Entry>> byPid = new TreeMap<>();
        String fromProfile = "profile " + profile.name();
        profile.layer().forEach((pid, values) -> values.forEach((k, v) ->
                byPid.computeIfAbsent(pid, x -> new TreeMap<>()).put(k, new Entry(pid, k, v, fromProfile, null))));
        for (Map.Entry<String, Map<String, String>> file : ownerFiles(confDir).entrySet()) {
            String pid = file.getKey();
            String source = confDir.resolve(pid + ".cfg").toString();
            Map<String, String> profileValues = profile.layer().getOrDefault(pid, Map.of());
            file.getValue().forEach((k, v) -> byPid.computeIfAbsent(pid, x -> new TreeMap<>()).put(k,
                    new Entry(pid, k, v, source, profileValues.get(k))));
        }
        List<Entry> out = new ArrayList<>();
        byPid.values().forEach(m -> out.addAll(m.values()));
        return out;
    }
}
