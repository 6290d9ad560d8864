package io.tollgate.config;

import java.lang.reflect.Method;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * The keys a Declarative Services configuration type declares, and the check that a component's configuration
 * holds no other key. Keys follow the DS name mapping of the OSGi Compendium (112.8.2.2): in a method name
 * {@code $_$} is {@code -}, {@code $$} is {@code $}, a single {@code $} is dropped, {@code __} is {@code _} and a
 * single {@code _} is {@code .}, so {@code max_body_bytes()} is the key {@code max.body.bytes}.
 *
 * <p>Keys the framework and its tools add ({@code service.*}, {@code component.*}, {@code felix.fileinstall.*})
 * are always accepted. Thread-safe (stateless).
 */
public final class ConfigurationKeys {
    private static final List<String> FRAMEWORK_PREFIXES = List.of("service.", "component.", "felix.fileinstall.",
            "osgi.ds.", ".");

    private ConfigurationKeys() {
    }

    /** The property keys {@code configType}'s methods map to, sorted. */
    public static Set<String> declared(Class<?> configType) {
        Set<String> keys = new TreeSet<>();
        for (Method m : configType.getDeclaredMethods()) {
            if (m.getParameterCount() == 0 && !m.isSynthetic()) {
                keys.add(key(m.getName()));
            }
        }
        return keys;
    }

    /** The DS property key of a configuration method name. */
    public static String key(String methodName) {
        StringBuilder out = new StringBuilder(methodName.length());
        int n = methodName.length();
        for (int i = 0; i < n; i++) {
            char c = methodName.charAt(i);
            if (c == '$') {
                if (methodName.startsWith("$_$", i)) {
                    out.append('-');
                    i += 2;
                } else if (i + 1 < n && methodName.charAt(i + 1) == '$') {
                    out.append('$');
                    i++;
                }
                // a single $ is dropped
            } else if (c == '_') {
                if (i + 1 < n && methodName.charAt(i + 1) == '_') {
                    out.append('_');
                    i++;
                } else {
                    out.append('.');
                }
            } else {
                out.append(c);
            }
        }
        return out.toString();
    }

    /**
     * Refuses a configuration holding a key {@code configType} does not declare, or a value DS could not convert to
     * its key's type.
     *
     * @param pid        the configuration PID, named in the message
     * @param configType the {@code @ObjectClassDefinition} annotation type the component reads
     * @param properties the component properties DS passes to the activator (may be null: nothing to check)
     * @param extraKeys  further keys the component accepts (its own {@code @Component(property=...)} keys)
     * @throws IllegalArgumentException naming every unknown key, the declared key it most likely means, and the
     *                                  declared keys; or naming every value that is not of its key's type (text
     *                                  that is no number for a number, anything but true/false for a boolean)
     */
    public static void refuseUnknown(String pid, Class<?> configType, Map<String, ?> properties, String... extraKeys) {
        if (properties == null) {
            return;
        }
        Set<String> declared = declared(configType);
        declared.addAll(List.of(extraKeys));
        List<String> problems = new ArrayList<>();
        for (String k : new TreeSet<>(properties.keySet())) {
            if (declared.contains(k) || FRAMEWORK_PREFIXES.stream().anyMatch(k::startsWith)) {
                continue;
            }
            String guess = closest(k, declared);
            problems.add("'" + k + "'" + (guess == null ? "" : " (did you mean '" + guess + "'?)"));
        }
        if (!problems.isEmpty()) {
            throw new IllegalArgumentException("configuration " + pid + " has " + (problems.size() == 1
                    ? "an unknown key " : "unknown keys ") + String.join(", ", problems) + "; the keys are: "
                    + String.join(", ", declared));
        }
        List<String> badValues = new ArrayList<>();
        for (Method m : configType.getDeclaredMethods()) {
            if (m.getParameterCount() != 0 || m.isSynthetic()) {
                continue;
            }
            String k = key(m.getName());
            Object value = properties.get(k);
            if (value instanceof String text) {
                String expected = expected(m.getReturnType(), text);
                if (expected != null) {
                    badValues.add("'" + k + "' is '" + text + "'; expected " + expected);
                }
            }
        }
        if (!badValues.isEmpty()) {
            throw new IllegalArgumentException("configuration " + pid + ": " + String.join("; ", badValues));
        }
    }

    /**
     * What a text value of a key whose method returns {@code type} must look like, or null when {@code text} is
     * one: DS converts such text to the method's type and would fail with a bare {@code NumberFormatException}, or
     * (for a boolean) silently read anything but "true" as false.
     */
    static String expected(Class<?> type, String text) {
        try {
            if (type == int.class || type == Integer.class) {
                Integer.parseInt(text);
            } else if (type == long.class || type == Long.class) {
                Long.parseLong(text);
            } else if (type == short.class || type == Short.class) {
                Short.parseShort(text);
            } else if (type == byte.class || type == Byte.class) {
                Byte.parseByte(text);
            } else if (type == double.class || type == Double.class || type == float.class || type == Float.class) {
                Double.parseDouble(text);
            } else if (type == boolean.class || type == Boolean.class) {
                return text.equalsIgnoreCase("true") || text.equalsIgnoreCase("false") ? null : "true or false";
            }
            return null;
        } catch (NumberFormatException e) {
            return type == double.class || type == Double.class || type == float.class || type == Float.class
                    ? "a number" : "a whole number from " + range(type);
        }
    }

    private static String range(Class<?> type) {
        if (type == int.class || type == Integer.class) {
            return Integer.MIN_VALUE + " to " + Integer.MAX_VALUE;
        }
        if (type == short.class || type == Short.class) {
            return Short.MIN_VALUE + " to " + Short.MAX_VALUE;
        }
        if (type == byte.class || type == Byte.class) {
            return Byte.MIN_VALUE + " to " + Byte.MAX_VALUE;
        }
        return Long.MIN_VALUE + " to " + Long.MAX_VALUE;
    }

    /** The declared key nearest to {@code key}: same after '_' → '.', else within an edit distance of 3. */
    static String closest(String key, Set<String> declared) {
        String dotted = key.replace('_', '.').replace('-', '.');
        if (declared.contains(dotted)) {
            return dotted;
        }
        String best = null;
        int bestDistance = Integer.MAX_VALUE;
        for (String d : declared) {
            int distance = distance(dotted.toLowerCase(java.util.Locale.ROOT), d.toLowerCase(java.util.Locale.ROOT));
            if (distance < bestDistance) {
                best = d;
                bestDistance = distance;
            }
        }
        return bestDistance <= Math.max(1, Math.min(3, key.length() / 4)) ? best : null;
    }

    /** Damerau–Levenshtein (optimal string alignment) distance: a swapped pair of letters counts once. */
    static int distance(String a, String b) {
        int[][] d = new int[a.length() + 1][b.length() + 1];
        for (int i = 0; i <= a.length(); i++) {
            d[i][0] = i;
        }
        for (int j = 0; j <= b.length(); j++) {
            d[0][j] = j;
        }
        for (int i = 1; i <= a.length(); i++) {
            for (int j = 1; j <= b.length(); j++) {
                int cost = a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1;
                d[i][j] = Math.min(Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1), d[i - 1][j - 1] + cost);
                if (i > 1 && j > 1 && a.charAt(i - 1) == b.charAt(j - 2) && a.charAt(i - 2) == b.charAt(j - 1)) {
                    d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
                }
            }
        }
        return d[a.length()][b.length()];
    }
}
