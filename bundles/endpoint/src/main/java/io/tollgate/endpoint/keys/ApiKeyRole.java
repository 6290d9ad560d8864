package io.tollgate.endpoint.keys;

import java.util.Locale;

/**
 * What a key may do. {@code admin} may do everything; the others are one job each (bundles/endpoint/README.md,
 * "Access"):
 * <ul>
 * <li>{@link #INFER}: inference, server and model metadata, model readiness;</li>
 * <li>{@link #METRICS}: {@code GET /metrics};</li>
 * <li>{@link #ADMIN}: {@code /admin/*}, {@code POST /v2/repository/*}, and all of the above.</li>
 * </ul>
 */
public enum ApiKeyRole {
    INFER, ADMIN, METRICS;

    /** The name in the key file and on the command line: {@code infer}, {@code admin}, {@code metrics}. */
    public String label() {
        return name().toLowerCase(Locale.ROOT);
    }

    /**
     * @throws IllegalArgumentException naming the roles there are
     */
    public static ApiKeyRole parse(String label) {
        for (ApiKeyRole r : values()) {
            if (r.label().equals(label)) {
                return r;
            }
        }
        throw new IllegalArgumentException("role '" + label + "' is not one of infer, admin, metrics");
    }
}
