package io.tollgate.licensing;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * OSGi versions ({@code major[.minor[.micro[.qualifier]]]}) and version ranges ({@code [1.0.0,2.0.0)}, or a bare
 * version meaning "at least"), as the OSGi core specification (3.2.5, 3.2.6) defines them, without OSGi classes.
 */
final class Versions {
    private static final Pattern VERSION = Pattern.compile("(\\d+)(?:\\.(\\d+)(?:\\.(\\d+)(?:\\.([A-Za-z0-9_-]+))?)?)?");
    private static final Pattern RANGE = Pattern.compile("([\\[(])\\s*([^,\\s]+)\\s*,\\s*([^,\\s\\])]+)\\s*([\\])])");

    private Versions() {
    }

    /** A parsed version: numbers and qualifier. */
    record Version(long major, long minor, long micro, String qualifier) implements Comparable<Version> {
        @Override
        public int compareTo(Version o) {
            int c = Long.compare(major, o.major);
            if (c == 0) {
                c = Long.compare(minor, o.minor);
            }
            if (c == 0) {
                c = Long.compare(micro, o.micro);
            }
            return c != 0 ? c : qualifier.compareTo(o.qualifier);
        }
    }

    /** A parsed range; {@code high} null = unbounded. */
    record Range(Version low, boolean lowInclusive, Version high, boolean highInclusive) {
        boolean includes(Version v) {
            int lo = v.compareTo(low);
            if (lo < 0 || (lo == 0 && !lowInclusive)) {
                return false;
            }
            if (high == null) {
                return true;
            }
            int hi = v.compareTo(high);
            return hi < 0 || (hi == 0 && highInclusive);
        }
    }

    /** @throws IllegalArgumentException not an OSGi version */
    static Version version(String text) {
        Matcher m = VERSION.matcher(text.trim());
        if (!m.matches()) {
            throw new IllegalArgumentException("not an OSGi version: \"" + text + "\"");
        }
        try {
            return new Version(Long.parseLong(m.group(1)), m.group(2) == null ? 0 : Long.parseLong(m.group(2)),
                    m.group(3) == null ? 0 : Long.parseLong(m.group(3)), m.group(4) == null ? "" : m.group(4));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("not an OSGi version: \"" + text + "\"", e);
        }
    }

    /** @throws IllegalArgumentException not an OSGi version range */
    static Range range(String text) {
        String t = text.trim();
        if (t.isEmpty()) {
            throw new IllegalArgumentException("empty version range");
        }
        char first = t.charAt(0);
        if (first != '[' && first != '(') {
            return new Range(version(t), true, null, false);
        }
        Matcher m = RANGE.matcher(t);
        if (!m.matches()) {
            throw new IllegalArgumentException("not an OSGi version range: \"" + text + "\"");
        }
        Version low = version(m.group(2));
        Version high = version(m.group(3));
        if (high.compareTo(low) < 0) {
            throw new IllegalArgumentException("empty version range (upper end below lower end): \"" + text + "\"");
        }
        return new Range(low, m.group(1).equals("["), high, m.group(4).equals("]"));
    }

    /** Whether version is in range; false when either does not parse. */
    static boolean covers(String range, String version) {
        try {
            return range(range).includes(version(version));
        } catch (IllegalArgumentException e) {
            return false;
        }
    }
}
