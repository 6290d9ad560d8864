package io.tollgate.runtime;

/** A command could not do its work; the message says what went wrong and what to do. Exit code 1. */
final class CommandException extends Exception {
    private static final long serialVersionUID = 1L;

    CommandException(String message) {
        super(message);
    }

    CommandException(String message, Throwable cause) {
        super(message, cause);
    }
}
