package io.tollgate.runtime;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** Parsed {@code --key value} options and {@code --flag}s of one command; unknown options are an error. */
final class Arguments {
    private final Map<String, String> options = new LinkedHashMap<>();
    private final List<String> positional = new ArrayList<>();

    private Arguments() {
    }

    /**
     * @param args       the command's arguments (after the command words)
     * @param withValue  options that take a value
     * @param flags      options that take none
     * @throws UsageException naming the bad option
     */
    static Arguments parse(List<String> args, Set<String> withValue, Set<String> flags) throws UsageException {
        Arguments a = new Arguments();
        for (int i = 0; i < args.size(); i++) {
            String arg = args.get(i);
            if (arg.startsWith("--")) {
                String key = arg;
                String value = null;
                int eq = arg.indexOf('=');
                if (eq > 0) {
                    key = arg.substring(0, eq);
                    value = arg.substring(eq + 1);
                }
                if (withValue.contains(key)) {
                    if (value == null) {
                        if (i + 1 >= args.size()) {
                            throw new UsageException("option " + key + " needs a value");
                        }
                        value = args.get(++i);
                    }
                    a.options.put(key, value);
                } else if (flags.contains(key) && value == null) {
                    a.options.put(key, "true");
                } else {
                    throw new UsageException("unknown option " + key + "; accepted: " + union(withValue, flags));
                }
            } else {
                a.positional.add(arg);
            }
        }
        return a;
    }

    private static List<String> union(Set<String> a, Set<String> b) {
        List<String> all = new ArrayList<>(a);
        all.addAll(b);
        all.sort(null);
        return all;
    }

    String get(String key) {
        return options.get(key);
    }

    String get(String key, String fallback) {
        return options.getOrDefault(key, fallback);
    }

    String require(String key) throws UsageException {
        String v = options.get(key);
        if (v == null || v.isBlank()) {
            throw new UsageException("option " + key + " is required");
        }
        return v;
    }

    boolean flag(String key) {
        return options.containsKey(key);
    }

    List<String> positional() {
        return positional;
    }
}
