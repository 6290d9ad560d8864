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
    }

    PluginException(String message, Throwable cause) {
        super(message, cause);
    }
}
