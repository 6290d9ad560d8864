package io.tollgate.runtime;

/** The command line was wrong; the message says how. Exit code 2. */
final class UsageException extends Exception {
    private static final long serialVersionUID = 1L;

    UsageException(String message) {
        super(message);
    }
}
