package io.tollgate.runtime;

import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Dictionary;
import java.util.HashMap;
import java.util.Hashtable;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.osgi.framework.BundleContext;
import org.osgi.service.cm.Configuration;
import org.osgi.service.cm.ConfigurationAdmin;
import org.osgi.util.tracker.ServiceTracker;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reads {@code conf/<pid>.cfg} files (Java properties, one file per configuration PID) over the firmware profile's
 * values (the profile gives defaults, a key in the owner's file wins; docs/hardware.md, "Profiles"), applies
 * command-line overrides and {@code ${tollgate.home}}-style placeholders, and pushes the result
 * through ConfigAdmin. Components that need configuration activate only once it is there.
 * {@code conf/io.tollgate.profile.cfg} is the launcher's own (which profile) and is not pushed.
 */
final class ConfigFiles {
    private static final Logger LOG = LoggerFactory.getLogger(ConfigFiles.class);
    static final String ENDPOINT_PID = "io.tollgate.endpoint";
    static final String SYNC_PID = "io.tollgate.sync";
    private static final Pattern PLACEHOLDER = Pattern.compile("\\$\\{([a-zA-Z0-9_.-]+)}");

    private final Path dir;
    private final Map<String, Map<String, String>> overrides;
    private final Map<String, String> variables;
    /** The firmware profile's values (PID → key → value), under the files'. */
    private final Map<String, Map<String, String>> profile;
    /** The PIDs that have a file in {@link #dir} or a command-line override (not only profile values). */
    private final java.util.Set<String> ownerPids = new java.util.TreeSet<>();

    ConfigFiles(Path dir, Map<String, Map<String, String>> overrides, Map<String, String> variables) {
        this(dir, overrides, variables, Map.of());
    }

    ConfigFiles(Path dir, Map<String, Map<String, String>> overrides, Map<String, String> variables,
            Map<String, Map<String, String>> profile) {
        this.dir = dir;
        this.overrides = overrides;
        this.variables = variables;
        this.profile = profile;
    }

    /** Every PID's properties, as they will be applied. */
    Map<String, Map<String, String>> read() throws IOException, CommandException {
        Map<String, Map<String, String>> all = new TreeMap<>();
        profile.forEach((pid, values) -> all.put(pid, new HashMap<>(values)));
        ownerPids.clear();
        if (Files.isDirectory(dir)) {
            for (Path f : Files.newDirectoryStream(dir, "*.cfg")) {
                String name = f.getFileName().toString();
                String pid = name.substring(0, name.length() - ".cfg".length());
                if (pid.equals(io.tollgate.tools.profile.FirmwareProfiles.PROFILE_PID)) {
                    continue;   // which profile: read by the launcher, not a component's configuration
                }
                Properties p = new Properties();
                try (Reader r = Files.newBufferedReader(f, StandardCharsets.UTF_8)) {
                    p.load(r);
                }
                Map<String, String> values = new HashMap<>();
                for (String key : p.stringPropertyNames()) {
                    values.put(key, substitute(f, key, p.getProperty(key).trim()));
                }
                all.computeIfAbsent(pid, k -> new HashMap<>()).putAll(values);   // key by key over the profile's
                ownerPids.add(pid);
            }
        }
        ownerPids.addAll(overrides.keySet());
        overrides.forEach((pid, values) -> all.computeIfAbsent(pid, k -> new HashMap<>()).putAll(values));
        return all;
    }

    private String substitute(Path file, String key, String value) throws CommandException {
        Matcher m = PLACEHOLDER.matcher(value);
        StringBuilder out = new StringBuilder();
        while (m.find()) {
            String v = variables.get(m.group(1));
            if (v == null) {
                v = System.getProperty(m.group(1));
            }
            if (v == null) {
                throw new CommandException(file + ": key '" + key + "' uses ${" + m.group(1)
                        + "}, which is not defined; known: " + variables.keySet());
            }
            m.appendReplacement(out, Matcher.quoteReplacement(v));
        }
        m.appendTail(out);
        return out.toString();
    }

    /** The PIDs {@link #apply} pushed that the owner configured (a file or an override; empty before it ran). */
    private java.util.Set<String> applied = java.util.Set.of();

    java.util.Set<String> appliedPids() {
        return applied;
    }

    /** Pushes every configuration to ConfigAdmin; returns how many. */
    int apply(BundleContext ctx) throws Exception {
        Map<String, Map<String, String>> all = read();
        applied = new java.util.TreeSet<>(ownerPids);
        ServiceTracker<ConfigurationAdmin, ConfigurationAdmin> tracker = new ServiceTracker<>(ctx, ConfigurationAdmin.class, null);
        tracker.open();
        try {
            ConfigurationAdmin admin = tracker.waitForService(TimeUnit.SECONDS.toMillis(30));
            if (admin == null) {
                throw new CommandException("ConfigurationAdmin did not start within 30 s; is org.apache.felix.configadmin in system/?");
            }
            for (Map.Entry<String, Map<String, String>> e : all.entrySet()) {
                Configuration c = admin.getConfiguration(e.getKey(), "?");
                Dictionary<String, Object> props = new Hashtable<>(e.getValue());
                c.update(props);
                LOG.debug("configuration {} = {}", e.getKey(), e.getValue());
            }
        } finally {
            tracker.close();
        }
        return all.size();
    }
}
