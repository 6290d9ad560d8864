package io.tollgate.licensing;

import java.util.Objects;

/**
 * A license file, revocation list or plugin signature that is refused, with the {@link Refusal} that says why. The
 * message is a full sentence for logs, {@code /admin/plugins} and error bodies, starting with
 * {@code refusal.words()}, e.g. "invalid license: the signature does not verify with vendor key 3f2a...".
 *
 * @since 1.0
 */
public final class LicenseException extends Exception {
    private static final long serialVersionUID = 1L;

    private final Refusal refusal;

    public LicenseException(Refusal refusal, String message) {
        super(message);
        this.refusal = Objects.requireNonNull(refusal, "refusal");
    }

    /** Why: {@link Refusal#INVALID_LICENSE}, {@link Refusal#UNKNOWN_VENDOR}, {@link Refusal#UNSIGNED} or {@link Refusal#TAMPERED}. */
    public Refusal refusal() {
        return refusal;
    }
}
