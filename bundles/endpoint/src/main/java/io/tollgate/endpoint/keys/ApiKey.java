package io.tollgate.endpoint.keys;

import java.time.Instant;
import java.util.List;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * One entry of the key file: who a caller is (tenant), what it may do (role, models) and how it proves it — the
 * SHA-256 of an API key ({@code Authorization: Bearer <key>}) or of a TLS client certificate. Revoked entries stay
 * in the file (and in {@code keys list}) with the time of revocation; they authenticate nobody.
 *
 * @param id           12 lowercase hex digits; the middle part of the key, safe to log and show
 * @param tenant       who is billed for what the key runs: the usage record's tenant ({@link #TENANT} says what a
 *                     tenant may be)
 * @param role         what the key may do
 * @param models       the models the key may use; empty = every model. Only for {@link ApiKeyRole#INFER}
 * @param name         a label for people ("line 7 camera"); may be empty
 * @param created      when the entry was made
 * @param revoked      when it was revoked, or null while it is active
 * @param keySha256    SHA-256 of the key (lowercase hex), or null for a certificate entry
 * @param certSha256   SHA-256 of the client certificate's DER (lowercase hex), or null for a key entry
 * @throws IllegalArgumentException saying which field is wrong and what it may be
 */
public record ApiKey(String id, String tenant, ApiKeyRole role, List<String> models, String name, Instant created,
                     Instant revoked, String keySha256, String certSha256) {
    /**
     * What a tenant may be: 1 to 64 characters of {@code A-Z a-z 0-9 . _ -}, starting with a letter or a digit —
     * nothing that needs quoting in a log line, JSON, CSV or a shell, and nothing a spreadsheet reads as a formula.
     */
    public static final Pattern TENANT = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,63}");
    /** Longest {@link #name}, in characters. */
    public static final int MAX_NAME_LENGTH = 64;

    public ApiKey {
        if (id == null || !ApiKeyHash.ID.matcher(id).matches()) {
            throw new IllegalArgumentException("id '" + id + "' is not 12 lowercase hex digits");
        }
        if (tenant == null || !TENANT.matcher(tenant).matches()) {
            throw new IllegalArgumentException("tenant '" + tenant + "' is not 1 to 64 characters of A-Z a-z 0-9 . _ -"
                    + " starting with a letter or a digit");
        }
        Objects.requireNonNull(role, "role");
        models = List.copyOf(models);
        for (String m : models) {
            java.util.Optional<String> bad = io.tollgate.model.ModelNames.problem(m);
            if (bad.isPresent()) {
                throw new IllegalArgumentException("model '" + m + "' is not a model name: it " + bad.get()
                        + "; a model name is " + io.tollgate.model.ModelNames.RULE);
            }
        }
        if (!models.isEmpty() && role != ApiKeyRole.INFER) {
            throw new IllegalArgumentException("only an infer key can be limited to models; a " + role.label()
                    + " key may use every model");
        }
        name = name == null ? "" : name;
        if (name.length() > MAX_NAME_LENGTH || name.chars().anyMatch(Character::isISOControl)) {
            throw new IllegalArgumentException("name must be at most " + MAX_NAME_LENGTH
                    + " characters without control characters");
        }
        Objects.requireNonNull(created, "created");
        if ((keySha256 == null) == (certSha256 == null)) {
            throw new IllegalArgumentException("an entry has either key_sha256 or cert_sha256, exactly one of them");
        }
        if (keySha256 != null && !ApiKeyHash.isSha256Hex(keySha256)) {
            throw new IllegalArgumentException("key_sha256 is not 64 lowercase hex digits");
        }
        if (certSha256 != null && !ApiKeyHash.isSha256Hex(certSha256)) {
            throw new IllegalArgumentException("cert_sha256 is not 64 lowercase hex digits");
        }
    }

    /** Not revoked. */
    public boolean active() {
        return revoked == null;
    }

    /** Whether the key may use {@code model} (it is not limited, or limited to a set that holds it). */
    public boolean allowsModel(String model) {
        return models.isEmpty() || models.contains(model);
    }

    /** Whether this entry is a client certificate rather than a bearer key. */
    public boolean certificate() {
        return certSha256 != null;
    }

    /** This entry, revoked at {@code when}. */
    ApiKey revokedAt(Instant when) {
        return new ApiKey(id, tenant, role, models, name, created, when, keySha256, certSha256);
    }
}
