package io.tollgate.cloud.auth;

import java.time.Instant;

/**
 * One billing API token as stored: never the token itself, only its SHA-256.
 *
 * @param id      short random id, what {@code token list} shows and {@code token revoke} takes
 * @param name    what the operator called it (may be empty)
 * @param role    what it may do
 * @param tenant  the one tenant it is limited to, or null for all tenants
 * @param created when it was made
 * @param sha256  lower-case hex SHA-256 of the token's UTF-8 bytes
 */
public record ApiToken(String id, String name, ApiRole role, String tenant, Instant created, String sha256) {

    /** Whether this token may see or act for {@code t}: always without a tenant limit. */
    public boolean allowsTenant(String t) {
        return tenant == null || tenant.equals(t);
    }

    /** {@code admin}, {@code reader tenant acme}, ... for messages and logs (never the secret). */
    public String describe() {
        return "token " + id + (name.isEmpty() ? "" : " (" + name + ")") + " role " + role.label()
                + (tenant == null ? "" : " tenant " + tenant);
    }
}
