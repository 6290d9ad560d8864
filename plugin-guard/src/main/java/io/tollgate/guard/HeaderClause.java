package io.tollgate.guard;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * One clause of an OSGi manifest header ({@code path;path;attr=value;directive:=value}), as far as the rule
 * needs it: its paths (namespaces, packages, file paths) and their shared parameters, quotes removed. Parses the
 * common header syntax of OSGi Core R8 section 3.2.4 without validating it further (the framework refuses
 * a malformed header at install; offline, a clause it cannot read counts against the plugin).
 *
 * <p>A clause may name several paths that share its parameters ({@code tollgate.model;osgi.service;filter:=...}):
 * each is judged, or a second namespace would slip past a rule that looked at the first (docs/decisions.md,
 * 2026-11-30 "Plugin rule: every path of a clause").
 *
 * @param paths      the clause's paths or namespaces, in order (at least one)
 * @param parameters attributes and directives by name ({@code filter} for {@code filter:=}; a typed
 *                   attribute {@code version:Version} under {@code version})
 */
record HeaderClause(List<String> paths, Map<String, String> parameters) {
    HeaderClause {
        paths = List.copyOf(paths);
    }

    /**
     * The clauses of {@code header}.
     *
     * @throws IllegalArgumentException when a quote is not closed
     */
    static List<HeaderClause> parse(String header) {
        List<HeaderClause> clauses = new ArrayList<>();
        for (String clause : split(header, ',')) {
            if (clause.isBlank()) {
                continue;
            }
            List<String> parts = split(clause, ';');
            List<String> paths = new ArrayList<>(List.of(parts.get(0).trim()));
            Map<String, String> parameters = new LinkedHashMap<>();
            for (String part : parts.subList(1, parts.size())) {
                int eq = part.indexOf('=');
                if (eq < 0) {
                    if (!parameters.isEmpty()) {
                        throw new IllegalArgumentException("path '" + part.trim() + "' after a parameter");
                    }
                    paths.add(part.trim());
                    continue;
                }
                String key = part.substring(0, eq).trim();
                if (key.endsWith(":")) {
                    key = key.substring(0, key.length() - 1);
                } else if (key.contains(":")) {
                    key = key.substring(0, key.indexOf(':'));
                }
                parameters.put(key.trim(), unquote(part.substring(eq + 1).trim()));
            }
            clauses.add(new HeaderClause(paths, parameters));
        }
        return clauses;
    }

    private static List<String> split(String text, char separator) {
        List<String> out = new ArrayList<>();
        StringBuilder current = new StringBuilder();
        boolean quoted = false;
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (c == '"') {
                quoted = !quoted;
            } else if (c == '\\' && quoted && i + 1 < text.length()) {
                current.append(c).append(text.charAt(++i));
                continue;
            }
            if (c == separator && !quoted) {
                out.add(current.toString());
                current.setLength(0);
            } else {
                current.append(c);
            }
        }
        if (quoted) {
            throw new IllegalArgumentException("a quoted value is not closed");
        }
        out.add(current.toString());
        return out;
    }

    private static String unquote(String value) {
        if (value.length() >= 2 && value.startsWith("\"") && value.endsWith("\"")) {
            return value.substring(1, value.length() - 1).replace("\\\"", "\"").replace("\\\\", "\\");
        }
        return value;
    }
}
