package io.tollgate.tools.profile;

import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.TreeMap;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/**
 * One firmware profile: the settings of one device class and firmware line ({@code profiles/NAME.profile} of the
 * distribution, Java properties syntax; docs/hardware.md, "Profiles"). Its keys:
 * <ul>
 * <li>{@code description}: one line for {@code profile list};
 * <li>{@code match.arch}, {@code match.device.tree.model} (a regular expression found in the device-tree model,
 *     case-insensitive), {@code match.l4t.release} (e.g. {@code R36}), {@code match.nvidia.gpu} ({@code true|false}),
 *     {@code match.memory.min.mb}: what a box must say about itself ({@link DeviceFacts}) for detection to choose it;
 * <li>{@code jvm.options}: heap and GC options, read by {@code bin/tollgate} before the JVM starts ({@code -Xms},
 *     {@code -Xmx}, {@code -Xss}, {@code -XX:...} only);
 * <li>{@code PID/KEY}: a configuration value for ConfigAdmin, e.g. {@code io.tollgate.serving/worker.threads=4}, a
 *     default under the owner's own {@code conf/PID.cfg}.
 * </ul>
 *
 * @param configuration PID → key → value, sorted
 */
public record FirmwareProfile(String name, String description, Map<String, String> match, List<String> jvmOptions,
        Map<String, Map<String, String>> configuration, Path file) {

    /** The file suffix of a profile. */
    public static final String SUFFIX = ".profile";
    /** The accelerators' PID (issue 12's shared contract), whose keys and values a profile is checked against. */
    public static final String ACCELERATORS_PID = "io.tollgate.accelerators";
    static final Set<String> MATCH_KEYS = Set.of("arch", "device.tree.model", "l4t.release", "nvidia.gpu",
            "memory.min.mb");
    private static final Pattern NAME = Pattern.compile("[a-z0-9][a-z0-9.-]*");
    private static final Pattern PID = Pattern.compile("io\\.tollgate(\\.[a-z][a-z0-9]*)+");
    private static final Pattern KEY = Pattern.compile("[a-z][a-z0-9]*(\\.[a-z0-9]+)*");
    /**
     * The PIDs a profile may set: those the distribution's components read (conf/ of the distribution, plus the
     * TensorRT engine's and the metering device's, which have no file there). Another is a typing mistake whose value
     * would silently do nothing.
     */
    static final Set<String> KNOWN_PIDS = Set.of(ACCELERATORS_PID, "io.tollgate.endpoint", "io.tollgate.engine.onnx",
            "io.tollgate.engine.tensorrt", "io.tollgate.metering.device", "io.tollgate.metering.journal",
            "io.tollgate.serving", "io.tollgate.sync");
    /** PID/KEY values that are counts or sizes: whole numbers, 0 or more, checked when the profile is read. */
    static final Set<String> NUMERIC_KEYS = Set.of("io.tollgate.serving/worker.threads",
            "io.tollgate.serving/max.queue.per.model", "io.tollgate.endpoint/io.threads",
            "io.tollgate.endpoint/max.body.bytes", "io.tollgate.engine.onnx/inter.op.threads",
            "io.tollgate.engine.onnx/intra.op.threads", "io.tollgate.metering.journal/disk.budget.bytes");
    private static final Pattern JVM_OPTION = Pattern.compile("-Xm[sx]\\d+[kKmMgG]?|-Xss\\d+[kKmMgG]?"
            + "|-XX:[+-]?[A-Za-z][A-Za-z0-9]*(=[A-Za-z0-9.:,/_-]+)?");

    public FirmwareProfile {
        match = Map.copyOf(match);
        jvmOptions = List.copyOf(jvmOptions);
        Map<String, Map<String, String>> copy = new TreeMap<>();
        configuration.forEach((pid, values) -> copy.put(pid, java.util.Collections.unmodifiableMap(new TreeMap<>(values))));
        configuration = java.util.Collections.unmodifiableMap(copy);
    }

    /** The TensorRT engine's PID, whose {@code profile} key names the firmware profile prebuilt engines are for. */
    public static final String TENSORRT_PID = "io.tollgate.engine.tensorrt";

    /**
     * The values this profile layers under the owner's {@code conf/}: {@link #configuration()} plus
     * {@code io.tollgate.engine.tensorrt/profile=<name>} (which of a plugin's prebuilt TensorRT engines are for this
     * box), unless the profile sets that key itself. An owner's {@code conf/io.tollgate.engine.tensorrt.cfg} with
     * {@code profile} wins over it, as over every profile value.
     *
     * @return PID → key → value, sorted, unmodifiable
     */
    public Map<String, Map<String, String>> layer() {
        Map<String, Map<String, String>> out = new TreeMap<>();
        configuration.forEach((pid, values) -> out.put(pid, new TreeMap<>(values)));
        out.computeIfAbsent(TENSORRT_PID, k -> new TreeMap<>()).putIfAbsent("profile", name);
        out.replaceAll((pid, values) -> java.util.Collections.unmodifiableMap(values));
        return java.util.Collections.unmodifiableMap(out);
    }

    /**
     * Reads and checks {@code file}.
     *
     * @throws ProfileException ({@link ProfileException.Reason#MALFORMED}) naming the file, the key and what is wrong
     */
    public static FirmwareProfile read(Path file) throws ProfileException {
        String fileName = file.getFileName().toString();
        String name = fileName.endsWith(SUFFIX) ? fileName.substring(0, fileName.length() - SUFFIX.length()) : fileName;
        if (!NAME.matcher(name).matches()) {
            throw malformed(file, "the name '" + name + "' (the file name without " + SUFFIX + ") must be lower-case "
                    + "letters, digits, '.' and '-'");
        }
        Properties p = new Properties();
        try (Reader r = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            p.load(r);
        } catch (IOException | IllegalArgumentException e) {
            throw malformed(file, "not a properties file: " + e.getMessage());
        }
        String description = p.getProperty("description", "").trim();
        if (description.isEmpty()) {
            throw malformed(file, "no 'description' (one line saying which boxes it is for)");
        }
        Map<String, String> match = new LinkedHashMap<>();
        List<String> jvm = new ArrayList<>();
        Map<String, Map<String, String>> config = new TreeMap<>();
        for (String key : new java.util.TreeSet<>(p.stringPropertyNames())) {
            String value = p.getProperty(key).trim();
            if (key.equals("description")) {
                continue;
            } else if (key.startsWith("match.")) {
                String m = key.substring("match.".length());
                if (!MATCH_KEYS.contains(m)) {
                    throw malformed(file, "unknown key '" + key + "'; a profile matches on match."
                            + String.join(", match.", new java.util.TreeSet<>(MATCH_KEYS)));
                }
                checkMatch(file, key, m, value);
                match.put(m, value);
            } else if (key.equals("jvm.options")) {
                for (String option : value.isEmpty() ? new String[0] : value.split("\\s+")) {
                    if (!JVM_OPTION.matcher(option).matches()) {
                        throw malformed(file, "jvm.options: '" + option + "' is not a heap or GC option (-Xms, -Xmx, "
                                + "-Xss, -XX:...); other JVM options go into TOLLGATE_JAVA_OPTS");
                    }
                    jvm.add(option);
                }
            } else if (key.contains("/")) {
                String pid = key.substring(0, key.indexOf('/'));
                String k = key.substring(key.indexOf('/') + 1);
                if (!PID.matcher(pid).matches() || !KEY.matcher(k).matches()) {
                    throw malformed(file, "'" + key + "' is not PID/KEY with a Tollgate PID (io.tollgate....) and a "
                            + "configuration key (e.g. io.tollgate.serving/worker.threads)");
                }
                if (!KNOWN_PIDS.contains(pid)) {
                    throw malformed(file, "'" + key + "': unknown PID '" + pid + "'; a profile sets values of "
                            + String.join(", ", new java.util.TreeSet<>(KNOWN_PIDS)));
                }
                if (pid.equals(ACCELERATORS_PID)) {
                    checkAccelerators(file, k, value);
                } else if (NUMERIC_KEYS.contains(key)) {
                    nonNegative(file, key, value);
                }
                config.computeIfAbsent(pid, x -> new TreeMap<>()).put(k, value);
            } else {
                throw malformed(file, "unknown key '" + key + "'; a profile holds description, match.*, jvm.options "
                        + "and PID/KEY configuration values (e.g. io.tollgate.serving/worker.threads)");
            }
        }
        return new FirmwareProfile(name, description, match, jvm, config, file);
    }

    private static void checkMatch(Path file, String key, String m, String value) throws ProfileException {
        switch (m) {
            case "nvidia.gpu":
                if (!value.equals("true") && !value.equals("false")) {
                    throw malformed(file, key + " must be true or false, not '" + value + "'");
                }
                break;
            case "memory.min.mb":
                nonNegative(file, key, value);
                break;
            case "device.tree.model":
                try {
                    Pattern.compile(value);
                } catch (PatternSyntaxException e) {
                    throw malformed(file, key + " is not a regular expression: " + e.getDescription());
                }
                break;
            default:
                if (value.isEmpty()) {
                    throw malformed(file, key + " is empty");
                }
        }
    }

    /** The contract's keys and values of {@code io.tollgate.accelerators} (docs/hardware.md). */
    private static void checkAccelerators(Path file, String key, String value) throws ProfileException {
        String at = ACCELERATORS_PID + "/" + key;
        switch (key) {
            case "placement.order":
                list(file, at, value, Set.of("dla", "gpu", "cpu"));
                break;
            case "engine.order":
                list(file, at, value, Set.of("tensorrt", "onnx"));
                break;
            case "precision":
                if (!Set.of("fp32", "fp16", "int8").contains(value)) {
                    throw malformed(file, at + " must be fp32, fp16 or int8, not '" + value + "'");
                }
                break;
            case "memory.budget.cpu.mb": case "memory.budget.gpu.mb": case "max.resident.models":
            case "min.residency.ms":
                nonNegative(file, at, value);
                break;
            default:
                throw malformed(file, "unknown key '" + at + "'; the accelerators read placement.order, engine.order, "
                        + "precision, memory.budget.cpu.mb, memory.budget.gpu.mb, max.resident.models, min.residency.ms");
        }
    }

    private static void list(Path file, String at, String value, Set<String> allowed) throws ProfileException {
        List<String> items = Arrays.stream(value.split(",")).map(String::trim).toList();
        if (value.isBlank() || !allowed.containsAll(items) || items.size() != Set.copyOf(items).size()) {
            throw malformed(file, at + " must be a comma list of distinct " + new java.util.TreeSet<>(allowed)
                    + ", not '" + value + "'");
        }
    }

    private static void nonNegative(Path file, String at, String value) throws ProfileException {
        try {
            if (Long.parseLong(value) >= 0) {
                return;
            }
        } catch (NumberFormatException e) {
            // below
        }
        throw malformed(file, at + " must be a whole number, 0 or more, not '" + value + "'");
    }

    private static ProfileException malformed(Path file, String what) {
        return new ProfileException(ProfileException.Reason.MALFORMED, "firmware profile " + file + " is malformed: "
                + what);
    }
}
