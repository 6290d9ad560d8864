package io.tollgate.licensing;

/**
 * Why a plugin may not be installed or a request may not be served under a license. The {@link #words} are what
 * {@code /admin/plugins}, {@code /admin/licenses}, the log and error bodies start the reason with.
 *
 * @since 1.0
 */
public enum Refusal {
    /** The plugin jar carries no signature (no signed entries). */
    UNSIGNED("unsigned"),
    /** An entry was changed, added or removed after signing, or the signature does not verify. */
    TAMPERED("tampered entry"),
    /** The plugin (or license) is signed by a key that is not a trusted vendor of this box. */
    UNKNOWN_VENDOR("unknown vendor"),
    /** No license on this box names the plugin (from the plugin's vendor). */
    NO_LICENSE("no license"),
    /** The license is bound to another device id or device key. */
    WRONG_DEVICE("wrong device"),
    /** The license's not-before time is still ahead. */
    NOT_YET_VALID("not yet valid"),
    /** The license's expiry has passed. */
    EXPIRED("expired"),
    /** The license names the plugin but not this plugin version. */
    VERSION_NOT_COVERED("version not covered"),
    /** The vendor revoked the license. */
    REVOKED("revoked"),
    /** The license file is malformed or its signature does not verify. */
    INVALID_LICENSE("invalid license"),
    /** The plugin carries code and its license does not allow code. */
    CODE_NOT_ALLOWED("code not allowed"),
    /** The license's prepaid quota is used up (HTTP 402). */
    QUOTA_EXHAUSTED("quota exhausted"),
    /** The box served longer than the license's offline grace without a verified cloud ack. */
    GRACE_EXPIRED("offline grace expired"),
    /** The wall clock is earlier than the last journal time or the last signed cloud time. */
    CLOCK_ROLLBACK("clock rolled back"),
    /**
     * The plugin's model is encrypted and the license that entitles it carries no key for it, or this device has no
     * wrap key to open it with.
     *
     * @since 1.1
     */
    NO_MODEL_KEY("no model key"),
    /**
     * The plugin's model is encrypted in a scheme or file format this appliance does not read.
     *
     * @since 1.1
     */
    UNSUPPORTED_ENCRYPTION("unsupported encryption"),
    /**
     * A plugin of this name and version signed by another vendor key is already installed: a name and version stays
     * with its first signer while the appliance runs, so a re-signed copy cannot take over (or be billed against) the
     * installed plugin's purchase.
     *
     * @since 1.1
     */
    OTHER_SIGNER("signed by another vendor");

    private final String words;

    Refusal(String words) {
        this.words = words;
    }

    /** Lower-case words for messages, e.g. {@code "version not covered"}. */
    public String words() {
        return words;
    }
}
