package io.tollgate.serving.internal;

/**
 * Why a model plugin was refused. The message is complete and meant for the operator: it names the
 * plugin, the file or tensor at fault and what was expected ("plugin io.acme.x 1.0.0:
 * TOLLGATE-INF/model.json: field 'inputs[0].datatype' is 'FP33'; expected one of [...]").
 */
final class PluginException extends Exception {
    private static final long serialVersionUID = 1L;

    PluginException(String message) {
        super(message);
        this.awaitsLicense = false;
    }

    PluginException(String message, Throwable cause) {
        super(message, cause);
        this.awaitsLicense = false;
    }

    /** With {@code awaitsLicense}: another license may cure it (an encrypted model's key), so licensing changes retry. */
    PluginException(String message, Throwable cause, boolean awaitsLicense) {
        super(message, cause);
        this.awaitsLicense = awaitsLicense;
    }

    private final boolean awaitsLicense;

    /** True when a licensing change may cure it (see the constructor). */
    boolean awaitsLicense() {
        return awaitsLicense;
    }
}
