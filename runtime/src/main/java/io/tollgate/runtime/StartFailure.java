package io.tollgate.runtime;

import io.tollgate.tools.ToolException;

/**
 * {@code run} could not start the appliance, with an exit code a service manager (or a person) can tell apart from a
 * failure of the running appliance (1) and a bad command line (2, 3). docs/operations.md, "Start-up failures and exit
 * codes", lists them.
 */
final class StartFailure extends ToolException {
    private static final long serialVersionUID = 1L;

    /** Another process (a second Tollgate) holds the data folder's lock. */
    static final int DATA_IN_USE = 10;
    /** The device key in the data folder was created on another host (a copied install). */
    static final int KEY_FROM_ANOTHER_HOST = 11;
    /** A required component (endpoint, serving, usage journal, device key; the uplink with --mqtt) failed to start. */
    static final int COMPONENT_FAILED = 12;
    /** The required components were not all active within the start timeout. */
    static final int START_TIMEOUT = 13;
    /**
     * No firmware profile applies: an override names a missing profile, a profile file is malformed, or none matches
     * the box (docs/hardware.md, "Profiles").
     */
    static final int PROFILE = io.tollgate.tools.profile.ProfileCommand.NO_PROFILE_EXIT;

    StartFailure(int exitCode, String message) {
        super(exitCode, message);
    }
}
