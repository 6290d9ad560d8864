package io.tollgate.model;

import java.util.Optional;

/**
 * What a model name may be, in one place for the plugin packer, the appliance's descriptor check and API keys.
 *
 * <p>Triton takes a model's name from its directory in the model repository, so any directory name works there:
 * upper case ({@code ResNet50}), spaces, punctuation, any script. Tollgate accepts the same, with the few
 * exceptions a directory name cannot have or that would break a format the name lands in:
 * <ul>
 *   <li>1 to {@value #MAX_LENGTH} characters (UTF-16 units), not {@code .} or {@code ..};</li>
 *   <li>no {@code /} (a path separator in the repository and in {@code /v2/models/{name}}), no {@code \} and no
 *       {@code "} (both would need escaping inside the plugin's quoted {@code Provide-Capability} attribute);</li>
 *   <li>only printable characters: no control or format characters (bidirectional overrides), no line or paragraph
 *       separators, no unpaired surrogates, private-use or unassigned code points (a name is written to log lines,
 *       usage records and invoices);</li>
 *   <li>no space at either end (invisible in a listing, and a shell trims it).</li>
 * </ul>
 * Names are case-sensitive: {@code ResNet50} and {@code resnet50} are two models. In a URL the name is
 * percent-encoded as a path segment ({@code /v2/models/ResNet%2050/infer}).
 */
public final class ModelNames {
    /** Longest name, in UTF-16 units. */
    public static final int MAX_LENGTH = 128;

    /** The rule in one sentence, for error messages. */
    public static final String RULE = "1 to " + MAX_LENGTH + " printable characters (any letters, digits, spaces and"
            + " punctuation, as a Triton model directory name), without '/', '\\' or '\"', not '.' or '..', and no"
            + " space at either end";

    private ModelNames() {
    }

    /** True when {@code name} follows the rule. */
    public static boolean valid(String name) {
        return problem(name).isEmpty();
    }

    /** Why {@code name} breaks the rule (a short phrase such as "contains '/'"), or empty when it does not. */
    public static Optional<String> problem(String name) {
        if (name == null || name.isEmpty()) {
            return Optional.of("is empty");
        }
        if (name.length() > MAX_LENGTH) {
            return Optional.of("has " + name.length() + " characters, more than " + MAX_LENGTH);
        }
        if (name.equals(".") || name.equals("..")) {
            return Optional.of("is '" + name + "', which names a directory itself");
        }
        if (Character.isWhitespace(name.codePointAt(0)) || Character.isSpaceChar(name.codePointAt(0))
                || Character.isWhitespace(name.codePointBefore(name.length()))
                || Character.isSpaceChar(name.codePointBefore(name.length()))) {
            return Optional.of("starts or ends with a space");
        }
        for (int i = 0; i < name.length(); ) {
            int cp = name.codePointAt(i);
            if (cp == '/' || cp == '\\' || cp == '"') {
                return Optional.of("contains '" + (char) cp + "'");
            }
            if (!printable(cp)) {
                return Optional.of(String.format("contains the unprintable character U+%04X", cp));
            }
            i += Character.charCount(cp);
        }
        return Optional.empty();
    }

    private static boolean printable(int cp) {
        if (Character.isISOControl(cp)) {
            return false;
        }
        switch (Character.getType(cp)) {
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
