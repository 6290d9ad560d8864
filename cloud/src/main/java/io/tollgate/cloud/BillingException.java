package io.tollgate.cloud;

/** The billing endpoint could not start; the message says what to fix. */
public final class BillingException extends Exception {
    private static final long serialVersionUID = 1L;

    public BillingException(String message, Throwable cause) {
        super(message, cause);
    }
}
