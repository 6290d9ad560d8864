package io.tollgate.cloud.auth;

import java.util.Locale;

/** What a billing API token may do (docs/billing.md, "API tokens"). */
public enum ApiRole {
    /** Everything: every read, device registration (new and existing ids), price changes. */
    ADMIN,
    /** GET only; with a tenant, only that tenant's invoices, usage and exports. */
    READER,
    /** Only {@code POST /v1/devices} of device ids not yet registered, within its tenant when it has one. */
    ENROLL;

    /** {@code admin}, {@code reader} or {@code enroll}. */
    public String label() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** The role named {@code label} (any case). */
    public static ApiRole parse(String label) {
        for (ApiRole r : values()) {
            if (r.label().equalsIgnoreCase(label)) {
                return r;
            }
        }
        throw new IllegalArgumentException("role " + label + " is not one of admin, reader, enroll");
    }
}
