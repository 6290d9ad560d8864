package io.tollgate.tools.profile;

/** No firmware profile can be applied; the message says which and what to do. */
public final class ProfileException extends Exception {
    private static final long serialVersionUID = 1L;

    /** Why. */
    public enum Reason {
        /** A profile file that is not a valid profile (syntax, an unknown key, a bad value). */
        MALFORMED,
        /** An override names a profile that is not in the profiles folder, or the folder is missing. */
        UNKNOWN,
        /** Detection found no profile matching the box, or two equally specific ones. */
        NO_MATCH
    }

    private final Reason reason;

    public ProfileException(Reason reason, String message) {
        super(message);
        this.reason = reason;
    }

    public Reason reason() {
        return reason;
    }
}
