package io.tollgate.endpoint.internal;

/**
 * Client text made safe for one log line. Everything a client chooses (the percent-decoded path, a model name or
 * version, a header, an error message quoting the body) passes through {@link #of} where it is logged, so that it
 * can neither start a forged log line (CR, LF, U+2028, U+2029), hide itself (other control and format characters,
 * such as the bidirectional overrides) nor flood the log (length cap). Error bodies need none of this: they are
 * JSON-escaped by the generator.
 */
final class LogText {
    /** Longest rendering of one value, in characters before escaping. */
    static final int MAX_CHARS = 512;

    private LogText() {
    }

    /**
     * {@code text} with each backslash doubled and each character that is not printable (ISO controls, format
     * characters, line and paragraph separators, unpaired surrogates, unassigned and private-use code points)
     * written as {@code \\uXXXX}; cut after {@link #MAX_CHARS} characters with "...(N chars)". Null gives "null".
     */
    static String of(Object text) {
        String s = String.valueOf(text);
        int end = Math.min(s.length(), MAX_CHARS);
        if (end < s.length() && Character.isHighSurrogate(s.charAt(end - 1))) {
            end--; // do not split a pair
        }
        StringBuilder out = null;
        for (int i = 0; i < end; i++) {
            char c = s.charAt(i);
            boolean safe;
            if (c == '\\') {
                safe = false;
            } else if (Character.isHighSurrogate(c) && i + 1 < end && Character.isLowSurrogate(s.charAt(i + 1))) {
                int cp = Character.toCodePoint(c, s.charAt(i + 1));
                if (printable(cp)) {
                    if (out != null) {
                        out.append(c).append(s.charAt(i + 1));
                    }
                    i++;
                    continue;
                }
                safe = false;
            } else {
                safe = printable(c);
            }
            if (safe) {
                if (out != null) {
                    out.append(c);
                }
                continue;
            }
            if (out == null) {
                out = new StringBuilder(end + 16).append(s, 0, i);
            }
            if (c == '\\') {
                out.append("\\\\");
            } else {
                out.append(String.format("\\u%04x", (int) c));
            }
        }
        if (end == s.length()) {
            return out == null ? s : out.toString();
        }
        return (out == null ? s.substring(0, end) : out.toString()) + "...(" + s.length() + " chars)";
    }

    private static boolean printable(int cp) {
        switch (Character.getType(cp)) {
            case Character.CONTROL:
            case Character.FORMAT:
            case Character.LINE_SEPARATOR:
            case Character.PARAGRAPH_SEPARATOR:
            case Character.SURROGATE:
            case Character.PRIVATE_USE:
            case Character.UNASSIGNED:
                return false;
            default:
                return true;
        }
    }
}
