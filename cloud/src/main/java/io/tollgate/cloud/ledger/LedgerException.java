package io.tollgate.cloud.ledger;

/** The ledger database could not do what was asked; the message says what and what to do. */
public final class LedgerException extends Exception {
    private static final long serialVersionUID = 1L;

    public enum Reason { UNAVAILABLE, SCHEMA, NOT_FOUND, CONFLICT, BAD_INPUT }

    private final Reason reason;

    public LedgerException(Reason reason, String message, Throwable cause) {
        super(message, cause);
        this.reason = reason;
    }

    public LedgerException(Reason reason, String message) {
        this(reason, message, null);
    }

    public Reason reason() {
        return reason;
    }
}
