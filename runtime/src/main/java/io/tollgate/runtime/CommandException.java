package io.tollgate.runtime;

import io.tollgate.tools.ExitCodes;
import io.tollgate.tools.ToolException;

/** The appliance could not start; the message says what went wrong and what to do. Exit code 1. */
final class CommandException extends ToolException {
    private static final long serialVersionUID = 1L;

    CommandException(String message) {
        super(ExitCodes.FAILED, message);
    }

    CommandException(String message, Throwable cause) {
        super(ExitCodes.FAILED, message, cause);
    }
}
