package io.tollgate.endpoint.internal;

import io.tollgate.endpoint.keys.ApiKey;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The key file as the endpoint last read it, immutable: entries by id and by client certificate. {@link #NONE}
 * (no file, or a file without entries) means protected mode; {@link #unreadable} is the state when the file could
 * not be read at start and no earlier good set exists: every request but health is refused until it is fixed
 * (fail closed: a broken file must not open the box to loopback clients it was meant to require keys from).
 */
final class KeySet {
    /** No key file, or no entries in it: protected mode. */
    static final KeySet NONE = new KeySet(List.of(), null);

    private final Map<String, ApiKey> byId = new HashMap<>();
    private final Map<String, ApiKey> byCertificate = new HashMap<>();
    private final int size;
    private final int active;
    private final String problem;

    private KeySet(List<ApiKey> keys, String problem) {
        for (ApiKey k : keys) {
            byId.put(k.id(), k);
            if (k.certSha256() != null) {
                byCertificate.put(k.certSha256(), k);
            }
        }
        this.size = keys.size();
        this.active = (int) keys.stream().filter(ApiKey::active).count();
        this.problem = problem;
    }

    static KeySet of(List<ApiKey> keys) {
        return keys.isEmpty() ? NONE : new KeySet(keys, null);
    }

    /** No usable key set: the file could not be read and there is no earlier good one. */
    static KeySet unreadable(String problem) {
        return new KeySet(List.of(), problem);
    }

    /**
     * No entry at all (revoked ones count: revoking every key must not open the box again): only loopback clients
     * are served, without a key.
     */
    boolean protectedMode() {
        return size == 0 && problem == null;
    }

    /** Why there is no usable key set, or null. */
    String problem() {
        return problem;
    }

    ApiKey byId(String id) {
        return byId.get(id);
    }

    /** The entry bound to a client certificate's SHA-256 (lowercase hex), or null. */
    ApiKey byCertificate(String sha256) {
        return byCertificate.get(sha256);
    }

    /** "3 entries (2 active)", for logs. */
    String describe() {
        return size + (size == 1 ? " entry" : " entries") + " (" + active + " active)";
    }
}
