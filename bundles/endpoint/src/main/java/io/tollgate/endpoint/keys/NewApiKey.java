package io.tollgate.endpoint.keys;

/**
 * A key just added to the key file, with the key itself: the only moment it exists outside the client that will
 * hold it (the file keeps its hash).
 *
 * @param entry the entry written to the key file
 * @param key   {@code tgk_<id>_<secret>}, to show once and never store or log
 */
public record NewApiKey(ApiKey entry, String key) {
    @Override
    public String toString() {
        return "NewApiKey[entry=" + entry + ", key=(not shown)]";
    }
}
